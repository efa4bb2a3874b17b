#include "store/background_sync.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace mpisweep::store {

BackgroundSync::~BackgroundSync() {
    if (!thread_.joinable()) return;
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return !busy_; });
        quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

bool BackgroundSync::start(int file, int journal) {
    {
        std::lock_guard lock(mutex_);
        if (busy_) return false;
        if (!thread_.joinable()) {
            try {
                thread_ = std::thread([this] { serve(); });
            } catch (const std::system_error&) {
                // No thread to be had: the fsync here, waiting for the disk.
                if (auto failure = carry_out(Request{file, journal}); failure && !failure_)
                    failure_ = failure;
                return true;
            }
        }
        busy_ = true;
        request_ = Request{file, journal};
    }
    changed_.notify_all();
    return true;
}

bool BackgroundSync::due_by_pace(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    return !busy_ && now - last_end_ >= last_took_;
}

void BackgroundSync::wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !busy_; });
}

std::optional<SyncFailure> BackgroundSync::take_failure() {
    std::lock_guard lock(mutex_);
    std::optional<SyncFailure> failure;
    failure.swap(failure_);
    return failure;
}

void BackgroundSync::serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [this] { return busy_ || quit_; });
        if (quit_) return;
        const Request request = request_;
        lock.unlock();
        const Clock::time_point began = Clock::now();
        const std::optional<SyncFailure> failure = carry_out(request);
        const Clock::time_point ended = Clock::now();
        lock.lock();
        if (failure && !failure_) failure_ = failure;
        last_end_ = ended;
        last_took_ = ended - began;
        busy_ = false;
        changed_.notify_all();
    }
}

namespace {
int fsync_errno(int fd) {
    if (fd < 0) return 0;
    int result = -1;
    do result = ::fsync(fd);
    while (result != 0 && errno == EINTR);
    return result == 0 ? 0 : errno;
}
}  // namespace

std::optional<SyncFailure> BackgroundSync::carry_out(const Request& request) {
    // The file first: the journal on the disk then runs ahead of the file by the flushes
    // after this request at most (after a node crash their rows read pending: they run again).
    if (const int error = fsync_errno(request.file)) return SyncFailure{false, error};
    if (const int error = fsync_errno(request.journal)) return SyncFailure{true, error};
    return std::nullopt;
}

}  // namespace mpisweep::store
