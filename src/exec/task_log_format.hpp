#pragma once
// The task output streams on disk: per worker process and run, one data file holding the
// stdout and stderr of its tasks as they came (chunks, appended) and one index file saying
// which bytes belong to which task, attempt and stream. No file per task, so a sweep of 10^6
// tasks makes 2 files per worker on the shared filesystem, not 2 x 10^6.
//
//   <log dir>/<run>.rank-<r>.log   raw output, chunk after chunk (readable with less/grep)
//   <log dir>/<run>.rank-<r>.idx   a 128-byte header, then 48-byte entries
//
// An entry is written after the data it points to, so a worker killed at any moment leaves
// an index whose entries all point at written data, and at worst a torn last entry (a size
// that is not a whole number of entries, or a bad checksum): the reader ignores it.
// All integers are little-endian (x86-64 and aarch64 both are; the file says so by its magic).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mpisweep::detail {

inline constexpr char kIndexMagic[8] = {'M', 'P', 'S', 'W', 'I', 'D', 'X', '1'};
inline constexpr std::uint32_t kIndexVersion = 1;
inline constexpr std::size_t kIndexHeaderSize = 128;
inline constexpr std::size_t kIndexEntrySize = 48;
inline constexpr std::size_t kIndexNameSize = 48;  ///< run name and host, NUL-padded

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

struct IndexEntry {
    std::uint64_t task = 0;
    std::int32_t attempt = 1;  ///< within its run, as the scheduler counts them
    EntryKind kind = EntryKind::End;
    AttemptEnd end = AttemptEnd::Done;  ///< End entries only
    std::uint64_t offset = 0;           ///< chunks: where the bytes start in the data file
    std::uint32_t length = 0;           ///< chunks: how many
    std::int32_t exit_code = 0;         ///< End entries: exit status, -signal
    double start = 0;                   ///< unix seconds when the attempt started
    float wall_s = 0;                   ///< End entries: how long it ran
};

std::string encode_header(const StreamHeader& header);
/// Nullopt unless `bytes` (kIndexHeaderSize of them) is a header this version reads.
std::optional<StreamHeader> decode_header(const char* bytes);

/// kIndexEntrySize bytes, the last four a checksum of the others.
void encode_entry(const IndexEntry& entry, char* out);
/// Nullopt when the checksum does not match (a torn or zeroed entry) or the kind is unknown.
std::optional<IndexEntry> decode_entry(const char* bytes);

/// "<run>.rank-<rank>": the common stem of a stream's two files.
std::string stream_stem(const std::string& run, int rank);
inline constexpr const char* kDataSuffix = ".log";
inline constexpr const char* kIndexSuffix = ".idx";

/// A run name from a start time and a few random bits: run-20240501T123456Z-3fa2.
std::string make_run_name(double unix_seconds, std::uint32_t random_bits);

}  // namespace mpisweep::detail
