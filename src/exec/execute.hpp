#pragma once
// Runs one copy of a task in this process and turns whatever happens into a TaskReport: a
// result, a thrown exception (a failed attempt, never a dead rank), or a cancellation.
#include <functional>

#include "exec/task_report.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"
#include "platform/clock.hpp"

namespace mpisweep {

/// When a copy starts: a reading of the worker's clock the caller already has, and the wall
/// clock time from it. Each reading costs ~20 ns here: three per task were a third of a
/// Python worker's time at 2M empty tasks/s (bench/README.md).
struct TaskStart {
    double steady;  ///< the worker's clock (`clock` below)
    double unix;    ///< seconds since the epoch
};

/// `clock` measures the report's wall_s from `start.steady` (the worker's clock: a fake one
/// in tests).
TaskReport execute_task(const TaskFunction& task, const Grid& grid, TaskId id, int attempt,
                        const WorkerInfo& worker, const std::function<bool()>& cancel_check, TaskStart start,
                        const Clock& clock = SteadyClock::instance());

}  // namespace mpisweep
