#pragma once
// Waiting for a message without stealing the core from ranks that compute: poll a few times,
// then sleep in growing steps. Under oversubscription a busy-polling rank halves the
// throughput of the others (see docs), so idle ranks must sleep. Open MPI's shared memory
// transport has no descriptor to block on: nothing can wake a sleeping rank, so each nap is
// latency added to the message that comes during it.
#include <algorithm>
#include <chrono>
#include <sys/prctl.h>
#include <thread>

namespace mpisweep {

/// How long the naps of a wait are: doubling from 10 us to `max_sleep`, then growing with the
/// time already waited, each at most 1/kLatencyShare of it. A message is late by at most
/// max(max_sleep, 1/64 of its wait); a rank that waits T seconds naps ~64 (1 + ln(T / 64 max_sleep))
/// times rather than T / max_sleep (4 s idle at 200 us: ~440 naps instead of 20,000, each
/// ~20-30 us of CPU in a VM with the timer wake-up, the probe and the scheduler's switch).
class NapSchedule {
public:
    static constexpr int kLatencyShare = 64;
    static constexpr std::chrono::microseconds kFirstNap{10};

    explicit NapSchedule(std::chrono::microseconds max_sleep) : max_sleep_(max_sleep) {}

    /// The nap to take after `waited` of waiting (the naps so far included).
    std::chrono::microseconds next(std::chrono::nanoseconds waited) {
        const auto share = std::chrono::duration_cast<std::chrono::microseconds>(waited / kLatencyShare);
        const std::chrono::microseconds nap = std::min(next_, std::max(max_sleep_, share));
        next_ = nap * 2;
        return nap;
    }
    /// Starts again from `first` (kFirstNap unless a long wait is expected).
    void reset(std::chrono::microseconds first = kFirstNap) { next_ = std::max(first, kFirstNap); }

private:
    std::chrono::microseconds max_sleep_;
    std::chrono::microseconds next_ = kFirstNap;
};

/// How a rank's next wait starts, from its last. A spin pays when the message comes within
/// it; on a node with more ranks than cores, each poll that does not find the message takes
/// the core from a rank that computes (Open MPI yields in every empty probe there too: the
/// master made 25 sched_yield per `true` task at np = 3 on 2 cores, 85 % of its system
/// calls). There a rank spins only while its last wait was short enough for the spin to have
/// caught the message; otherwise it naps at once, its first nap a quarter of the last wait.
/// A rank with a core of its own always spins.
class WaitPredictor {
public:
    /// `adaptive`: predict (else always spin). `window`: the spin's length.
    WaitPredictor(bool adaptive, std::chrono::nanoseconds window) : adaptive_(adaptive), window_(window) {}

    bool spin() const { return spin_; }
    /// The first nap of a wait that does not spin.
    std::chrono::microseconds first_nap() const {
        return std::chrono::duration_cast<std::chrono::microseconds>(last_wait_ / 4);
    }
    /// A wait ended after `waited`: predicts the next from it.
    void waited(std::chrono::nanoseconds waited) {
        if (!adaptive_) return;
        spin_ = waited < window_;
        last_wait_ = waited;
    }

private:
    bool adaptive_;
    std::chrono::nanoseconds window_;
    bool spin_ = true;
    std::chrono::nanoseconds last_wait_{0};
};

class Backoff {
public:
    /// `spin`: how long to yield-poll before sleeping. The master, on which every worker
    /// waits, spins a while; idle workers sleep soon, or they take the cores the master and
    /// busy workers need (5 ranks on 2 cores: the master gets 2/5 of a core at best).
    /// `max_sleep`: the longest nap before the naps grow with the wait (NapSchedule).
    /// `adaptive`: spin only while waits are short (WaitPredictor; for an oversubscribed master).
    explicit Backoff(std::chrono::microseconds max_sleep,
                     std::chrono::microseconds spin = std::chrono::microseconds(0), bool adaptive = false)
        : naps_(max_sleep),
          spin_time_(spin),
          predictor_(adaptive, std::max<std::chrono::microseconds>(spin, kShortestSpinWindow)) {
        // Linux rounds every sleep up by the timer slack (50 us by default): a 10 us nap
        // would last 60 us. Ask for 1 us, once per thread.
        thread_local const bool slack_set = prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL) == 0;
        (void)slack_set;
    }

    /// Called after a poll that found nothing; sleeps `limit_s` at most.
    void idle(double limit_s = 1.0) {
        // Yield-polling for a short while keeps the round trip short; a yielding rank gives
        // its core to any rank that has work, so this is cheap under oversubscription too.
        const auto now = std::chrono::steady_clock::now();
        last_poll_ = now;
        if (++polls_ == 1) spin_start_ = now;
        // The first polls, for kBusyTime, do not yield at all: sched_yield is a system call
        // (a costly one in a VM), and a reply often comes within a few polls. Measured with
        // one task per message (e2e_sweep empty --batch-us 0) at np=5 on 2 cores: 93-103k ->
        // 177-193k tasks/s with 8 busy polls of the old master loop (~1 us each). A time, not
        // a count, since a poll of the transport's wait costs a third of that.
        if (!spin_over_ && spin_allowed_ && predictor_.spin()) {
            if (now - spin_start_ < kBusyTime) return;
            if (polls_ <= kSpinPolls || now - spin_start_ < spin_time_) {
                std::this_thread::yield();
                return;
            }
        }
        spin_over_ = true;
        std::this_thread::sleep_for(std::min<std::chrono::duration<double>>(
            naps_.next(now - spin_start_), std::chrono::duration<double>(limit_s)));
    }
    /// Whether a wait may yield-poll at all (else it naps from its first idle()).
    void allow_spin(bool allowed) { spin_allowed_ = allowed; }
    /// The spin is over: the next idle() sleeps (read the clock before, to bound the nap).
    bool sleeping() const { return spin_over_; }
    /// Called after a poll that found work.
    void reset() {
        if (polls_ > 0) predictor_.waited(last_poll_ - spin_start_);
        spin_over_ = false;
        polls_ = 0;
        naps_.reset(spin_allowed_ && predictor_.spin() ? NapSchedule::kFirstNap : predictor_.first_nap());
    }

private:
    static constexpr int kSpinPolls = 64;
    static constexpr std::chrono::microseconds kBusyTime{10};  ///< polling before the first yield
    /// What counts as a short wait for a rank whose spin is only its kSpinPolls yields.
    static constexpr std::chrono::microseconds kShortestSpinWindow{50};
    std::chrono::steady_clock::time_point spin_start_;  ///< the first poll that found nothing
    std::chrono::steady_clock::time_point last_poll_;
    NapSchedule naps_;
    std::chrono::microseconds spin_time_;
    WaitPredictor predictor_;
    int polls_ = 0;
    bool spin_over_ = false;
    bool spin_allowed_ = true;
};

}  // namespace mpisweep
