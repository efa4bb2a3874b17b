#pragma once
// Waiting for a message without stealing the core from ranks that compute: poll a few times,
// then sleep in growing steps. Under oversubscription a busy-polling rank halves the
// throughput of the others (see docs), so idle ranks must sleep.
#include <algorithm>
#include <chrono>
#include <thread>

namespace mpisweep {

class Backoff {
public:
    explicit Backoff(std::chrono::microseconds max_sleep) : max_sleep_(max_sleep) {}

    /// Called after a poll that found nothing.
    void idle() {
        if (++polls_ <= kSpinPolls) {
            std::this_thread::yield();
            return;
        }
        std::this_thread::sleep_for(sleep_);
        sleep_ = std::min(max_sleep_, sleep_ * 2);
    }
    /// Called after a poll that found work.
    void reset() {
        polls_ = 0;
        sleep_ = kFirstSleep;
    }

private:
    static constexpr int kSpinPolls = 64;
    static constexpr std::chrono::microseconds kFirstSleep{10};
    std::chrono::microseconds max_sleep_;
    std::chrono::microseconds sleep_ = kFirstSleep;
    int polls_ = 0;
};

}  // namespace mpisweep
