#include "exec/command_capture.hpp"

#include <stdexcept>

#include "platform/clock.hpp"

namespace mpisweep::detail {
namespace {

// A chunk is written once this much of one stream waits, or once its oldest byte is this old.
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr double kChunkAge = 1.0;

std::string_view trim_trailing_space(std::string_view s) {
    const auto end = s.find_last_not_of(" \t\r\n\f\v");
    return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

}  // namespace

void StreamTail::add(std::string_view data) {
    if (keep_ == 0) {
        cut_ = cut_ || !data.empty();
        return;
    }
    if (data.size() >= keep_) {
        cut_ = cut_ || data.size() > keep_ || !buffer_.empty();
        buffer_.assign(data.substr(data.size() - keep_));
        return;
    }
    buffer_.append(data);
    // Trim in bulk, not on every piece: at most 2 x keep held.
    if (buffer_.size() > 2 * keep_) {
        buffer_.erase(0, buffer_.size() - keep_);
        cut_ = true;
    }
}

std::string_view StreamTail::text() const {
    std::string_view all = buffer_;
    if (all.size() > keep_) {
        return all.substr(all.size() - keep_);
    }
    return all;
}

AttemptCapture::AttemptCapture(TaskLogWriter& stream, AttemptKey key, const std::string& per_task_stem,
                               std::size_t stdout_keep, std::size_t stderr_keep)
    : stream_(stream), key_(key), tails_{StreamTail(stdout_keep), StreamTail(stderr_keep)} {
    if (per_task_stem.empty()) return;
    const char* suffixes[2] = {".out", ".err"};
    for (int i = 0; i < 2; ++i) {
        const std::string path = per_task_stem + suffixes[i];
        files_[i].emplace(path, std::ios::binary | std::ios::trunc);
        if (!*files_[i]) throw std::runtime_error("cannot create per-task log '" + path + "'");
    }
}

void AttemptCapture::on_output(int stream, const char* data, std::size_t size) {
    const int i = stream == 2 ? 1 : 0;
    const std::string_view piece(data, size);
    tails_[i].add(piece);
    if (files_[i]) files_[i]->write(data, static_cast<std::streamsize>(size)).flush();
    if (pending_[0].empty() && pending_[1].empty()) pending_since_ = monotonic_seconds();
    pending_[i].append(piece);
    if (pending_[i].size() >= kChunkBytes) flush();
}

void AttemptCapture::tick() {
    if ((!pending_[0].empty() || !pending_[1].empty()) && monotonic_seconds() - pending_since_ >= kChunkAge) {
        flush();
    }
}

void AttemptCapture::flush() {
    if (pending_[0].empty() && pending_[1].empty()) return;
    stream_.append(key_.task, key_.attempt, key_.start,
                   {{EntryKind::Stdout, pending_[0]}, {EntryKind::Stderr, pending_[1]}});
    pending_[0].clear();
    pending_[1].clear();
    wrote_ = true;
}

void AttemptCapture::finish(AttemptEnd end, int exit_code, double wall_s) {
    // An attempt that printed nothing and succeeded, or was cancelled (a speculative copy that
    // lost, a drain), leaves no trace in the stream: the results file has the winner's row
    // (when, where, how long), and a sweep of silent tasks makes no stream file at all.
    // Failures, time-outs and programs that did not start are kept: `mpisweep log` says why.
    const bool silent = !wrote_ && pending_[0].empty() && pending_[1].empty();
    if (silent && (end == AttemptEnd::Done || end == AttemptEnd::Cancelled)) return;
    IndexEntry entry;
    entry.task = key_.task;
    entry.attempt = key_.attempt;
    entry.kind = EntryKind::End;
    entry.end = end;
    entry.exit_code = exit_code;
    entry.start = key_.start;
    entry.wall_s = static_cast<float>(wall_s);
    // The last chunks and the End entry in one write each.
    stream_.append(key_.task, key_.attempt, key_.start,
                   {{EntryKind::Stdout, pending_[0]}, {EntryKind::Stderr, pending_[1]}}, &entry);
    pending_[0].clear();
    pending_[1].clear();
}

std::string last_lines(std::string_view text, bool cut, std::size_t max_lines) {
    if (cut) {
        // Started mid-line: drop the partial first line if there is a later one.
        const auto newline = text.find('\n');
        if (newline != std::string_view::npos) text.remove_prefix(newline + 1);
    }
    text = trim_trailing_space(text);
    if (max_lines == 0) return "";
    std::size_t begin = text.size();
    std::size_t lines = 0;
    while (begin > 0) {
        const auto newline = text.rfind('\n', begin - 1);  // the end of the line before
        ++lines;
        if (newline == std::string_view::npos) {
            begin = 0;
        } else if (lines == max_lines) {
            begin = newline + 1;
        } else {
            begin = newline;
            continue;
        }
        break;
    }
    return std::string(text.substr(begin));
}

std::string last_nonempty_line(std::string_view text) {
    text = trim_trailing_space(text);
    const auto newline = text.find_last_of('\n');
    return std::string(newline == std::string_view::npos ? text : text.substr(newline + 1));
}

}  // namespace mpisweep::detail
