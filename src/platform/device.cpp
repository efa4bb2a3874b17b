#include "platform/device.hpp"

#include <sstream>
#include <stdexcept>
#include <string>

namespace mpisweep {

int choose_device(int local_worker_index, const std::vector<int>& devices, int slots_per_gpu) {
    if (devices.empty() || local_worker_index < 0 || slots_per_gpu < 1) return -1;
    const auto n = static_cast<long long>(devices.size());
    if (local_worker_index >= n * slots_per_gpu) return -1;  // every slot taken: CPU
    return devices[static_cast<std::size_t>(local_worker_index % n)];
}

std::vector<int> available_devices(const DeviceOptions& options) {
    if (options.cpu_only) return {};
    const int present = cuda_device_count();
    // No GPU here (a login node, a CPU partition): CPU mode even with an explicit list.
    if (present == 0) return {};
    if (options.devices.empty()) {
        std::vector<int> all(static_cast<std::size_t>(present));
        for (int i = 0; i < present; ++i) all[static_cast<std::size_t>(i)] = i;
        return all;
    }
    for (int d : options.devices) {
        if (d < 0 || d >= present) {
            throw std::invalid_argument("device " + std::to_string(d) + ": expected a CUDA ordinal in 0.." +
                                        std::to_string(present - 1) + " (this node reports " +
                                        std::to_string(present) + " device(s))");
        }
    }
    return options.devices;
}

std::string visible_device_name(int device, const char* cuda_visible_devices) {
    if (device < 0) return "";
    if (cuda_visible_devices == nullptr || *cuda_visible_devices == '\0') {
        return std::to_string(device);
    }
    std::stringstream list(cuda_visible_devices);
    std::string item;
    for (int i = 0; std::getline(list, item, ','); ++i) {
        if (i == device) return item;
    }
    return std::to_string(device);
}

}  // namespace mpisweep
