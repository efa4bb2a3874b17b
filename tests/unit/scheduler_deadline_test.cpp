// The scheduler against a deadline (no copy starts that would end after it), on resume
// (settled tasks from the file) and timing queued copies, event by event with a fake clock
// through SchedulerDriver, which checks the scheduler's invariants after each event.
#include <gtest/gtest.h>
#include <tuple>
#include <utility>
#include <vector>

#include "schedule/scheduler.hpp"
#include "unit/scheduler_driver.hpp"
#include "unit/scheduler_test_support.hpp"

namespace mpisweep {
namespace {

using testing::SchedulerDriver;
using namespace scheduler_test;

// ---- deadline ---------------------------------------------------------------------------

TEST(SchedulerDeadline, BeforeAnyDurationIsKnownTasksAreDispatched) {
    SchedulerDriver d(10, 2, plain());
    d.set_deadline(1.0);
    EXPECT_EQ(pairs(d.assign(0)), (Pairs{{1, 0}, {2, 1}}));
    EXPECT_FALSE(d.scheduler().deadline_reached());
}

TEST(SchedulerDeadline, NoTaskStartsThatWouldEndAfterTheDeadline) {
    SchedulerDriver d(10, 2, plain());
    d.set_deadline(10.0);
    d.assign(0);        // 1: 0, 2: 1
    d.done(1, 0, 3.0);  // longest so far: 3 s
    EXPECT_EQ(pairs(d.assign(3.0)), (Pairs{{1, 2}})) << "3 + 3 <= 10";
    d.done(2, 1, 4.0);
    EXPECT_EQ(pairs(d.assign(4.0)), (Pairs{{2, 3}})) << "4 + 4 (the longest now) <= 10";
    d.done(1, 2, 6.5);
    EXPECT_TRUE(d.assign(6.5).empty()) << "6.5 + 4 > 10";
    EXPECT_TRUE(d.scheduler().deadline_reached());
    EXPECT_FALSE(d.scheduler().stalled()) << "task 3 still runs";
    d.done(2, 3, 8.0);
    EXPECT_TRUE(d.assign(8.0).empty());
    EXPECT_TRUE(d.scheduler().stalled()) << "nothing runs and nothing fits";
    const SchedulerCounts c = d.scheduler().counts();
    EXPECT_EQ(c.done, 4u);
    EXPECT_EQ(c.pending, 6u);
}

TEST(SchedulerDeadline, AQueuedCopyMustFitAfterTheOnesAheadOfIt) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    SchedulerDriver d(10, 1, o);
    d.set_deadline(10.0);
    d.assign(0);        // 1: 0 1
    d.done(1, 0, 2.0);  // longest 2 s; task 1 runs from 2
    // Task 1 ends about 4; a queued copy would end about 6 <= 10.
    EXPECT_EQ(pairs(d.assign(2.0)), (Pairs{{1, 2}}));
    d.done(1, 1, 4.0);  // task 2 runs from 4, ends about 6; another would end about 8
    EXPECT_EQ(pairs(d.assign(4.0)), (Pairs{{1, 3}}));
    d.done(1, 2, 6.0);  // task 3 runs from 6, ends 8; one more would end 10.x (bucket edge)
    EXPECT_TRUE(d.assign(6.0).empty()) << "8 + 2 is past 10 by the histogram's rounding up";
    EXPECT_FALSE(d.scheduler().deadline_reached()) << "an idle worker could still fit one";
    d.done(1, 3, 8.0);
    EXPECT_TRUE(d.assign(8.0).empty());
    EXPECT_TRUE(d.scheduler().deadline_reached());
    EXPECT_TRUE(d.scheduler().stalled());
}

TEST(SchedulerDeadline, RetriesAndSpeculativeCopiesRespectTheDeadline) {
    SchedulerOptions o = speculative(1);
    o.max_attempts = 3;
    SchedulerDriver d(3, 2, o);
    d.set_deadline(12.0);
    d.assign(0);        // 1: 0, 2: 1
    d.done(2, 1, 5.0);  // longest 5 s
    EXPECT_EQ(pairs(d.assign(5.0)), (Pairs{{2, 2}}));
    EXPECT_EQ(d.fail(1, 0, 7.0).verdict, FailVerdict::Retry);
    EXPECT_TRUE(d.assign(7.0).empty()) << "a retry would end after 12";
    EXPECT_TRUE(d.scheduler().deadline_reached());
    // Worker 1 is idle and task 2 overdue later: still no speculative copy.
    EXPECT_TRUE(d.assign(9.5).empty());
    d.done(2, 2, 9.9);
    EXPECT_TRUE(d.scheduler().stalled());
    EXPECT_EQ(d.scheduler().counts().pending, 1u);
}

TEST(SchedulerDeadline, NoDeadlineAgainRestoresDispatch) {
    SchedulerDriver d(4, 1, plain());
    d.set_deadline(1.0);
    d.assign(0);
    d.done(1, 0, 2.0);
    EXPECT_TRUE(d.assign(2.0).empty());
    d.scheduler().set_deadline(std::nullopt);
    EXPECT_EQ(pairs(d.assign(2.0)), (Pairs{{1, 1}}));
}

// ---- resume -----------------------------------------------------------------------------

TEST(SchedulerResume, DoneAndFailedTasksFromTheFileAreSettled) {
    const std::vector<TaskStatus> initial = {TaskStatus::Done, TaskStatus::Failed, TaskStatus::Pending,
                                             TaskStatus::Done, TaskStatus::Pending};
    SchedulerDriver d(5, 3, plain(), initial);
    SchedulerCounts c = d.scheduler().counts();
    EXPECT_EQ(c.done, 2u);
    EXPECT_EQ(c.failed, 1u);
    EXPECT_EQ(c.pending, 2u);
    EXPECT_EQ(pairs(d.assign(0)), (Pairs{{1, 2}, {2, 4}}));
    d.done(1, 2, 1);
    d.done(2, 4, 1);
    EXPECT_TRUE(d.scheduler().finished());
    EXPECT_EQ(d.scheduler().status(TaskId(1)), TaskStatus::Failed);

    SchedulerDriver retry(5, 3, plain(), initial, /*retry_failed=*/true);
    EXPECT_EQ(retry.scheduler().counts().failed, 0u);
    EXPECT_EQ(pairs(retry.assign(0)), (Pairs{{1, 1}, {2, 2}, {3, 4}}));

    std::vector<TaskStatus> all_done(4, TaskStatus::Done);
    SchedulerDriver nothing(4, 2, plain(), all_done);
    EXPECT_TRUE(nothing.scheduler().finished());
    EXPECT_TRUE(nothing.assign(0).empty());
}

// ---- durations --------------------------------------------------------------------------

TEST(SchedulerDurations, AQueuedCopyIsTimedFromThePreviousReplyNotFromDispatch) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    o.min_samples = 3;
    SchedulerDriver d(3, 1, o);
    d.assign(0);       // 0 runs, 1 queued, both sent at 0
    d.done(1, 0, 10);  // 10 s
    d.assign(10);      // 2 queued at 10
    d.done(1, 1, 12);  // started at 10: 2 s, not 12
    d.done(1, 2, 15);  // 3 s
    ASSERT_TRUE(d.scheduler().median_duration().has_value());
    EXPECT_NEAR(*d.scheduler().median_duration(), 3.0, 3.0 * 0.03);
}

}  // namespace
}  // namespace mpisweep
