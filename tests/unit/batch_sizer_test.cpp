// How many copies a worker is given to hold: what fits the batch target, at most a message's
// worth twice, and never more than the workers' share of the master's budget.
#include "schedule/batch_sizer.hpp"

#include <gtest/gtest.h>

namespace mpisweep {
namespace {

TEST(BatchSizer, ShortTasksFillTheTargetUpToTwoFullMessages) {
    BatchSizer one(2e-3, 1, 1);
    EXPECT_EQ(one.observe(100 * 1e-5, 100), 2 * 200) << "10 us tasks: 200 fit 2 ms, two targets held";
    BatchSizer tiny(2e-3, 1, 1);
    EXPECT_EQ(tiny.observe(1000 * 50e-9, 1000), 2 * BatchSizer::kMaxBatch - 1) << "50 ns tasks: capped";
}

TEST(BatchSizer, TasksAboutAsLongAsTheTargetStillKeepTwoTargetsQueued) {
    // The worker reports and looks for copies every half target; the refill is a round trip
    // behind. Rounding down to whole batches left 0.7 ms tasks 3 copies and 1.5 ms tasks 1.
    BatchSizer near(2e-3, 1, 2);
    EXPECT_EQ(near.observe(0.7e-3, 1), 6) << "0.7 ms tasks: 2 x 2 ms / 0.7 ms = 5.7, rounded up";
    BatchSizer longer(2e-3, 1, 2);
    EXPECT_EQ(longer.observe(1.5e-3, 1), 3) << "1.5 ms tasks: 2.7, rounded up";
    BatchSizer longest(2e-3, 1, 2);
    EXPECT_EQ(longest.observe(5e-3, 1), 1) << "5 ms tasks: the base";
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
