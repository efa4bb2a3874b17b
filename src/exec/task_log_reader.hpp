#pragma once
// Reading the output streams of a log folder back (format: task_log_format.hpp): every
// attempt of one task, across the workers and the runs that wrote it, and its output.
// Works while the sweep still writes: a torn last header is skipped, and a frame whose
// bytes are missing (a node that crashed before its page cache reached the disk) gives
// what there is.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "exec/task_log_format.hpp"

namespace mpisweep::detail {

struct LoggedChunk {
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
};

/// One attempt as its worker recorded it.
struct LoggedAttempt {
    StreamHeader writer;                 ///< run, rank, host of the worker that ran it
    std::string data_path;               ///< the file its output is in
    int attempt_in_run = 1;              ///< as the scheduler numbered it in its run
    double start = 0;                    ///< unix seconds
    std::optional<IndexEntry> end;       ///< nullopt: no End entry (still running, or its worker died)
    std::vector<LoggedChunk> chunks[2];  ///< stdout, stderr
    std::uint64_t bytes[2] = {0, 0};
};

struct TaskLog {
    /// In the order they ran: runs by their start, attempts within a run by number. The
    /// position + 1 is the attempt's number across runs (`mpisweep log --attempt K`).
    std::vector<LoggedAttempt> attempts;
    /// Stream files that could not be read (path: why); the others are still read.
    std::vector<std::string> unreadable;
};

/// Every attempt of `task` in the streams of `log_dir` (and in the two-file streams of
/// older versions). Reads every stream's frame headers, skipping the bytes of output
/// between them. Throws std::runtime_error when the folder cannot be listed.
TaskLog read_task_log(const std::string& log_dir, std::uint64_t task);

/// Writes one stream of an attempt to `out`. Returns how many of its bytes are missing
/// from the data file (0 normally).
std::uint64_t copy_output(const LoggedAttempt& attempt, EntryKind stream, std::ostream& out);

/// "done", "failed (exit code 3)", "timed out (signal 15 (SIGTERM))", "cancelled",
/// "did not start", "no end recorded (running, or its worker stopped)".
std::string describe_attempt_end(const LoggedAttempt& attempt);

}  // namespace mpisweep::detail
