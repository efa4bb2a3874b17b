#pragma once
// The output streams of mpisweep before session 5 (read only, for older results folders):
// per worker and run, a data file `<run>.rank-<r>.log` of raw output and an index file
// `<run>.rank-<r>.idx` (a 128-byte header, then 48-byte entries: task, attempt, stream,
// offset, length, or how an attempt ended; the last 4 bytes of each a checksum). A torn or
// zeroed entry fails its checksum and is skipped. All integers little-endian.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "exec/task_log_format.hpp"
#include "exec/task_log_reader.hpp"

namespace mpisweep::detail {

/// Adds `entry` (of the task looked for) to its attempt in `found`, made from `prototype`
/// when it is the attempt's first entry. Shared by the readers of both formats.
void add_entry(std::map<int, LoggedAttempt>& found, const LoggedAttempt& prototype, const IndexEntry& entry);

}  // namespace mpisweep::detail

namespace mpisweep::detail::legacy {

inline constexpr char kIndexMagic[8] = {'M', 'P', 'S', 'W', 'I', 'D', 'X', '1'};
inline constexpr std::uint32_t kIndexVersion = 1;
inline constexpr std::size_t kIndexHeaderSize = 128;
inline constexpr std::size_t kIndexEntrySize = 48;
inline constexpr std::size_t kIndexNameSize = 48;  ///< run name and host, NUL-padded
inline constexpr const char* kIndexSuffix = ".idx";

std::string encode_header(const StreamHeader& header);
/// Nullopt unless `bytes` (kIndexHeaderSize of them) is a header this version reads.
std::optional<StreamHeader> decode_header(const char* bytes);

/// kIndexEntrySize bytes, the last four a checksum of the others (for tests: writing old
/// streams).
void encode_entry(const IndexEntry& entry, char* out);
/// Nullopt when the checksum does not match (a torn or zeroed entry) or the kind is unknown.
std::optional<IndexEntry> decode_entry(const char* bytes);

/// The attempts of `task` in one index file, keyed by their number in the run, each a copy
/// of `prototype` (its data_path set) with the index's writer. Throws std::runtime_error
/// saying why the file cannot be read.
void scan_index(const std::string& index_path, std::uint64_t task, std::map<int, LoggedAttempt>& found,
                LoggedAttempt& prototype);

}  // namespace mpisweep::detail::legacy
