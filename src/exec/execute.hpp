#pragma once
// Runs one copy of a task in this process and turns whatever happens into a TaskReport: a
// result, a thrown exception (a failed attempt, never a dead rank), or a cancellation.
#include <functional>

#include "exec/task_report.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"
#include "platform/clock.hpp"

namespace mpisweep {

/// `start`: when the copy starts, a reading of `clock` (the worker's clock: a fake one in tests)
/// the caller already has. Each reading costs ~20 ns here: three per task were a third of a
/// Python worker's time at 2M empty tasks/s (bench/README.md). The report's start is `start`,
/// its wall_s measured from it on `clock`.
TaskReport execute_task(const TaskFunction& task, const Grid& grid, TaskId id, int attempt,
                        const WorkerInfo& worker, const std::function<bool()>& cancel_check, double start,
                        const Clock& clock = SteadyClock::instance());

}  // namespace mpisweep
