#pragma once
// Automatic batching of short tasks: how many copies to queue on a worker so that it holds
// about Options::batch_target of work.

#include <cstddef>

namespace mpisweep {

/// Learns the typical task duration from reports and turns it into a prefetch depth.
class BatchSizer {
public:
    /// `workers` share kInFlightBudget: the copies queued on all of them at once.
    BatchSizer(double target_s, int base_prefetch, std::size_t workers);
    /// Adds the wall time of `tasks` finished tasks; returns the prefetch depth to use.
    int observe(double wall_sum_s, std::size_t tasks);
    int prefetch() const { return prefetch_; }

    /// Tasks per message at most. Fresh copies travel as runs of ids (transport/run_column.hpp),
    /// so a full batch is a small message; the limit keeps a worker's queue to what it runs
    /// in a few milliseconds even when its tasks take nanoseconds.
    static constexpr int kMaxBatch = 32768;
    /// Copies queued on all workers together at most (or the base prefetch each), so that the
    /// master's record of them stays a few MB, not growing with the workers times kMaxBatch:
    /// each report touches the copies it answers, and a deeper record made the master slower
    /// per task than the round trips it saved (bench/README.md, "Session 13"); since workers
    /// move their reports every quarter report interval, not every 20 us, a refill takes
    /// longer and twice that many keep them busy (bench/README.md, "Session 14").
    static constexpr std::size_t kInFlightBudget = std::size_t{1} << 16;

private:
    double target_s_;
    int base_;
    int most_;  // prefetch at most: this worker's share of kInFlightBudget, or the base
    int prefetch_ = -1;
    double mean_s_ = -1;  // moving average of the task duration; < 0: nothing seen yet
};

}  // namespace mpisweep
