#include "exec/task_log_legacy.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "exec/file_read.hpp"
#include "platform/unique_fd.hpp"

namespace mpisweep::detail::legacy {
namespace {

// Index files are read in blocks of this many entries.
constexpr std::size_t kBlockEntries = 1 << 16;

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

void scan_index(const std::string& index_path, std::uint64_t task, std::map<int, LoggedAttempt>& found,
                LoggedAttempt& prototype) {
    const UniqueFd fd = UniqueFd::open_read(index_path);
    if (fd.get() < 0) throw std::runtime_error(std::strerror(errno));
    char header_bytes[kIndexHeaderSize];
    if (read_at(fd.get(), header_bytes, kIndexHeaderSize, 0) != static_cast<ssize_t>(kIndexHeaderSize)) {
        throw std::runtime_error("shorter than its header");
    }
    const std::optional<StreamHeader> header = decode_header(header_bytes);
    if (!header) throw std::runtime_error("not an mpisweep output index of this version");
    prototype.writer = *header;
    std::string block(kBlockEntries * kIndexEntrySize, '\0');
    for (std::uint64_t at = kIndexHeaderSize;;) {
        const ssize_t n = read_at(fd.get(), block.data(), block.size(), at);
        if (n < 0) throw std::runtime_error(std::strerror(errno));
        const std::size_t whole = static_cast<std::size_t>(n) / kIndexEntrySize;  // a torn tail is left
        for (std::size_t i = 0; i < whole; ++i) {
            const char* bytes = block.data() + i * kIndexEntrySize;
            std::uint64_t id;
            std::memcpy(&id, bytes, sizeof id);
            if (id != task) continue;  // most entries: no decoding
            const std::optional<IndexEntry> entry = decode_entry(bytes);
            if (entry) add_entry(found, prototype, *entry);
        }
        if (static_cast<std::size_t>(n) < block.size()) break;
        at += whole * kIndexEntrySize;
    }
}

}  // namespace mpisweep::detail::legacy
