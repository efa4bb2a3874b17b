#pragma once
// The CUDA runtime calls of a worker: whether CUDA is there, and binding the process to one
// GPU (task functions). They live in one source file built only with CUDA (cuda_runtime.cpp;
// cuda_none.cpp otherwise). Which GPUs exist and how much memory they have is the GPU
// backend's business (gpu_backend.hpp), which needs no CUDA context.
#include <string>

namespace mpisweep {

/// Number of CUDA devices the runtime reports (it honours CUDA_VISIBLE_DEVICES); 0 when the
/// build has no CUDA, there is no driver, or any CUDA error occurs. Never throws. Initializes
/// CUDA in the calling process.
int cuda_device_count();

/// Binds the calling process to `device` with cudaSetDevice. Throws CudaError (routine,
/// code, CUDA's message) if that fails. Does nothing for -1.
void bind_cuda_device(int device);

/// The CUDA ordinal (in this process's view) of the GPU with this UUID ("GPU-..."), -1 when
/// none has it or there is no CUDA: NVML and CUDA may number the same GPUs differently.
int cuda_ordinal_of(const std::string& uuid);

/// The CUDA_VISIBLE_DEVICES entry that runtime ordinal `device` stands for: the device-th
/// item of `cuda_visible_devices` when set, else the ordinal itself. "" for -1.
std::string visible_device_name(int device, const char* cuda_visible_devices);

/// True when this build was compiled with CUDA support.
bool built_with_cuda();

}  // namespace mpisweep
