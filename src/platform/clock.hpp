#pragma once
// The two clocks of a sweep: a monotonic one for scheduling decisions, the wall clock for the
// start times stored in the file.
#include <chrono>

namespace mpisweep {

inline double monotonic_seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

inline double unix_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace mpisweep
