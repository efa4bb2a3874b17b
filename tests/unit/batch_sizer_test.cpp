// How many copies a worker is given to hold: what fits the batch target, at most a message's
// worth twice, and never more than the workers' share of the master's budget.
#include "schedule/batch_sizer.hpp"

#include <gtest/gtest.h>

namespace mpisweep {
namespace {

TEST(BatchSizer, ShortTasksFillTheTargetUpToTwoFullMessages) {
    BatchSizer one(2e-3, 1, 1);
    EXPECT_EQ(one.observe(100 * 1e-5, 100), 2 * 200 - 1) << "10 us tasks: 200 fit 2 ms, two batches held";
    BatchSizer tiny(2e-3, 1, 1);
    EXPECT_EQ(tiny.observe(1000 * 50e-9, 1000), 2 * BatchSizer::kMaxBatch - 1) << "50 ns tasks: capped";
}

TEST(BatchSizer, ManyWorkersShareTheInFlightBudget) {
    for (std::size_t workers :
         {std::size_t{16}, std::size_t{1000}, std::size_t{10000}, std::size_t{100000}}) {
        BatchSizer sizer(2e-3, 1, workers);
        const int prefetch = sizer.observe(1000 * 50e-9, 1000);
        EXPECT_GE(prefetch, 1) << workers;
        EXPECT_LE(static_cast<std::size_t>(prefetch + 1) * workers, BatchSizer::kInFlightBudget + workers)
            << workers << " workers";
    }
}

TEST(BatchSizer, TheBasePrefetchIsTheLeastAndLongTasksKeepIt) {
    BatchSizer sizer(2e-3, 3, 100000);
    EXPECT_EQ(sizer.observe(1000 * 50e-9, 1000), 10) << "the budget's share (10) over the base";
    BatchSizer slow(2e-3, 3, 4);
    EXPECT_EQ(slow.observe(1.0, 1), 3) << "1 s tasks: the base";
}

}  // namespace
}  // namespace mpisweep
