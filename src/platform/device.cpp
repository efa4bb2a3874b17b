#include "platform/device.hpp"

#include <sstream>
#include <string>

namespace mpisweep {

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
