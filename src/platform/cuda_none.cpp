// Built when no CUDA toolkit was found: every worker runs on CPU.
#include <stdexcept>
#include <string>

#include "platform/device.hpp"
#include "platform/gpu_backend.hpp"

namespace mpisweep {

bool built_with_cuda() {
    return false;
}
int cuda_device_count() {
    return 0;
}
void bind_cuda_device(int device) {
    if (device >= 0) {
        throw std::invalid_argument("device " + std::to_string(device) +
                                    ": this mpisweep was built without CUDA");
    }
}

int cuda_ordinal_of(const std::string&) {
    return -1;
}

std::unique_ptr<GpuBackend> open_cuda_backend() {
    return nullptr;
}

}  // namespace mpisweep
