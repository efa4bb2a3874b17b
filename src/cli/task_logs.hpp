#pragma once
// A task's recorded attempts, as `mpisweep log --list` and `mpisweep show` print them.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "exec/task_log_reader.hpp"

namespace mpisweep::cli {

/// "attempt 2: run run-20240501T123456Z-3fa2 #1, rank 3 on node1, 2024-05-01 12:34:56 UTC,
/// failed (exit code 3) after 1.2s; stdout 120 B, stderr 3.4 kB": one line per attempt.
std::vector<std::string> describe_attempts(const detail::TaskLog& log);

/// For `show`: "output (mpisweep log FILE --task N [--attempt K] [--stderr]):" and one line
/// per attempt, from the default log folder; nothing when it holds none of the task's.
void print_task_logs(std::ostream& out, const std::string& results_path, std::uint64_t task);

/// "1.2 kB", "340 B".
std::string byte_count(std::uint64_t bytes);

}  // namespace mpisweep::cli
