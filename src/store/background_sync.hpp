#pragma once
// The fsyncs of the results file and its journal on a thread of their own, so that the
// master never waits for the disk in the middle of a sweep. At most one is under way; one
// asked for while the thread is busy is refused, not queued.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace mpisweep::store {

/// What an fsync of the thread failed with: which descriptor (file or journal) and errno.
struct SyncFailure {
    bool journal = false;
    int error = 0;
};

class BackgroundSync {
public:
    using Clock = std::chrono::steady_clock;

    BackgroundSync() = default;
    BackgroundSync(const BackgroundSync&) = delete;
    BackgroundSync& operator=(const BackgroundSync&) = delete;
    /// Waits for the fsync under way.
    ~BackgroundSync();

    /// fsync(2) of `file`, then of `journal` (-1: none), on the thread; false (nothing
    /// started) while the last one is still under way.
    bool start(int file, int journal);
    /// Whether an fsync started now keeps the disk busy with fsyncs half the time at most:
    /// none is under way, and the last one ended at least as long ago as it took. What an
    /// fsync costs grows with what was written since the last one (the disk's cache flush
    /// included), so fsyncs this often keep the one at the close short.
    bool due_by_pace(Clock::time_point now);
    /// Waits until no fsync is under way (before the descriptors are closed).
    void wait();
    /// The first fsync that failed since the last call, if any.
    std::optional<SyncFailure> take_failure();

private:
    struct Request {
        int file = -1;
        int journal = -1;
    };
    void serve();
    static std::optional<SyncFailure> carry_out(const Request& request);

    std::mutex mutex_;
    std::condition_variable changed_;
    bool busy_ = false;
    bool quit_ = false;
    Request request_;
    Clock::time_point last_end_{};
    Clock::duration last_took_{};
    std::optional<SyncFailure> failure_;
    std::thread thread_;  // started at the first request
};

}  // namespace mpisweep::store
