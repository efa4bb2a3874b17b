#pragma once
// The deadline of a sweep (Options::deadline) from what a user writes: `auto` (the end of
// the batch job this runs in), an absolute time or a duration from now.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace mpisweep {

using WallTime = std::chrono::system_clock::time_point;

/// A deadline that cannot be understood; the message names the value and the accepted forms.
class DeadlineError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// "2025-06-01T18:30", "2025-06-01T18:30:00Z", "2025-06-01 18:30:00+02:00" (ISO 8601; no
/// offset: local time), "1748795400" (unix seconds), "+90s", "+45m", "+2h", "+1d", "+300"
/// (seconds). Returns nullopt for "auto" (see job_end_time()). Throws DeadlineError.
std::optional<WallTime> parse_deadline(const std::string& text, WallTime now);

struct JobEnd {
    WallTime at;
    std::string source;  ///< where it came from, e.g. "Slurm job 42 (squeue)"
};

/// The end of the batch job this process runs in: SLURM_JOB_END_TIME, else `squeue -h -j
/// $SLURM_JOB_ID -o %e`; under PBS/Torque, PBS_WALLTIME (seconds or [[HH:]MM:]SS) after the
/// job's start from `qstat -f $PBS_JOBID`. nullopt when none is known (no job, or a job
/// without a time limit); `why` then says what was looked at.
std::optional<JobEnd> job_end_time(std::string* why = nullptr);

}  // namespace mpisweep
