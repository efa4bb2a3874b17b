// The deadline of dispatching: a copy goes to a worker only if it is expected to finish by
// then, after the copies queued there before it.
#include <algorithm>

#include "schedule/scheduler_impl.hpp"

namespace mpisweep {

/// Each copy is expected to take the longest duration seen so far; sets deadline_reached
/// when not even an idle worker could finish one in time.
bool Scheduler::Impl::fits_deadline_at(std::int32_t w, Seconds now) {
    if (deadline_reached) return false;
    const std::optional<Seconds> expected = durations.max();
    if (!expected) return true;
    const WorkerState& ws = worker(w);
    double ahead = 0;
    if (!ws.queue.empty()) {
        ahead = std::max(0.0, *expected - (now - front_start(ws))) +
                static_cast<double>(ws.queue.size() - 1) * *expected;
    }
    if (now + ahead + *expected <= *stop_by) return true;
    if (now + *expected > *stop_by) deadline_reached = true;
    return false;
}

}  // namespace mpisweep
