#include "exec/task_log_reader.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "exec/file_read.hpp"
#include "exec/task_log_legacy.hpp"
#include "platform/child_process.hpp"
#include "platform/unique_fd.hpp"

namespace mpisweep::detail {
namespace {

namespace fs = std::filesystem;

// A stream file read front to back through a window, refilled by one pread where asked:
// headers are read in bulk, a chunk's bytes are skipped without reading them.
class Window {
public:
    explicit Window(int fd) : fd_(fd), buffer_(kBytes, '\0') {}
    // The bytes from `offset` on (at least `want` when the file has them, fewer at its end).
    std::string_view at(std::uint64_t offset, std::size_t want) {
        if (offset < base_ || offset + want > base_ + size_) {
            const ssize_t n = read_at(fd_, buffer_.data(), buffer_.size(), offset);
            if (n < 0) throw std::runtime_error(std::strerror(errno));
            base_ = offset;
            size_ = static_cast<std::size_t>(n);
        }
        return std::string_view(buffer_).substr(offset - base_, size_ - (offset - base_));
    }

private:
    static constexpr std::size_t kBytes = 1 << 16;
    int fd_;
    std::string buffer_;
    std::uint64_t base_ = 0;
    std::size_t size_ = 0;
};

// The line at the start of `bytes`, without its newline; nullopt when no newline comes
// within kMaxHeaderLine bytes (a torn header, or not a header at all).
std::optional<std::string_view> header_line(std::string_view bytes) {
    const auto newline = bytes.substr(0, kMaxHeaderLine).find('\n');
    if (newline == std::string_view::npos) return std::nullopt;
    return bytes.substr(0, newline);
}

// The attempts of `task` in one stream file, keyed by their number in the run. Stops at the
// first thing that is not a whole frame: the torn end of a stream that was cut short (or is
// being written now).
void scan_stream(const std::string& path, std::uint64_t task, std::map<int, LoggedAttempt>& found,
                 LoggedAttempt& prototype) {
    const UniqueFd fd = UniqueFd::open_read(path);
    if (fd.get() < 0) throw std::runtime_error(std::strerror(errno));
    Window window(fd.get());
    const std::string_view start = window.at(0, kMaxHeaderLine);
    const auto first = header_line(start);
    // A file made a moment ago, its first line not written yet: no frames yet.
    if (!first && start.size() < kMaxHeaderLine) return;
    const auto header = first ? decode_stream_header(*first) : std::nullopt;
    if (!header) throw std::runtime_error("not an mpisweep output stream of this version");
    prototype.writer = *header;
    for (std::uint64_t at = first->size() + 1;;) {
        const auto line = header_line(window.at(at, kMaxHeaderLine));
        if (!line) return;
        std::optional<IndexEntry> entry = decode_frame_header(*line);
        if (!entry) return;
        const std::uint64_t data = at + line->size() + 1;
        at = data;
        bool cut = false;  // fewer bytes than the header says: the last frame
        if (entry->kind != EntryKind::End && entry->length > 0) {
            // Past the bytes, and the newline after them when they lack one.
            const std::string_view rest = window.at(data + entry->length - 1, 1 + kMaxHeaderLine);
            cut = rest.empty();
            at = data + entry->length + (cut || rest.front() == '\n' ? 0 : 1);
        }
        if (entry->task == task) {
            entry->offset = data;
            add_entry(found, prototype, *entry);
        }
        if (cut) return;
    }
}

}  // namespace

void add_entry(std::map<int, LoggedAttempt>& found, const LoggedAttempt& prototype, const IndexEntry& entry) {
    auto [it, added] = found.try_emplace(entry.attempt, prototype);
    LoggedAttempt& a = it->second;
    if (added) {
        a.attempt_in_run = entry.attempt;
        a.start = entry.start;
    }
    if (entry.kind == EntryKind::End) {
        a.end = entry;
    } else {
        const int s = entry.kind == EntryKind::Stderr ? 1 : 0;
        a.chunks[s].push_back({entry.offset, entry.length});
        a.bytes[s] += entry.length;
    }
}

TaskLog read_task_log(const std::string& log_dir, std::uint64_t task) {
    std::error_code ec;
    fs::directory_iterator it(log_dir, ec), end;
    if (ec) throw std::runtime_error("cannot list log folder '" + log_dir + "': " + ec.message());
    std::vector<std::string> streams;
    std::set<std::string> indexed;  // stems of the older streams, whose .log is raw output
    for (; it != end; it.increment(ec)) {
        if (ec) throw std::runtime_error("cannot list log folder '" + log_dir + "': " + ec.message());
        const fs::path& p = it->path();
        if (p.extension() == legacy::kIndexSuffix) indexed.insert((p.parent_path() / p.stem()).string());
        if (p.extension() == legacy::kIndexSuffix || p.extension() == kStreamSuffix)
            streams.push_back(p.string());
    }
    std::sort(streams.begin(), streams.end());
    TaskLog log;
    for (const std::string& path : streams) {
        const std::string stem = path.substr(0, path.rfind('.'));
        const bool old_index = path.size() - stem.size() == std::strlen(legacy::kIndexSuffix) &&
                               path.compare(stem.size(), std::string::npos, legacy::kIndexSuffix) == 0;
        if (!old_index && indexed.count(stem) > 0) continue;  // the data of an older stream
        std::map<int, LoggedAttempt> found;
        LoggedAttempt prototype;
        prototype.data_path = stem + kStreamSuffix;
        try {
            if (old_index) {
                legacy::scan_index(path, task, found, prototype);
            } else {
                scan_stream(path, task, found, prototype);
            }
        } catch (const std::exception& e) {
            log.unreadable.push_back(path + ": " + e.what());
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
    const UniqueFd fd = UniqueFd::open_read(attempt.data_path);
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
