#pragma once
// Automatic batching of short tasks: how many copies to queue on a worker so that it holds
// about Options::batch_target of work.

#include <cstddef>

namespace mpisweep {

/// Learns the typical task duration from reports and turns it into a prefetch depth.
class BatchSizer {
public:
    BatchSizer(double target_s, int base_prefetch) : target_s_(target_s), base_(base_prefetch) {}
    /// Adds the wall time of `tasks` finished tasks; returns the prefetch depth to use.
    int observe(double wall_sum_s, std::size_t tasks);
    int prefetch() const { return prefetch_; }

    static constexpr int kMaxBatch = 4096;  ///< tasks per message at most

private:
    double target_s_;
    int base_;
    int prefetch_ = -1;
    double mean_s_ = -1;  // moving average of the task duration; < 0: nothing seen yet
};

}  // namespace mpisweep
