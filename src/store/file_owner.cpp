#include "store/file_owner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>

#include "store/pending_file.hpp"

namespace mpisweep::store {
namespace {

using Json = nlohmann::json;
constexpr int kFormat = 2;
constexpr const char* kMagic = "mpisweep-owner";
// A record that cannot be parsed may be one being written: read it this often, this long.
constexpr int kReadTries = 5;
constexpr useconds_t kReadRetryUs = 20000;

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string errno_text(int error) {
    return std::string(std::strerror(error)) + " (errno " + std::to_string(error) + ")";
}

std::uint64_t fnv1a64(const std::string& text, std::size_t from) {
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = from; i < text.size(); ++i)
        h = (h ^ static_cast<unsigned char>(text[i])) * 1099511628211ull;
    return h;
}

// The JSON of a format-2 record, or of a format-1 one (no first line); nullopt when the
// first line's length or checksum does not match the rest (a rewrite caught halfway).
std::optional<std::string> record_json(const std::string& text) {
    if (text.compare(0, std::strlen(kMagic), kMagic) != 0) return text;
    const std::size_t newline = text.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    int format = 0;
    std::size_t length = 0;
    unsigned long long sum = 0;
    if (std::sscanf(text.c_str() + std::strlen(kMagic), " %d %zu %llx", &format, &length, &sum) != 3 ||
        format != kFormat || text.size() != newline + 1 + length || fnv1a64(text, newline + 1) != sum)
        return std::nullopt;
    return text.substr(newline + 1);
}

std::string first_line_of(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

std::string link_target(const std::string& path) {
    char buffer[256];
    const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer - 1);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

// Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and ')') of
// a running process; nullopt for none, or a zombie (dead, not yet reaped).
std::optional<std::uint64_t> process_start_of(std::int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) {
        if (!(fields >> field)) return std::nullopt;
        if (i == 3 && (field == "Z" || field == "X")) return std::nullopt;
    }
    try {
        return std::stoull(field);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string host_name() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
    return buffer;
}

std::string utc_text(double unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string new_token() {
    std::random_device device;
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%08x%08x", device(), device());
    return buffer;
}

OwnerRecord this_process() {
    OwnerRecord me;
    me.host = host_name();
    me.pid = ::getpid();
    me.boot_id = first_line_of("/proc/sys/kernel/random/boot_id");
    me.pid_namespace = link_target("/proc/self/ns/pid");
    me.process_start = process_start_of(me.pid).value_or(0);
    me.token = new_token();
    me.started = me.heartbeat = unix_now();
    return me;
}

// The record at `path` as it is now: nullopt when there is none; a record with an empty token
// when the file cannot be read as one even after a few tries (being written, or damaged).
std::optional<OwnerRecord> read_record(const std::string& path, double* modified = nullptr) {
    for (int attempt = 0;; ++attempt) {
        std::ifstream in(path);
        if (!in) return std::nullopt;
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (auto record = OwnerRecord::from_text(text)) return record;
        if (attempt + 1 >= kReadTries) {
            struct stat info {};
            if (modified && ::stat(path.c_str(), &info) == 0)
                *modified = static_cast<double>(info.st_mtim.tv_sec) +
                            1e-9 * static_cast<double>(info.st_mtim.tv_nsec);
            return OwnerRecord{};
        }
        ::usleep(kReadRetryUs);
    }
}

// Why the owner of `record` is gone, or "" when it may still be running.
std::string stale_reason(const OwnerRecord& record, const OwnerRecord& me, double modified,
                         const OwnershipOptions& options) {
    const double now = unix_now();
    const double limit = options.stale_after.count();
    if (record.token.empty()) {
        const double age = now - modified;
        if (age > limit)
            return "its owner record is damaged and was last written " + std::to_string(std::lround(age)) +
                   " s ago";
        return "";
    }
    const bool same_machine = record.host == me.host && !record.boot_id.empty() &&
                              record.boot_id == me.boot_id && !record.pid_namespace.empty() &&
                              record.pid_namespace == me.pid_namespace;
    if (same_machine) {
        if (record.pid == me.pid) return "";  // this very process holds it
        const std::optional<std::uint64_t> start = process_start_of(record.pid);
        if (!start || *start != record.process_start)
            return "pid " + std::to_string(record.pid) + " is no longer running on this host";
        return "";
    }
    const double age = now - record.heartbeat;
    if (age > limit) return "no heartbeat for more than " + std::to_string(std::lround(limit)) + " s";
    return "";
}

// Another program holds the HDF5 lock of the file (a writer without a record: an older
// mpisweep, h5py). Filesystems without flock cannot tell: no.
bool hdf5_lock_held(const std::string& results_path) {
    const int fd = ::open(results_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return false;
    const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);  // releases the test lock
    return held;
}

std::string in_use_message(const std::string& results_path, const std::string& owner) {
    return "'" + results_path + "' is in use by the sweep of " + owner +
           "; wait for that sweep to end, or, if it is gone, run again with --break-lock";
}

}  // namespace

std::string OwnerRecord::to_text() const {
    Json j;
    j["format"] = kFormat;
    j["host"] = host;
    j["pid"] = pid;
    j["boot_id"] = boot_id;
    j["pid_namespace"] = pid_namespace;
    j["process_start"] = process_start;
    j["token"] = token;
    j["started"] = started;
    j["started_utc"] = utc_text(started);
    j["heartbeat"] = heartbeat;
    std::string body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (live) body.insert(body.size() - 1, ",\"live\":" + live_to_json(*live));
    body += "\n";
    char header[96];
    std::snprintf(header, sizeof header, "%s %d %zu %016llx\n", kMagic, kFormat, body.size(),
                  static_cast<unsigned long long>(fnv1a64(body, 0)));
    return header + body;
}

std::optional<OwnerRecord> OwnerRecord::from_text(const std::string& text) {
    const std::optional<std::string> body = record_json(text);
    if (!body) return std::nullopt;
    const Json j = Json::parse(*body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    try {
        OwnerRecord r;
        r.host = j.at("host").get<std::string>();
        r.pid = j.at("pid").get<std::int64_t>();
        r.boot_id = j.value("boot_id", "");
        r.pid_namespace = j.value("pid_namespace", "");
        r.process_start = j.value("process_start", std::uint64_t{0});
        r.token = j.at("token").get<std::string>();
        r.started = j.value("started", 0.0);
        r.heartbeat = j.at("heartbeat").get<double>();
        if (j.contains("live")) r.live = live_from_json(j.at("live").dump());
        if (r.token.empty()) return std::nullopt;
        return r;
    } catch (const Json::exception&) {
        return std::nullopt;
    }
}

std::string OwnerRecord::describe(double now) const {
    if (token.empty()) return "an unknown process (its owner record cannot be read)";
    return "pid " + std::to_string(pid) + " on host " + host + " (started " + utc_text(started) +
           ", last heartbeat " + std::to_string(std::max<long>(0, std::lround(now - heartbeat))) + " s ago)";
}

std::string owner_path_of(const std::string& results_path) {
    return results_path + ".owner";
}

std::optional<OwnerRecord> read_owner(const std::string& results_path) {
    std::optional<OwnerRecord> record = read_record(owner_path_of(results_path));
    if (record && record->token.empty()) return std::nullopt;
    return record;
}

namespace {

// Creates the record with O_EXCL (atomic on local filesystems, NFS v3+ and Lustre): -1 with
// errno EEXIST when there is one already.
int create_record(const std::string& path, const OwnerRecord& me) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const std::string text = me.to_text();
    if (::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) || ::fsync(fd) != 0) {
        const int error = errno;
        ::close(fd);
        ::unlink(path.c_str());
        errno = error;
        return -2;
    }
    return fd;
}

// Moves a stale record out of the way, if it is still the one judged stale (`judged`: its
// token, "" for a damaged one). A record that changed meanwhile is put back. True: gone.
bool remove_stale_record(const std::string& path, const std::string& judged, const std::string& my_token) {
    const std::string aside = path + ".stale-" + my_token;
    if (::rename(path.c_str(), aside.c_str()) != 0) return errno == ENOENT;  // someone else did
    const std::optional<OwnerRecord> moved = read_record(aside);
    const bool same = moved && moved->token == judged;
    if (!same) (void)::link(aside.c_str(), path.c_str());  // fails only if a newer one is there
    ::unlink(aside.c_str());
    return same;
}

}  // namespace

std::unique_ptr<FileOwner> FileOwner::acquire(const std::string& results_path,
                                              const OwnershipOptions& options) {
    const std::string path = owner_path_of(results_path);
    OwnerRecord me = this_process();
    for (int round = 0; round < 20; ++round) {
        const int fd = create_record(path, me);
        if (fd >= 0) {
            std::unique_ptr<FileOwner> owner(new FileOwner(results_path, options, me, fd));
            if (hdf5_lock_held(results_path)) {
                owner->release();
                throw OwnedElsewhere("'" + results_path +
                                     "' is open in another program that holds its HDF5 file lock (an older "
                                     "mpisweep, h5py, an HDF5 tool); close that program, then run again");
            }
            return owner;
        }
        if (fd == -2 || errno != EEXIST) {
            const int error = errno;
            throw StoreError("cannot take '" + results_path +
                             "' for this sweep: cannot create its owner record '" + path +
                             "': " + errno_text(error) + "; the folder '" + folder_of(results_path) +
                             "' must be writable");
        }
        double modified = 0;
        const std::optional<OwnerRecord> record = read_record(path, &modified);
        if (!record) continue;  // it ended meanwhile
        const std::string stale = stale_reason(*record, me, modified, options);
        if (stale.empty() && !options.break_lock)
            throw OwnedElsewhere(in_use_message(results_path, record->describe(unix_now())));
        if (!remove_stale_record(path, record->token, me.token)) continue;
        if (options.note)
            options.note(std::string(stale.empty() ? "--break-lock: " : "") + "taking '" + results_path +
                         "' over from " + record->describe(unix_now()) + (stale.empty() ? "" : ": " + stale));
    }
    throw OwnedElsewhere(
        "'" + results_path + "': its owner record '" + path +
        "' keeps changing (several sweeps starting on it at once?); run one sweep at a time");
}

FileOwner::FileOwner(std::string results_path, OwnershipOptions options, OwnerRecord record, int fd)
    : results_path_(std::move(results_path)),
      path_(owner_path_of(results_path_)),
      options_(options),
      record_(std::move(record)),
      fd_(fd) {
    written_size_ = record_.to_text().size();
    last_beat_ns_ = steady_ns();
    thread_ = std::thread([this] { heartbeat_loop(); });
}

FileOwner::~FileOwner() {
    release();
}

void FileOwner::heartbeat_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    auto next_beat = std::chrono::steady_clock::now() + options_.heartbeat_interval;
    while (!stopping_ && !lost_) {
        wake_.wait_until(lock, std::chrono::time_point_cast<std::chrono::steady_clock::duration>(next_beat),
                         [this] { return stopping_ || live_due_; });
        if (stopping_) return;
        if (std::chrono::steady_clock::now() >= next_beat) {
            beat();
            next_beat = std::chrono::steady_clock::now() + options_.heartbeat_interval;
        } else {
            write_record();  // a new live view: the record as it is, no ownership read
        }
    }
}

// With mutex_ held.
void FileOwner::beat() {
    if (!record_is_mine()) {
        lost_ = true;
        return;
    }
    write_record();
    (void)::fsync(fd_);
    last_beat_ns_ = steady_ns();
}

// With mutex_ held. Through the descriptor of the record this run created: if another run
// took the file over, that inode was unlinked and the write reaches no one's record.
void FileOwner::write_record() {
    live_due_ = false;
    record_.heartbeat = unix_now();
    const std::string text = record_.to_text();
    // A failed write (disk full) is retried at the next one; the record stays as it was, or
    // torn, which readers see by its checksum.
    if (::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) return;
    if (text.size() < written_size_ && ::ftruncate(fd_, static_cast<off_t>(text.size())) != 0) return;
    written_size_ = text.size();
}

void FileOwner::publish(LiveSnapshot snapshot) {
    {
        // Never wait for a beat (a read, a write and an fsync, slow on a loaded parallel
        // filesystem): the master calls this; the next snapshot comes an interval later.
        std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
        if (!lock.owns_lock() || stopping_ || lost_) return;
        if (record_.live && record_.live->same_as(snapshot)) {
            record_.live->written = snapshot.written;  // goes out with the next beat
            return;
        }
        record_.live = std::move(snapshot);
        live_due_ = true;
    }
    wake_.notify_all();
}

bool FileOwner::record_is_mine() const {
    const std::optional<OwnerRecord> now = read_record(path_);
    return now && now->token == record_.token;
}

void FileOwner::check() {
    const auto late = std::chrono::duration<double>(options_.stale_after) / 2;
    const auto since_beat = std::chrono::nanoseconds(steady_ns() - last_beat_ns_.load());
    if (!lost_ && since_beat > late) {
        // This process was frozen (or its heartbeat thread starved) long enough for another
        // run to think it gone: look before writing.
        std::lock_guard<std::mutex> lock(mutex_);
        beat();
    }
    if (lost_) {
        const std::optional<OwnerRecord> other = read_owner(results_path_);
        throw StoreError("'" + results_path_ + "' was taken over by " +
                         (other ? other->describe(unix_now()) : std::string("another run")) +
                         " while this sweep was not responding; this sweep stops writing it");
    }
}

void FileOwner::release() noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (fd_ < 0) return;
    try {
        if (!lost_ && record_is_mine()) ::unlink(path_.c_str());
    } catch (...) {}
    ::close(fd_);
    fd_ = -1;
}

}  // namespace mpisweep::store
