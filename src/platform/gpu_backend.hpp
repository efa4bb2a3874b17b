#pragma once
// The GPUs of this node as seen by a backend chosen at run time, without creating a CUDA
// context where it can: NVML (loaded with dlopen; the driver ships it), else the CUDA runtime
// (which initializes CUDA in the calling process), else none. MPISWEEP_FAKE_GPUS replaces
// them all with declared GPUs for tests (gpu_fake.hpp).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/byte_size.hpp"

namespace mpisweep {

struct GpuDevice {
    /// Position in this process's list of GPUs: the CUDA ordinal of a process that sees the
    /// job's CUDA_VISIBLE_DEVICES (and what {device} and /tasks/device show).
    int ordinal = 0;
    /// What a child's CUDA_VISIBLE_DEVICES names this GPU by: the job's own entry when it set
    /// the variable, else the GPU's UUID where known, else its index on the node.
    std::string visible_id;
    std::string uuid;  ///< "GPU-..." where the backend knows it
    std::string name;  ///< the model, where known
    Bytes total = 0;
    Bytes free = 0;  ///< when devices() or free_memory() was last called
};

/// GPU memory one process holds on one GPU (NVML's per-process accounting).
struct GpuProcessMemory {
    int ordinal = 0;
    long pid = 0;
    Bytes bytes = 0;
};

class GpuBackend {
public:
    virtual ~GpuBackend() = default;
    virtual std::string name() const = 0;  ///< "nvml", "cuda", "fake" or "none"
    /// Whether querying this backend initialized CUDA in this process (then a
    /// CUDA_VISIBLE_DEVICES set later no longer applies to it).
    virtual bool initializes_cuda() const { return false; }
    /// This process's GPUs (the job's CUDA_VISIBLE_DEVICES applied) with their memory now.
    virtual std::vector<GpuDevice> devices() = 0;
    /// Free bytes of each GPU of devices(), in the same order, measured now.
    virtual std::vector<Bytes> free_memory() = 0;
    /// The memory each process holds on these GPUs now; nullopt when the backend cannot
    /// tell (the CUDA runtime cannot).
    virtual std::optional<std::vector<GpuProcessMemory>> process_memory() = 0;
};

/// What the choice of a backend depends on, read from the process by from_process() and
/// given explicitly by tests.
struct GpuEnvironment {
    bool cpu_only = false;                       ///< never touch a GPU: the "none" backend
    std::optional<std::string> fake_gpus;        ///< MPISWEEP_FAKE_GPUS
    std::optional<std::string> fake_dir;         ///< MPISWEEP_FAKE_GPU_DIR
    std::optional<std::string> visible_devices;  ///< CUDA_VISIBLE_DEVICES
    std::string host;                            ///< this node's host name

    static GpuEnvironment from_process(bool cpu_only);
};

/// The backend for `env`: fake when MPISWEEP_FAKE_GPUS is set, none when cpu_only, else
/// NVML when libnvidia-ml loads and initializes, else the CUDA runtime when this build has it
/// and it reports a device, else none. Throws std::invalid_argument for a fake spec that
/// does not parse.
std::unique_ptr<GpuBackend> open_gpu_backend(const GpuEnvironment& env);

/// NVML, or nullptr when libnvidia-ml.so.1 is not there or does not initialize (gpu_nvml.cpp).
std::unique_ptr<GpuBackend> open_nvml_backend(const std::optional<std::string>& visible_devices);
/// The CUDA runtime, or nullptr when this build has none or it reports no device
/// (cuda_runtime.cpp, cuda_none.cpp).
std::unique_ptr<GpuBackend> open_cuda_backend();

/// One GPU of a node before CUDA_VISIBLE_DEVICES is applied.
struct NodeGpu {
    std::string uuid;  ///< may be empty
    std::string name;
    Bytes total = 0;
};

/// The GPUs a process sees given the node's GPUs and CUDA_VISIBLE_DEVICES, as CUDA applies
/// it: unset, every GPU; set, the listed ones in the listed order (an index, or a UUID or
/// its unique prefix), stopping at the first entry that names none (so "" and "NoDevFiles"
/// mean no GPU). Returns indices into `node` with the entry each was named by ("" when unset).
struct VisibleGpu {
    std::size_t index = 0;
    std::string entry;
};
std::vector<VisibleGpu> apply_visible_devices(const std::vector<NodeGpu>& node,
                                              const std::optional<std::string>& visible_devices);

/// The devices of `node` that apply_visible_devices() leaves, numbered 0..k-1, each with the
/// id a child's CUDA_VISIBLE_DEVICES should name it by. Free memory is set to the total.
std::vector<GpuDevice> visible_gpu_devices(const std::vector<NodeGpu>& node,
                                           const std::optional<std::string>& visible_devices);

}  // namespace mpisweep
