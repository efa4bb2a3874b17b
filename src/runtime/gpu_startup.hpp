#pragma once
// The GPU part of the collective start-up: each worker finds its node's GPUs (the GPU
// backend: NVML, CUDA, or fake GPUs; nothing bound yet), rank 0 plans from all of them (the
// nodes by host, caps, bound GPUs of task functions, what workers without a GPU do; or a CPU
// sweep when no node has a GPU), and each worker learns its part: its GPUs when it runs task
// functions (bound before setup), whether it reads its node's free memory for the master.
#include <boost/mpi/communicator.hpp>
#include <memory>
#include <optional>
#include <string>

#include "mpisweep/mpisweep.hpp"
#include "platform/gpu_backend.hpp"
#include "platform/gpu_watch.hpp"
#include "runtime/master_gpus.hpp"
#include "runtime/worker.hpp"

namespace mpisweep {

struct GpuStartup {
    // A worker rank.
    std::unique_ptr<GpuBackend> backend;
    std::optional<GpuWatch> watch;
    WorkerGpus worker;  ///< its GPUs and watch, when the sweep is a GPU sweep
    bool gpu_sweep = false;
    std::string warning;  ///< for rank 0's observer: the job gave GPUs that no backend sees
    std::string error;    ///< binding the worker's GPU failed: it takes no tasks
    // Rank 0.
    std::optional<MasterGpus> master;  ///< a GPU sweep's placement
};

/// Collective over `comm`. Fills `info` (node_gpus; devices of a worker of task functions,
/// bound with cudaSetDevice when options.devices.bind_cuda) and `out`. Returns false when the
/// device options cannot work on these nodes: rank 0 told the observer (one line), and every
/// rank returns kExitUsage before anything is created.
bool start_gpus(const boost::mpi::communicator& comm, const Grid& grid, const Options& options,
                WorkerInfo& info, bool is_worker, GpuStartup& out);

}  // namespace mpisweep
