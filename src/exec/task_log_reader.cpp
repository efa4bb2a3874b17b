#include "exec/task_log_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <tuple>

#include "platform/child_process.hpp"

namespace mpisweep::detail {
namespace {

namespace fs = std::filesystem;

// Index files are read in blocks of this many entries.
constexpr std::size_t kBlockEntries = 1 << 16;

class ReadFd {
public:
    explicit ReadFd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~ReadFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    ReadFd(const ReadFd&) = delete;
    ReadFd& operator=(const ReadFd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// Reads up to `size` bytes at `offset`; fewer at the end of the file. -1 on an error.
ssize_t read_at(int fd, char* out, std::size_t size, std::uint64_t offset) {
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(got);
}

// The attempts of `task` in one index file, keyed by their number in the run.
void scan_index(const std::string& index_path, std::uint64_t task, std::map<int, LoggedAttempt>& found,
                LoggedAttempt& prototype) {
    ReadFd fd(index_path);
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
            if (!entry) continue;
            auto [it, added] = found.try_emplace(entry->attempt, prototype);
            LoggedAttempt& a = it->second;
            if (added) {
                a.attempt_in_run = entry->attempt;
                a.start = entry->start;
            }
            if (entry->kind == EntryKind::End) {
                a.end = entry;
            } else {
                const int s = entry->kind == EntryKind::Stderr ? 1 : 0;
                a.chunks[s].push_back({entry->offset, entry->length});
                a.bytes[s] += entry->length;
            }
        }
        if (static_cast<std::size_t>(n) < block.size()) break;
        at += whole * kIndexEntrySize;
    }
}

}  // namespace

TaskLog read_task_log(const std::string& log_dir, std::uint64_t task) {
    std::error_code ec;
    fs::directory_iterator it(log_dir, ec), end;
    if (ec) throw std::runtime_error("cannot list log folder '" + log_dir + "': " + ec.message());
    TaskLog log;
    std::vector<std::string> index_files;
    for (; it != end; it.increment(ec)) {
        if (ec) throw std::runtime_error("cannot list log folder '" + log_dir + "': " + ec.message());
        const fs::path& p = it->path();
        if (p.extension() == kIndexSuffix) index_files.push_back(p.string());
    }
    std::sort(index_files.begin(), index_files.end());
    for (const std::string& index_path : index_files) {
        std::map<int, LoggedAttempt> found;
        LoggedAttempt prototype;
        prototype.data_path =
            index_path.substr(0, index_path.size() - std::strlen(kIndexSuffix)) + kDataSuffix;
        try {
            scan_index(index_path, task, found, prototype);
        } catch (const std::exception& e) {
            log.unreadable.push_back(index_path + ": " + e.what());
            continue;
        }
        for (auto& [number, attempt] : found) log.attempts.push_back(std::move(attempt));
    }
    // A named run's attempts follow its start and their number; an attempt of an unnamed
    // run (each process its own) sits at its own start time.
    auto key = [](const LoggedAttempt& a) {
        const bool named = !a.writer.run.empty();
        return std::make_tuple(named ? a.writer.run_start : a.start, named ? a.writer.run : std::string(),
                               named ? a.attempt_in_run : 0, a.start);
    };
    std::stable_sort(log.attempts.begin(), log.attempts.end(),
                     [&](const LoggedAttempt& x, const LoggedAttempt& y) { return key(x) < key(y); });
    return log;
}

std::uint64_t copy_output(const LoggedAttempt& attempt, EntryKind stream, std::ostream& out) {
    const auto& chunks = attempt.chunks[stream == EntryKind::Stderr ? 1 : 0];
    std::uint64_t missing = 0;
    if (chunks.empty()) return 0;
    ReadFd fd(attempt.data_path);
    std::string buffer;
    for (const LoggedChunk& chunk : chunks) {
        buffer.resize(chunk.length);
        const ssize_t n = fd.get() < 0 ? 0 : read_at(fd.get(), buffer.data(), chunk.length, chunk.offset);
        const std::size_t got = n < 0 ? 0 : static_cast<std::size_t>(n);
        out.write(buffer.data(), static_cast<std::streamsize>(got));
        missing += chunk.length - got;
    }
    return missing;
}

std::string describe_attempt_end(const LoggedAttempt& attempt) {
    if (!attempt.end) return "no end recorded (running, or its worker stopped)";
    const IndexEntry& e = *attempt.end;
    switch (e.end) {
        case AttemptEnd::Done:
            return "done";
        case AttemptEnd::Failed:
            return e.exit_code == 0 ? "failed (bad results)" : "failed (" + describe_exit(e.exit_code) + ")";
        case AttemptEnd::Cancelled:
            return "cancelled";
        case AttemptEnd::TimedOut:
            return "timed out (" + describe_exit(e.exit_code) + ")";
        case AttemptEnd::NotStarted:
            return "did not start";
    }
    return "?";
}

}  // namespace mpisweep::detail
