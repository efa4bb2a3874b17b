// How many copies a worker is given to hold: what fits the batch target, at most a message's
// worth twice, and never more than the workers' share of the master's budget.
#include "schedule/batch_sizer.hpp"

#include <algorithm>
#include <gtest/gtest.h>

namespace mpisweep {
namespace {

TEST(BatchSizer, ShortTasksFillTheTargetUpToTwoFullMessages) {
    BatchSizer one(2e-3, 1, 1);
    EXPECT_EQ(one.observe(100 * 1e-5, 100), 2 * 200) << "10 us tasks: 200 fit 2 ms, two targets held";
    BatchSizer tiny(2e-3, 1, 1);
    EXPECT_EQ(tiny.observe(1000 * 50e-9, 1000),
              std::min<int>(2 * BatchSizer::kMaxBatch - 1, static_cast<int>(BatchSizer::kInFlightBudget)))
        << "50 ns tasks: capped by two messages and the master's budget";
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
         {std::size_t{1}, std::size_t{4}, std::size_t{16}, std::size_t{1000}, std::size_t{10000}}) {
        BatchSizer sizer(2e-3, 1, workers);
        const int prefetch = sizer.observe(1000 * 50e-9, 1000);
        const std::size_t share = BatchSizer::kInFlightBudget / workers;
        EXPECT_EQ(static_cast<std::size_t>(prefetch),
                  std::min<std::size_t>(2 * BatchSizer::kMaxBatch - 1, std::max<std::size_t>(1, share)))
            << workers << " workers";
        EXPECT_LE(static_cast<std::size_t>(prefetch) * workers,
                  std::max(BatchSizer::kInFlightBudget, workers))
            << workers << " workers";
    }
}

TEST(BatchSizer, TheBasePrefetchIsTheLeastAndLongTasksKeepIt) {
    BatchSizer sizer(2e-3, 3, 5000);
    EXPECT_EQ(sizer.observe(1000 * 50e-9, 1000), static_cast<int>(BatchSizer::kInFlightBudget / 5000))
        << "the budget's share over the base";
    BatchSizer crowded(2e-3, 3, 100000);
    EXPECT_EQ(crowded.observe(1000 * 50e-9, 1000), 3) << "the base, over a budget's share of 0";
    BatchSizer slow(2e-3, 3, 4);
    EXPECT_EQ(slow.observe(1.0, 1), 3) << "1 s tasks: the base";
}

TEST(BatchSizer, AReportWithoutFinishedTasksKeepsTheDepth) {
    // A report of failed or cancelled copies only (done = 0) once set the depth back to the
    // base: a sweep of tiny tasks then ran with one copy queued until the next report.
    BatchSizer sizer(2e-3, 1, 4);
    EXPECT_EQ(sizer.observe(0, 0), 1) << "nothing learned yet: the base";
    const int learned = sizer.observe(100 * 1e-5, 100);
    EXPECT_EQ(learned, 400) << "10 us tasks: 2 x 2 ms / 10 us";
    EXPECT_EQ(sizer.observe(0, 0), learned);
    EXPECT_EQ(sizer.prefetch(), learned);
}

}  // namespace
}  // namespace mpisweep
