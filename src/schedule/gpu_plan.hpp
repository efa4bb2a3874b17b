#pragma once
// From what each worker found on its node at the start and the device options to the GPU
// gate of the sweep: nodes grouped by host, each GPU's cap, the GPUs of workers that run task
// functions, what workers without a GPU do, and every combination that cannot work refused
// before anything runs. No MPI; the runtime gathers the inventories.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mpisweep/ids.hpp"
#include "mpisweep/options.hpp"
#include "schedule/gpu_gate.hpp"

namespace mpisweep {

/// What a worker found on its node (its CUDA_VISIBLE_DEVICES applied), in its hello.
struct WorkerInventory {
    WorkerId worker;
    std::string host;
    std::string backend;  ///< "nvml", "cuda", "fake" or "none"
    std::vector<Bytes> total, free;
    bool per_process = false;  ///< the backend tells each process's memory (learning needs it)
};

struct GpuPlan {
    /// nullopt: no node has a usable GPU, the sweep runs on CPU as it always did.
    std::optional<GpuGate> gate;
    /// Workers that run task functions: the node GPUs bound to each (empty: none).
    std::map<int, std::vector<int>> bound;
    /// The node index of each worker (for memory reports), and each node's host.
    std::map<int, int> node_of;
    std::vector<std::string> hosts;
    /// Lines worth telling the user (workers that wait or run on CPU, and why).
    std::vector<std::string> notices;
};

/// Throws std::invalid_argument, one line naming the option and what to do, for what cannot
/// work here: a device or --gpu-slots ordinal no node has, more GPUs per task than a node
/// has, a declared size above every GPU, learning without per-process memory, GPU options
/// (or --no-gpu error) where no node has a GPU, a worker without a GPU under --no-gpu error.
/// `in_process`: tasks are functions run in the worker (bound GPUs), not commands.
/// `declared`: a task's own memory (from options.memory_of, which the caller evaluates on the
/// task's point); where it gives none, options.memory applies.
GpuPlan plan_gpus(const DeviceOptions& options, const std::vector<WorkerInventory>& workers, bool in_process,
                  GpuGate::DeclaredMemory declared);

}  // namespace mpisweep
