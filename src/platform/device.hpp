#pragma once
// GPU binding. The mapping from a worker's node-local index to a device is a pure function,
// tested with given GPU counts; the CUDA calls live in one source file built only with CUDA.
#include <string>
#include <vector>

#include "mpisweep/options.hpp"

namespace mpisweep {

/// The device of the worker with index `local_worker_index` among the workers of its node
/// (master excluded): round-robin over `devices`, at most `slots_per_gpu` workers each;
/// -1 (CPU) when there is no device or every slot is taken.
int choose_device(int local_worker_index, const std::vector<int>& devices, int slots_per_gpu);

/// Number of CUDA devices the runtime reports (it honours CUDA_VISIBLE_DEVICES); 0 when the
/// build has no CUDA, there is no driver, or any CUDA error occurs. Never throws.
int cuda_device_count();

/// Binds the calling process to `device` with cudaSetDevice. Throws CudaError (routine,
/// code, CUDA's message) if that fails. Does nothing for -1.
void bind_cuda_device(int device);

/// The devices to use on this node: options.devices if given, else 0..cuda_device_count()-1;
/// nothing when cpu_only. Throws std::invalid_argument for an explicit ordinal that is
/// negative or beyond the devices present, naming it.
std::vector<int> available_devices(const DeviceOptions& options);

/// The CUDA_VISIBLE_DEVICES entry that runtime ordinal `device` stands for: the device-th
/// item of `cuda_visible_devices` when set, else the ordinal itself. "" for -1.
std::string visible_device_name(int device, const char* cuda_visible_devices);

/// True when this build was compiled with CUDA support.
bool built_with_cuda();

}  // namespace mpisweep
