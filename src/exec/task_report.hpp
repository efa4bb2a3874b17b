#pragma once
// What running one copy of a task gives: its outcome, timing and results (or error).
#include <cstdint>
#include <limits>
#include <string>

#include "mpisweep/ids.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep {

/// Infrastructure: the worker could not run the copy for a reason outside the task (a log
/// folder it cannot write, a full disk): not an attempt, and the worker is not healthy.
enum class Outcome : std::uint8_t { Done = 0, Failed = 1, Cancelled = 2, Infrastructure = 3 };
constexpr std::uint8_t kLastOutcome = 3;

/// What a worker says about one copy it ran or dropped.
struct TaskReport {
    TaskId task;
    int attempt = 1;
    Outcome outcome = Outcome::Done;
    /// On the worker's clock, in seconds (ReportBatch turns it into unix seconds); NaN: the
    /// copy never started.
    double start = std::numeric_limits<double>::quiet_NaN();
    double wall_s = 0;
    int exit_code = 0;
    std::string error;
    TaskResult results;
};

}  // namespace mpisweep
