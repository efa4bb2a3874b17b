#pragma once
// The one checked wrapper around CUDA runtime calls: a failure throws CudaError carrying the
// routine, the code and CUDA's own message.
#include <stdexcept>
#include <string>

namespace mpisweep {

class CudaError : public std::runtime_error {
public:
    CudaError(const char* routine, int code, const std::string& message)
        : std::runtime_error(std::string(routine) + " failed with CUDA error " + std::to_string(code) + ": " +
                             message),
          code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

}  // namespace mpisweep

#define MPISWEEP_CUDA_CHECK(call)                                                       \
    do {                                                                                \
        const cudaError_t mpisweep_cuda_status_ = (call);                               \
        if (mpisweep_cuda_status_ != cudaSuccess) {                                     \
            throw ::mpisweep::CudaError(#call, static_cast<int>(mpisweep_cuda_status_), \
                                        cudaGetErrorString(mpisweep_cuda_status_));     \
        }                                                                               \
    } while (0)
