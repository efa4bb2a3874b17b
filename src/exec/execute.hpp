#pragma once
// Runs one copy of a task in this process and turns whatever happens into a TaskReport: a
// result, a thrown exception (a failed attempt, never a dead rank), or a cancellation.
#include <functional>

#include "exec/task_report.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"
#include "platform/clock.hpp"

namespace mpisweep {

/// `clock` measures the report's wall_s (the worker's clock: a fake one in tests).
TaskReport execute_task(const TaskFunction& task, const Grid& grid, TaskId id, int attempt,
                        const WorkerInfo& worker, const std::function<bool()>& cancel_check,
                        const Clock& clock = SteadyClock::instance());

}  // namespace mpisweep
