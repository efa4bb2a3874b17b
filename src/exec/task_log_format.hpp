#pragma once
// The task output streams on disk: per worker process and run, ONE file holding the stdout
// and stderr of its tasks as they came, each chunk preceded by a one-line header saying
// whose bytes follow and how many. No file per task and no index beside it, so a sweep of
// 10^6 tasks makes 1 file per worker on the shared filesystem, and `less`, `grep` and
// `tail -f` on it show the output with the headers between:
//
//   <log dir>/<run>.rank-<r>.log
//
//   @@ mpisweep stream 2 run <run> run_start <unix s> rank <r> pid <pid> host <host> @@
//   @@ mpisweep task 7 attempt 1 stdout 12 bytes start <unix s> @@
//   <12 bytes of output>[\n when they did not end with one]
//   @@ mpisweep task 7 attempt 1 end failed exit 3 wall 0.25 start <unix s> @@
//
// The first line names the writer; then frames, appended: a chunk header and its bytes, or
// an end line (done, failed, cancelled, timed-out, not-started). A header line is at most
// kMaxHeaderLine bytes, starts at a line start (the newline after bytes that lack one makes
// sure) and is found by its length alone, never by searching: output that contains such a
// line cannot confuse the reader. A writer killed at any moment leaves whole frames and at
// worst a torn last one (a header without its newline, or fewer bytes than it says): the
// reader gives what there is. Older folders hold two files per stream (task_log_legacy.hpp).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpisweep::detail {

inline constexpr int kStreamVersion = 2;  ///< 1: the binary index beside the data (legacy)
inline constexpr std::size_t kMaxHeaderLine = 512;

/// Who wrote a stream: one worker process in one run.
struct StreamHeader {
    /// The run's name, the same in every file of one `mpisweep run` (it names the files);
    /// empty when the writer knew no run name (then attempts are ordered by their start).
    std::string run;
    double run_start = 0;  ///< unix seconds when the run began (the same in every file of a run)
    std::int32_t rank = 0;
    std::int32_t pid = 0;
    std::string host;
};

enum class EntryKind : std::uint8_t { Stdout = 1, Stderr = 2, End = 3 };

/// How an attempt ended (End entries).
enum class AttemptEnd : std::uint8_t { Done = 0, Failed = 1, Cancelled = 2, TimedOut = 3, NotStarted = 4 };

/// One frame: a chunk of output, or the end of an attempt.
struct IndexEntry {
    std::uint64_t task = 0;
    std::int32_t attempt = 1;  ///< within its run, as the scheduler counts them
    EntryKind kind = EntryKind::End;
    AttemptEnd end = AttemptEnd::Done;  ///< End entries only
    std::uint64_t offset = 0;           ///< chunks: where the bytes start in the stream file
    std::uint32_t length = 0;           ///< chunks: how many
    std::int32_t exit_code = 0;         ///< End entries: exit status, -signal
    double start = 0;                   ///< unix seconds when the attempt started
    float wall_s = 0;                   ///< End entries: how long it ran
};

/// The stream's first line, newline included. Whitespace in the run or host name becomes '_'.
std::string encode_stream_header(const StreamHeader& header);
/// `line` without its newline. Nullopt unless it is a stream header of this version.
std::optional<StreamHeader> decode_stream_header(std::string_view line);

/// A chunk's header or an end line (by entry.kind), newline included, into `out` (at least
/// kMaxHeaderLine bytes); returns its length. `offset` is not written: it follows from where
/// the frame is.
std::size_t encode_frame_header(const IndexEntry& entry, char* out);
/// `line` without its newline. Nullopt unless it is a frame header. The entry's offset is 0.
std::optional<IndexEntry> decode_frame_header(std::string_view line);
/// The task id of a frame header, without decoding the rest (most frames are another task's).
std::optional<std::uint64_t> frame_task(std::string_view line);

/// "<run>.rank-<rank>": the stem of a stream's file.
std::string stream_stem(const std::string& run, int rank);
inline constexpr const char* kStreamSuffix = ".log";

/// A run name from a start time and a few random bits: run-20240501T123456Z-3fa2.
std::string make_run_name(double unix_seconds, std::uint32_t random_bits);

}  // namespace mpisweep::detail
