#include "exec/task_log_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <type_traits>

namespace mpisweep::detail {
namespace {

constexpr std::size_t kMaxName = 128;  // run and host names in the stream header, at most
const char* const kEndNames[] = {"done", "failed", "cancelled", "timed-out", "not-started"};

// A name as one token: whitespace (and nothing at all) would split or shift the fields.
std::string token(const std::string& name) {
    if (name.empty()) return "-";
    std::string out = name.substr(0, kMaxName);
    for (char& c : out)
        if (static_cast<unsigned char>(c) <= ' ') c = '_';
    return out;
}

// A header's words; no header has more than 15 (then `size` says 16: not a header).
struct Words {
    std::array<std::string_view, 16> word;
    std::size_t count = 0;
    std::size_t size() const { return count; }
    std::string_view operator[](std::size_t i) const { return word[i]; }
    std::string_view back() const { return word[count - 1]; }
};

Words split(std::string_view line) {
    Words out;
    while (!line.empty() && out.count < out.word.size()) {
        const auto space = line.find(' ');
        out.word[out.count++] = line.substr(0, space);
        if (space == std::string_view::npos) break;
        line.remove_prefix(space + 1);
    }
    return out;
}

template <class T>
bool number(std::string_view text, T& value) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool fields_are(const Words& t, std::initializer_list<std::pair<std::size_t, const char*>> want) {
    for (const auto& [at, word] : want)
        if (t[at] != word) return false;
    return true;
}

}  // namespace

std::string encode_stream_header(const StreamHeader& h) {
    char line[kMaxHeaderLine];
    const int n = std::snprintf(
        line, sizeof line, "@@ mpisweep stream %d run %s run_start %.6f rank %d pid %d host %s @@\n",
        kStreamVersion, token(h.run).c_str(), h.run_start, h.rank, h.pid, token(h.host).c_str());
    return std::string(line, static_cast<std::size_t>(n));
}

std::optional<StreamHeader> decode_stream_header(std::string_view line) {
    const auto t = split(line);
    if (t.size() != 15 || !fields_are(t, {{0, "@@"},
                                          {1, "mpisweep"},
                                          {2, "stream"},
                                          {4, "run"},
                                          {6, "run_start"},
                                          {8, "rank"},
                                          {10, "pid"},
                                          {12, "host"},
                                          {14, "@@"}})) {
        return std::nullopt;
    }
    int version = 0;
    StreamHeader h;
    if (!number(t[3], version) || version != kStreamVersion || !number(t[7], h.run_start) ||
        !number(t[9], h.rank) || !number(t[11], h.pid)) {
        return std::nullopt;
    }
    h.run = t[5] == "-" ? std::string() : std::string(t[5]);
    h.host = t[13] == "-" ? std::string() : std::string(t[13]);
    return h;
}

namespace {

// Builds a header line in a caller's buffer with to_chars: snprintf's "%f" cost ~4,000
// instructions per number (callgrind), a tenth of a task's own work in the worker.
class Line {
public:
    explicit Line(char* out) : begin_(out), at_(out), end_(out + kMaxHeaderLine) {}
    Line& operator<<(std::string_view text) {
        const std::size_t n = std::min(text.size(), static_cast<std::size_t>(end_ - at_));
        std::memcpy(at_, text.data(), n);
        at_ += n;
        return *this;
    }
    template <class T, class = std::enable_if_t<std::is_integral_v<T>>>
    Line& operator<<(T number) {
        at_ = std::to_chars(at_, end_, number).ptr;
        return *this;
    }
    Line& fixed(double value, int digits) {
        at_ = std::to_chars(at_, end_, value, std::chars_format::fixed, digits).ptr;
        return *this;
    }
    std::size_t size() const { return static_cast<std::size_t>(at_ - begin_); }

private:
    char* begin_;
    char* at_;
    char* end_;
};

}  // namespace

std::size_t encode_frame_header(const IndexEntry& e, char* out) {
    Line line(out);
    line << "@@ mpisweep task " << e.task << " attempt " << e.attempt;
    if (e.kind == EntryKind::End) {
        line << " end " << kEndNames[static_cast<int>(e.end)] << " exit " << e.exit_code << " wall ";
        line.fixed(static_cast<double>(e.wall_s), 3);
    } else {
        line << (e.kind == EntryKind::Stderr ? " stderr " : " stdout ") << e.length << " bytes";
    }
    line << " start ";
    line.fixed(e.start, 6) << " @@\n";
    return line.size();
}

std::optional<std::uint64_t> frame_task(std::string_view line) {
    constexpr std::string_view prefix = "@@ mpisweep task ";
    if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
    line.remove_prefix(prefix.size());
    std::uint64_t task = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), task);
    if (ec != std::errc() || end == line.data() || end == line.data() + line.size() || *end != ' ')
        return std::nullopt;
    return task;
}

std::optional<IndexEntry> decode_frame_header(std::string_view line) {
    const auto t = split(line);
    if ((t.size() != 12 && t.size() != 15) ||
        !fields_are(t, {{0, "@@"}, {1, "mpisweep"}, {2, "task"}, {4, "attempt"}}) || t.back() != "@@" ||
        t[t.size() - 3] != "start") {
        return std::nullopt;
    }
    IndexEntry e;
    if (!number(t[3], e.task) || !number(t[5], e.attempt) || !number(t[t.size() - 2], e.start))
        return std::nullopt;
    if (t.size() == 12) {
        if ((t[6] != "stdout" && t[6] != "stderr") || t[8] != "bytes" || !number(t[7], e.length))
            return std::nullopt;
        e.kind = t[6] == "stderr" ? EntryKind::Stderr : EntryKind::Stdout;
        return e;
    }
    if (!fields_are(t, {{6, "end"}, {8, "exit"}, {10, "wall"}}) || !number(t[9], e.exit_code) ||
        !number(t[11], e.wall_s)) {
        return std::nullopt;
    }
    e.kind = EntryKind::End;
    for (int k = 0; k < 5; ++k) {
        if (t[7] == kEndNames[k]) {
            e.end = static_cast<AttemptEnd>(k);
            return e;
        }
    }
    return std::nullopt;
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
