#pragma once
// The two clocks of a sweep: a monotonic one for scheduling decisions, the wall clock for the
// start times stored in the file. Clock is the monotonic one as an object, so that the
// master and worker loops can be run on a fake one in tests.
#include <chrono>
#include <thread>

namespace mpisweep {

inline double monotonic_seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

inline double unix_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

/// Monotonic seconds, and a way to let time pass.
class Clock {
public:
    virtual ~Clock() = default;
    virtual double now() const = 0;
    /// Returns at `t` (a fake clock jumps there).
    virtual void sleep_until(double t) const = 0;
};

/// The steady clock of this machine (monotonic_seconds()).
class SteadyClock final : public Clock {
public:
    double now() const override { return monotonic_seconds(); }
    void sleep_until(double t) const override {
        const double left = t - now();
        if (left > 0) std::this_thread::sleep_for(std::chrono::duration<double>(left));
    }
    /// One for everybody: it has no state.
    static const SteadyClock& instance() {
        static const SteadyClock clock;
        return clock;
    }
};

}  // namespace mpisweep
