#pragma once
// Helpers of the scheduler's unit tests: assignments and cancellations as (worker, task)
// pairs, plain and speculative options.
#include <utility>
#include <vector>

#include "schedule/scheduler.hpp"

namespace mpisweep::scheduler_test {

using Pairs = std::vector<std::pair<int, std::uint64_t>>;  // (worker rank, task)

inline Pairs pairs(const Assignments& assignments) {
    Pairs out;
    for (const Assignment& a : assignments) out.emplace_back(a.worker.value(), a.task.value());
    return out;
}

inline Pairs pairs(const std::vector<Cancellation>& cancels) {
    Pairs out;
    for (const Cancellation& c : cancels) out.emplace_back(c.worker.value(), c.task.value());
    return out;
}

inline SchedulerOptions plain() {
    SchedulerOptions o;
    o.prefetch = 0;
    o.speculate = false;
    o.max_worker_errors = 0;
    return o;
}

inline SchedulerOptions speculative(int min_samples = 1) {
    SchedulerOptions o = plain();
    o.speculate = true;
    o.min_samples = min_samples;
    o.speculate_after = 1.5;
    return o;
}

}  // namespace mpisweep::scheduler_test
