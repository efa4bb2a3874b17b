#include "exec/task_log_format.hpp"

#include <cstring>
#include <ctime>

namespace mpisweep::detail {
namespace {

template <class T>
void put(char*& at, T value) {
    std::memcpy(at, &value, sizeof value);
    at += sizeof value;
}

template <class T>
T get(const char*& at) {
    T value;
    std::memcpy(&value, at, sizeof value);
    at += sizeof value;
    return value;
}

void put_name(char*& at, const std::string& name) {
    std::memset(at, 0, kIndexNameSize);
    std::memcpy(at, name.data(), std::min(name.size(), kIndexNameSize - 1));
    at += kIndexNameSize;
}

std::string get_name(const char*& at) {
    const std::string name(at, strnlen(at, kIndexNameSize));
    at += kIndexNameSize;
    return name;
}

// FNV-1a over the entry's fields. Never 0 for 44 zero bytes, so a zeroed tail fails it.
std::uint32_t checksum(const char* bytes, std::size_t size) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 16777619u;
    return h;
}

}  // namespace

std::string encode_header(const StreamHeader& header) {
    std::string out(kIndexHeaderSize, '\0');
    char* at = out.data();
    std::memcpy(at, kIndexMagic, sizeof kIndexMagic);
    at += sizeof kIndexMagic;
    put<std::uint32_t>(at, kIndexVersion);
    put<std::uint32_t>(at, static_cast<std::uint32_t>(kIndexHeaderSize));
    put<double>(at, header.run_start);
    put<std::int32_t>(at, header.rank);
    put<std::int32_t>(at, header.pid);
    put_name(at, header.run);
    put_name(at, header.host);
    return out;
}

std::optional<StreamHeader> decode_header(const char* bytes) {
    if (std::memcmp(bytes, kIndexMagic, sizeof kIndexMagic) != 0) return std::nullopt;
    const char* at = bytes + sizeof kIndexMagic;
    if (get<std::uint32_t>(at) != kIndexVersion) return std::nullopt;
    if (get<std::uint32_t>(at) != kIndexHeaderSize) return std::nullopt;
    StreamHeader header;
    header.run_start = get<double>(at);
    header.rank = get<std::int32_t>(at);
    header.pid = get<std::int32_t>(at);
    header.run = get_name(at);
    header.host = get_name(at);
    return header;
}

void encode_entry(const IndexEntry& e, char* out) {
    char* at = out;
    put<std::uint64_t>(at, e.task);
    put<std::int32_t>(at, e.attempt);
    put<std::uint8_t>(at, static_cast<std::uint8_t>(e.kind));
    put<std::uint8_t>(at, static_cast<std::uint8_t>(e.end));
    put<std::uint16_t>(at, 0);
    put<std::uint64_t>(at, e.offset);
    put<std::uint32_t>(at, e.length);
    put<std::int32_t>(at, e.exit_code);
    put<double>(at, e.start);
    put<float>(at, e.wall_s);
    put<std::uint32_t>(at, checksum(out, kIndexEntrySize - 4));
}

std::optional<IndexEntry> decode_entry(const char* bytes) {
    const char* check_at = bytes + kIndexEntrySize - 4;
    if (get<std::uint32_t>(check_at) != checksum(bytes, kIndexEntrySize - 4)) return std::nullopt;
    const char* at = bytes;
    IndexEntry e;
    e.task = get<std::uint64_t>(at);
    e.attempt = get<std::int32_t>(at);
    const auto kind = get<std::uint8_t>(at);
    const auto end = get<std::uint8_t>(at);
    at += 2;
    if (kind < 1 || kind > 3 || end > 4) return std::nullopt;
    e.kind = static_cast<EntryKind>(kind);
    e.end = static_cast<AttemptEnd>(end);
    e.offset = get<std::uint64_t>(at);
    e.length = get<std::uint32_t>(at);
    e.exit_code = get<std::int32_t>(at);
    e.start = get<double>(at);
    e.wall_s = get<float>(at);
    return e;
}

std::string stream_stem(const std::string& run, int rank) {
    return run + ".rank-" + std::to_string(rank);
}

std::string make_run_name(double unix_seconds, std::uint32_t random_bits) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[40];
    std::strftime(text, sizeof text, "run-%Y%m%dT%H%M%SZ", &utc);
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "-%04x", random_bits & 0xffffu);
    return std::string(text) + suffix;
}

}  // namespace mpisweep::detail
