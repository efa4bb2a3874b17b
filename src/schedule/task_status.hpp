#pragma once
// The settled state of a task, shared by the scheduler and the results file.
#include <cstdint>

namespace mpisweep {

/// The state of a task as stored in /tasks/status.
enum class TaskStatus : std::int8_t { Pending = 0, Done = 1, Failed = 2 };

}  // namespace mpisweep
