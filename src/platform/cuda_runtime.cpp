// Built when the CUDA toolkit is found. Linked with the static runtime, which loads the
// driver at run time: with no driver or no GPU, cudaGetDeviceCount fails and we run on CPU.
#include <cuda_runtime_api.h>

#include "platform/cuda_check.hpp"
#include "platform/device.hpp"

namespace mpisweep {

bool built_with_cuda() {
    return true;
}

int cuda_device_count() {
    int count = 0;
    // Any error here ("driver version is insufficient", "no device") means: no GPU.
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky error state
        return 0;
    }
    return count;
}

void bind_cuda_device(int device) {
    if (device < 0) return;
    MPISWEEP_CUDA_CHECK(cudaSetDevice(device));
}

}  // namespace mpisweep
