#pragma once
// The progress line on rank 0's stderr: `[done/total] failed F, running R, ETA 1m05s`.
// Refreshed in place on a terminal, one line per interval in a batch log.
#include <cstdint>
#include <iosfwd>
#include <string>

#include "schedule/scheduler.hpp"

namespace mpisweep {

/// `[12/40] failed 1, running 4, 3.1 tasks/s, ETA 9s`. The ETA extrapolates the rate of
/// this run (tasks settled since `start`, not those found done in the file); "ETA ?" until
/// one task settled.
std::string format_progress(const SchedulerCounts& counts, std::uint64_t settled_at_start, Seconds elapsed);

/// "45s", "3m07s", "2h05m".
std::string format_duration(Seconds s);

class ProgressReporter {
public:
    /// interval <= 0: silent. `in_place`: rewrite one line with '\r' (a terminal).
    ProgressReporter(std::ostream& out, Seconds interval, bool in_place, Seconds start,
                     std::uint64_t settled_at_start);
    void maybe_report(const SchedulerCounts& counts, Seconds now);
    /// The last line, always printed (when not silent), ending the in-place line.
    void finish(const SchedulerCounts& counts, Seconds now);

private:
    std::ostream& out_;
    Seconds interval_, start_, last_ = 0;
    bool in_place_;
    std::uint64_t settled_at_start_;
    std::size_t last_width_ = 0;
};

}  // namespace mpisweep
