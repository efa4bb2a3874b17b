#pragma once
// What one attempt of a command writes to stdout and stderr, as it arrives from the pipes:
// appended to the worker's stream (in chunks of up to 64 KiB, at least once a second, so a
// killed worker loses at most the last second), copied to per-task files when asked, and the
// ends of both streams kept in memory for the error text and --stdout-json.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "exec/task_log_writer.hpp"

namespace mpisweep::detail {

/// The last bytes of a stream, at most `keep` (and at least `keep` once that many came).
class StreamTail {
public:
    explicit StreamTail(std::size_t keep = 0) : keep_(keep) {}
    void add(std::string_view data);
    std::string_view text() const;
    /// True when bytes before text() were dropped.
    bool cut() const { return cut_ || buffer_.size() > keep_; }
    bool empty() const { return buffer_.empty(); }

private:
    std::size_t keep_;
    std::string buffer_;
    bool cut_ = false;
};

/// The attempt being captured.
struct AttemptKey {
    std::uint64_t task = 0;
    int attempt = 1;
    double start = 0;  ///< unix seconds
};

class AttemptCapture {
public:
    /// `per_task_stem`: non-empty to also write <stem>.out and <stem>.err (created now).
    /// `stdout_keep`, `stderr_keep`: how much of each stream's end to keep in memory.
    AttemptCapture(TaskLogWriter& stream, AttemptKey key, const std::string& per_task_stem,
                   std::size_t stdout_keep, std::size_t stderr_keep);

    /// A piece of stream 1 (stdout) or 2 (stderr), as the program wrote it.
    void on_output(int stream, const char* data, std::size_t size);
    /// Writes out what has waited for a second or more; call now and then while the program runs.
    void tick();
    /// Writes out everything left and the attempt's End entry (none for an attempt that
    /// printed nothing and succeeded or was cancelled). Throws like TaskLogWriter.
    void finish(AttemptEnd end, int exit_code, double wall_s);

    const StreamTail& stdout_tail() const { return tails_[0]; }
    const StreamTail& stderr_tail() const { return tails_[1]; }

private:
    void flush();

    TaskLogWriter& stream_;
    AttemptKey key_;
    std::string pending_[2];
    double pending_since_ = 0;  ///< monotonic seconds of the oldest pending byte
    bool wrote_ = false;        ///< some of this attempt's output is in the stream
    StreamTail tails_[2];
    std::optional<std::ofstream> files_[2];
};

/// The end of `text` as an error message shows it: at most `max_lines` whole lines, trailing
/// blank lines dropped; when `cut` (bytes before `text` are missing) its first, partial line
/// is dropped unless it is the only one.
std::string last_lines(std::string_view text, bool cut, std::size_t max_lines);

/// The last line of `text` that is not blank, without its newline; "" when there is none.
std::string last_nonempty_line(std::string_view text);

}  // namespace mpisweep::detail
