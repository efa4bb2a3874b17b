#pragma once
// A sweep on a single rank: its master and its worker take turns on this thread over a
// LocalNetwork, the same loops as on many ranks (no branch of theirs knows the difference).
#include <functional>
#include <vector>

#include "runtime/master.hpp"
#include "runtime/worker.hpp"

namespace mpisweep {

/// A GPU sweep's placement and the worker's GPUs (both null in a CPU sweep).
struct InProcessGpus {
    MasterGpus* master = nullptr;
    const WorkerGpus* worker = nullptr;
};

/// Runs the sweep with rank 0 as master and as its only worker; returns the ExitCode.
/// `abort` ends the job (MPI_Abort) when the master must (a second signal).
int run_in_process(const Grid& grid, const TaskFunction& task, const Options& options, ResultStore& store,
                   Scheduler& scheduler, std::vector<WorkerSlot> slots, const WorkerInfo& info,
                   std::function<void(int)> abort, InProcessGpus gpus = {});

}  // namespace mpisweep
