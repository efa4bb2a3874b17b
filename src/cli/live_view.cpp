#include "cli/live_view.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace mpisweep::cli {
namespace {

using nlohmann::json;

constexpr const char* kMagic = "mpisweep-live";
constexpr int kVersion = 1;
// A rewrite takes microseconds; a reader that catches one tries again this often.
constexpr int kReadTries = 10;
constexpr auto kReadRetry = std::chrono::milliseconds(20);

std::uint64_t fnv1a64(const std::string& text, std::size_t from) {
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = from; i < text.size(); ++i)
        h = (h ^ static_cast<unsigned char>(text[i])) * 1099511628211ull;
    return h;
}

json copy_json(const LiveCopy& c) {
    return {{"task", c.task}, {"attempt", c.attempt}, {"worker", c.worker},
            {"host", c.host}, {"device", c.device},   {"speculative", c.speculative},
            {"sent", c.sent}, {"started", c.started}};
}

LiveCopy copy_from(const json& j) {
    LiveCopy c;
    c.task = j.at("task").get<std::uint64_t>();
    c.attempt = j.at("attempt").get<int>();
    c.worker = j.at("worker").get<int>();
    c.host = j.at("host").get<std::string>();
    c.device = j.at("device").get<int>();
    c.speculative = j.at("speculative").get<bool>();
    c.sent = j.at("sent").get<double>();
    c.started = j.at("started").get<double>();
    return c;
}

}  // namespace

std::string live_path_of(const std::string& results_path) {
    return results_path + ".live";
}

std::string encode_live(const LiveSnapshot& s) {
    json copies = json::array();
    for (const LiveCopy& c : s.copies) copies.push_back(copy_json(c));
    json workers = json::array();
    for (const LiveWorker& w : s.stopped_workers) {
        workers.push_back(
            {{"rank", w.rank}, {"host", w.host}, {"state", w.state}, {"since", w.since}, {"why", w.why}});
    }
    const json body = {{"written", s.written},
                       {"interval", s.interval},
                       {"host", s.host},
                       {"pid", s.pid},
                       {"run", s.run},
                       {"total", s.total},
                       {"done", s.done},
                       {"failed", s.failed},
                       {"workers", s.workers},
                       {"copies", copies},
                       {"stopped_workers", workers}};
    const std::string text = body.dump() + "\n";
    char header[96];
    std::snprintf(header, sizeof header, "%s %d %zu %016llx\n", kMagic, kVersion, text.size(),
                  static_cast<unsigned long long>(fnv1a64(text, 0)));
    return header + text;
}

std::optional<LiveSnapshot> decode_live(const std::string& bytes) {
    const auto newline = bytes.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    char magic[32] = {};
    int version = 0;
    std::size_t length = 0;
    unsigned long long sum = 0;
    if (std::sscanf(bytes.substr(0, newline).c_str(), "%31s %d %zu %llx", magic, &version, &length, &sum) !=
            4 ||
        std::string(magic) != kMagic || version != kVersion || bytes.size() != newline + 1 + length ||
        fnv1a64(bytes, newline + 1) != sum) {
        return std::nullopt;
    }
    try {
        const json j = json::parse(bytes.substr(newline + 1));
        LiveSnapshot s;
        s.written = j.at("written").get<double>();
        s.interval = j.at("interval").get<double>();
        s.host = j.at("host").get<std::string>();
        s.pid = j.at("pid").get<std::int64_t>();
        s.run = j.at("run").get<std::string>();
        s.total = j.at("total").get<std::uint64_t>();
        s.done = j.at("done").get<std::uint64_t>();
        s.failed = j.at("failed").get<std::uint64_t>();
        s.workers = j.at("workers").get<int>();
        for (const json& c : j.at("copies")) s.copies.push_back(copy_from(c));
        for (const json& w : j.at("stopped_workers")) {
            s.stopped_workers.push_back({w.at("rank").get<int>(), w.at("host").get<std::string>(),
                                         w.at("state").get<std::string>(), w.at("since").get<double>(),
                                         w.at("why").get<std::string>()});
        }
        return s;
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

std::optional<LiveSnapshot> read_live(const std::string& results_path, std::string* why) {
    const std::string path = live_path_of(results_path);
    for (int attempt = 0; attempt < kReadTries; ++attempt) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            if (why) *why = "no live view '" + path + "'";
            return std::nullopt;
        }
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (auto snapshot = decode_live(bytes.str())) return snapshot;
        std::this_thread::sleep_for(kReadRetry);
    }
    if (why) *why = "live view '" + path + "' cannot be read (damaged, or of another version)";
    return std::nullopt;
}

LiveFile::LiveFile(std::string results_path) : path_(live_path_of(results_path)) {}

LiveFile::~LiveFile() {
    remove();
}

bool LiveFile::write(const LiveSnapshot& snapshot) {
    if (fd_ < 0) {
        // Not O_EXCL: the view of a run that was killed is stale, and this run's replaces it.
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) return false;
        size_ = static_cast<std::size_t>(-1);  // unknown: truncate after the first write
    }
    const std::string bytes = encode_live(snapshot);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    if (bytes.size() < size_ && ::ftruncate(fd_, static_cast<off_t>(bytes.size())) != 0) return false;
    size_ = bytes.size();
    return true;
}

void LiveFile::remove() noexcept {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
}

}  // namespace mpisweep::cli
