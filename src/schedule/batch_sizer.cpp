#include "schedule/batch_sizer.hpp"

#include <algorithm>
#include <cmath>

namespace mpisweep {

BatchSizer::BatchSizer(double target_s, int base_prefetch, std::size_t workers)
    : target_s_(target_s),
      base_(base_prefetch),
      most_(std::max(base_prefetch,
                     static_cast<int>(std::min<std::size_t>(
                         2 * kMaxBatch - 1, kInFlightBudget / std::max<std::size_t>(workers, 1))))) {}

int BatchSizer::observe(double wall_sum_s, std::size_t tasks) {
    if (target_s_ <= 0) return base_;
    // A report of failures, cancellations or heartbeats says nothing of durations.
    if (tasks == 0) return prefetch_ < 0 ? base_ : prefetch_;
    const double mean = wall_sum_s / static_cast<double>(tasks);
    mean_s_ = mean_s_ < 0 ? mean : 0.7 * mean_s_ + 0.3 * mean;
    // Copies held beyond the one running: two targets of work. The worker reports and looks
    // for new copies every half target, and the refill takes a round trip through a master
    // that may be asleep or off its core (oversubscribed); with less, a worker whose tasks
    // last about a target ran dry at most tasks and waited for the master each time.
    const double hold = 2 * target_s_ / std::max(mean_s_, 1e-9);
    const int want = hold >= most_ ? most_ : std::max(base_, static_cast<int>(std::ceil(hold)));
    // Change only on a clear shift (a factor of 2): every change rebuilds the scheduler's
    // free lists, and measured durations jitter.
    if (prefetch_ < 0 || want > 2 * prefetch_ || 2 * want < prefetch_) prefetch_ = want;
    return prefetch_;
}

}  // namespace mpisweep
