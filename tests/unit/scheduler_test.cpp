// The scheduling policy, played event by event with a fake clock. Every event goes through
// SchedulerDriver, which checks the scheduler's invariants after it.
#include "schedule/scheduler.hpp"

#include <gtest/gtest.h>
#include <tuple>
#include <utility>
#include <vector>

#include "unit/scheduler_driver.hpp"
#include "unit/scheduler_test_support.hpp"

namespace mpisweep {
namespace {

using testing::SchedulerDriver;
using namespace scheduler_test;

// ---- dynamic dispatch -------------------------------------------------------------------

TEST(SchedulerDispatch, IdleWorkersGetTheLowestPendingIdFirst) {
    SchedulerDriver d(10, 3, plain());
    EXPECT_EQ(pairs(d.assign(0)), (Pairs{{1, 0}, {2, 1}, {3, 2}}));
    EXPECT_TRUE(d.assign(0).empty()) << "every worker is busy";

    EXPECT_TRUE(d.done(2, 1, 1.0).accepted);
    EXPECT_EQ(pairs(d.assign(1.0)), (Pairs{{2, 3}}));

    EXPECT_EQ(d.fail(1, 0, 2.0).verdict, FailVerdict::Retry);
    const Assignments retry = d.assign(2.0);
    ASSERT_EQ(pairs(retry), (Pairs{{1, 0}})) << "a returned task goes before fresh task 4";
    EXPECT_EQ(retry[0].attempt, 2);
    EXPECT_EQ(d.scheduler().attempts(TaskId(0)), 2);

    const SchedulerCounts c = d.scheduler().counts();
    EXPECT_EQ(c.total, 10u);
    EXPECT_EQ(c.done, 1u);
    EXPECT_EQ(c.running, 3u);
    EXPECT_EQ(c.pending, 6u);
}

TEST(SchedulerDispatch, PrefetchFillsIdleWorkersFirstThenBreadthFirst) {
    SchedulerOptions o = plain();
    o.prefetch = 2;
    SchedulerDriver few(5, 3, o);
    EXPECT_EQ(pairs(few.assign(0)), (Pairs{{1, 0}, {2, 1}, {3, 2}, {1, 3}, {2, 4}}));

    SchedulerDriver many(100, 3, o);
    EXPECT_EQ(many.assign(0).size(), 9u);
    for (int w = 1; w <= 3; ++w) EXPECT_EQ(many.held(w).size(), 3u) << "1 + prefetch per worker";
    EXPECT_TRUE(many.assign(0).empty());
    EXPECT_EQ(many.held_tasks(2), (std::vector<std::uint64_t>{1, 4, 7}));

    many.done(2, 1, 1.0);
    EXPECT_EQ(pairs(many.assign(1.0)), (Pairs{{2, 9}})) << "one slot freed, one task";
}

// Automatic batching of short tasks: workers with many free slots get the walk's counts (the
// emptiest raised first, evenly), each worker's share one run of consecutive ids, so that a
// batch is a few runs on the wire and the file's rows come in long runs.
TEST(SchedulerDispatch, ManySlotsAreFilledEvenlyWithRunsOfIds) {
    SchedulerOptions o = plain();
    o.prefetch = 31;  // 32 copies a worker
    SchedulerDriver d(1000, 3, o);
    ASSERT_EQ(d.assign(0).size(), 96u);
    for (int w = 1; w <= 3; ++w) {
        const std::vector<std::uint64_t> held = d.held_tasks(w);
        ASSERT_EQ(held.size(), 32u) << "worker " << w;
        for (std::size_t i = 1; i < held.size(); ++i) EXPECT_EQ(held[i], held[i - 1] + 1) << "worker " << w;
    }
    // Loads 12, 27 and 32 copies: workers 1 and 2 filled up, each by one run.
    for (int i = 0; i < 20; ++i) d.done(1, d.held(1).front().task, 1.0);
    for (int i = 0; i < 5; ++i) d.done(2, d.held(2).front().task, 1.0);
    const Assignments refill = d.assign(1.0);
    ASSERT_EQ(refill.size(), 25u);
    EXPECT_EQ(d.held(1).size(), 32u);
    EXPECT_EQ(d.held(2).size(), 32u);
    std::uint64_t next = 96;
    for (const Assignment& a : refill) EXPECT_EQ(a.task.value(), next++) << "one run per worker, in order";

    // Fewer tasks than free slots: the emptiest first, the rest shared evenly.
    SchedulerDriver few(50, 3, o);
    ASSERT_EQ(few.assign(0).size(), 50u);
    EXPECT_EQ(few.held(1).size(), 17u);
    EXPECT_EQ(few.held(2).size(), 17u);
    EXPECT_EQ(few.held(3).size(), 16u);
    for (int w = 1; w <= 3; ++w) {
        const std::vector<std::uint64_t> held = few.held_tasks(w);
        EXPECT_EQ(held.back() - held.front() + 1, held.size()) << "worker " << w << ": one run";
    }
}

// What status --running shows: each worker's front copy, running since it was handed out or
// since the copy before it was answered, and how many copies wait behind them (counted, not
// listed: with batching a worker holds thousands). Queued copies being cancelled are not
// counted: they will never run.
TEST(SchedulerDispatch, HeldCopiesAreEachWorkersRunningCopyAndACountOfTheQueuedOnes) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    SchedulerDriver d(10, 2, o);
    d.assign(0);  // 1: tasks 0, 2; 2: tasks 1, 3
    d.done(1, 0, 4.0);
    d.assign(5.0);  // 1: tasks 2, 4
    const Scheduler::HeldCopies held = d.scheduler().held_copies();
    std::vector<std::tuple<int, std::uint64_t, Seconds>> seen;
    for (const Scheduler::HeldCopy& c : held.running) seen.emplace_back(c.worker.value(), c.task, c.started);
    using Row = std::tuple<int, std::uint64_t, Seconds>;
    EXPECT_EQ(seen, (std::vector<Row>{{1, 2, 4.0}, {2, 1, 0.0}}));
    EXPECT_EQ(held.running[0].dispatched, 0.0);
    EXPECT_EQ(held.queued, 2u);

    SchedulerOptions batched = plain();
    batched.prefetch = 4999;  // 5,000 copies a worker
    SchedulerDriver many(100000, 3, batched);
    ASSERT_EQ(many.assign(0).size(), 15000u);
    const Scheduler::HeldCopies big = many.scheduler().held_copies();
    ASSERT_EQ(big.running.size(), 3u);
    EXPECT_EQ(big.queued, 14997u);
    many.drain();  // every queued copy is cancelled; the running ones finish
    EXPECT_EQ(many.scheduler().held_copies().queued, 0u);
    EXPECT_EQ(many.scheduler().held_copies().running.size(), 3u);
}

TEST(SchedulerDispatch, BreadthFirstAcrossWorkersAtDifferentLoads) {
    SchedulerOptions o = plain();
    o.prefetch = 3;
    SchedulerDriver d(100, 4, o);
    ASSERT_EQ(d.assign(0).size(), 16u);
    // Loads 0, 2, 1 and 3 copies (each worker holds 4 at most).
    const std::vector<int> answered = {4, 2, 3, 1};
    for (int w = 1; w <= 4; ++w) {
        for (int i = 0; i < answered[static_cast<std::size_t>(w - 1)]; ++i) {
            d.done(w, d.held(w).front().task, 1.0);
        }
    }
    std::vector<int> order;
    std::uint64_t next_task = 16;
    for (const Assignment& a : d.assign(1.0)) {
        order.push_back(a.worker.value());
        EXPECT_EQ(a.task.value(), next_task++) << "lowest pending id first";
    }
    // Level 0: worker 1; level 1: 1 and 3; level 2: 1, 2, 3; level 3: 1, 2, 3, 4.
    EXPECT_EQ(order, (std::vector<int>{1, 1, 3, 1, 2, 3, 1, 2, 3, 4}));

    // Pending tasks running out part-way through a level.
    SchedulerDriver few(19, 4, o);
    ASSERT_EQ(few.assign(0).size(), 16u);
    for (int w = 1; w <= 4; ++w) {
        for (int i = 0; i < answered[static_cast<std::size_t>(w - 1)]; ++i) {
            few.done(w, few.held(w).front().task, 1.0);
        }
    }
    EXPECT_EQ(pairs(few.assign(1.0)), (Pairs{{1, 16}, {1, 17}, {3, 18}}));
}

TEST(SchedulerDispatch, APrefetchChangeRelistsWorkersByTheirLoad) {
    SchedulerOptions o = plain();
    o.prefetch = 3;
    SchedulerDriver d(100, 2, o);
    ASSERT_EQ(d.assign(0).size(), 8u);
    d.done(1, 0, 1.0);
    d.set_prefetch(1);
    EXPECT_TRUE(d.assign(1.0).empty()) << "both above the new depth";
    d.done(1, 2, 2.0);
    d.done(1, 4, 2.0);
    EXPECT_EQ(pairs(d.assign(2.0)), (Pairs{{1, 8}})) << "worker 1 holds 1, room for 1 more";
    d.set_prefetch(7);
    const Assignments deep = d.assign(3.0);
    EXPECT_EQ(deep.size(), 6u + 4u);
    EXPECT_EQ(d.held(1).size(), 8u);
    EXPECT_EQ(d.held(2).size(), 8u);
}

TEST(SchedulerDispatch, TheOutcomeThatSettlesATaskCarriesItsAttempts) {
    SchedulerDriver d(4, 1, plain());
    d.assign(0);
    EXPECT_EQ(d.scheduler().attempts(TaskId(0)), 1) << "running";
    EXPECT_EQ(d.scheduler().attempts(TaskId(1)), 0) << "never dispatched";
    EXPECT_EQ(d.done(1, 0, 1.0).attempts, 1) << "done by its only copy";
    EXPECT_EQ(d.scheduler().attempts(TaskId(0)), 0) << "settled: nothing kept";

    d.assign(1.0);
    EXPECT_EQ(d.fail(1, 1, 2.0).attempts, 1);
    d.assign(2.0);
    const DoneOutcome second = d.done(1, 1, 3.0);
    EXPECT_TRUE(second.accepted);
    EXPECT_EQ(second.attempts, 2) << "a retry that succeeded";
}

TEST(SchedulerDispatch, EveryTaskIsDispatchedOnceWhenAllSucceed) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    SchedulerDriver d(7, 2, o);
    std::vector<int> dispatched(7, 0);
    double now = 0;
    while (!d.scheduler().finished()) {
        for (const Assignment& a : d.assign(now)) ++dispatched[a.task.value()];
        for (int w = 1; w <= 2; ++w) {
            if (!d.held(w).empty()) d.done(w, d.held(w).front().task, now += 1);
        }
    }
    EXPECT_EQ(dispatched, std::vector<int>(7, 1));
    EXPECT_EQ(d.scheduler().counts().done, 7u);
}

// ---- failures and retries ---------------------------------------------------------------

TEST(SchedulerFailures, RetriesUntilMaxAttemptsThenFailsForGoodAndKeepsCounts) {
    SchedulerOptions o = plain();
    o.max_attempts = 3;
    SchedulerDriver d(2, 1, o);
    for (int attempt = 1; attempt <= 2; ++attempt) {
        const Assignments a = d.assign(attempt);
        ASSERT_EQ(pairs(a), (Pairs{{1, 0}}));
        EXPECT_EQ(a[0].attempt, attempt);
        EXPECT_EQ(d.fail(1, 0, attempt + 0.5).verdict, FailVerdict::Retry);
        EXPECT_EQ(d.scheduler().status(TaskId(0)), TaskStatus::Pending);
    }
    ASSERT_EQ(pairs(d.assign(3)), (Pairs{{1, 0}}));
    const FailOutcome last = d.fail(1, 0, 3.5);
    EXPECT_EQ(last.verdict, FailVerdict::FailedForGood);
    EXPECT_EQ(last.attempts, 3);
    EXPECT_EQ(d.scheduler().attempts(TaskId(0)), 0) << "settled: the outcome carried it";
    EXPECT_EQ(d.scheduler().status(TaskId(0)), TaskStatus::Failed);
    SchedulerCounts c = d.scheduler().counts();
    EXPECT_EQ(c.failed, 1u);
    EXPECT_EQ(c.pending, 1u);
    EXPECT_EQ(c.running, 0u);

    EXPECT_EQ(pairs(d.assign(4)), (Pairs{{1, 1}}));
    d.done(1, 1, 5);
    EXPECT_TRUE(d.scheduler().finished());
    c = d.scheduler().counts();
    EXPECT_EQ(c.done, 1u);
    EXPECT_EQ(c.failed, 1u);
}

TEST(SchedulerFailures, AFailureWaitsWhileAnotherCopyStillRuns) {
    for (int max_attempts : {1, 2, 3}) {
        SCOPED_TRACE(max_attempts);
        SchedulerOptions o = speculative();
        o.max_attempts = max_attempts;
        SchedulerDriver d(2, 2, o);
        d.assign(0);      // 1: task 0, 2: task 1
        d.done(1, 0, 1);  // median 1
        d.assign(1);      // task 1 not overdue yet
        ASSERT_EQ(pairs(d.assign(2)), (Pairs{{1, 1}})) << "a copy of overdue task 1";
        EXPECT_EQ(d.fail(2, 1, 3).verdict, FailVerdict::Waiting);
        EXPECT_TRUE(d.scheduler().is_held(TaskId(1)));
        EXPECT_EQ(d.scheduler().counts().running, 1u);
        const FailVerdict second = d.fail(1, 1, 4).verdict;
        EXPECT_EQ(second, max_attempts <= 2 ? FailVerdict::FailedForGood : FailVerdict::Retry);
    }
}

TEST(SchedulerFailures, AWaitingTaskIsDoneWhenItsOtherCopySucceeds) {
    SchedulerDriver d(2, 2, speculative());
    d.assign(0);
    d.done(1, 0, 1);
    ASSERT_EQ(pairs(d.assign(2)), (Pairs{{1, 1}}));
    EXPECT_EQ(d.fail(2, 1, 3).verdict, FailVerdict::Waiting);
    const DoneOutcome done = d.done(1, 1, 4);
    EXPECT_TRUE(done.accepted);
    EXPECT_TRUE(done.cancels.empty());
    EXPECT_EQ(d.scheduler().counts().speculative_won, 1u);
    EXPECT_TRUE(d.scheduler().finished());
}

// ---- worker retirement ------------------------------------------------------------------

TEST(SchedulerRetirement, AWorkerIsRetiredAfterConsecutiveFailuresAndItsQueuedCopiesReturn) {
    SchedulerOptions o = plain();
    o.prefetch = 2;
    o.max_worker_errors = 2;
    o.max_attempts = 5;
    SchedulerDriver d(10, 2, o);
    d.assign(0);  // 1: 0 2 4, 2: 1 3 5
    FailOutcome first = d.fail(1, 0, 1);
    EXPECT_FALSE(first.worker_retired);
    EXPECT_EQ(pairs(d.assign(1)), (Pairs{{1, 0}})) << "1 holds 2 4 0 now";
    const FailOutcome second = d.fail(1, 2, 2);
    EXPECT_EQ(second.verdict, FailVerdict::Retry);
    EXPECT_TRUE(second.worker_retired);
    EXPECT_EQ(pairs(second.cancels), (Pairs{{1, 0}})) << "only the queued copy; 4 runs now";
    EXPECT_EQ(d.scheduler().counts().retired, 1);
    EXPECT_EQ(d.scheduler().status(TaskId(0)), TaskStatus::Pending);
    EXPECT_FALSE(d.scheduler().is_held(TaskId(0)));
    EXPECT_TRUE(d.scheduler().is_held(TaskId(4)));

    EXPECT_TRUE(d.assign(2).empty()) << "the retired worker gets nothing, 2 is full";
    d.cancelled(1, 0, 2.5);
    d.done(2, 1, 3);
    EXPECT_EQ(pairs(d.assign(3)), (Pairs{{2, 0}})) << "task 0 went back to the pool";
    EXPECT_TRUE(d.done(1, 4, 4).accepted) << "a retired worker's running copy still counts";
    EXPECT_TRUE(d.assign(4).empty());
    EXPECT_TRUE(d.held(1).empty());
}

TEST(SchedulerRetirement, ASuccessResetsTheConsecutiveFailureCount) {
    SchedulerOptions o = plain();
    o.max_worker_errors = 2;
    o.max_attempts = 10;
    SchedulerDriver d(100, 1, o);
    double now = 0;
    for (int round = 0; round < 5; ++round) {
        d.assign(now);
        EXPECT_FALSE(d.fail(1, d.held(1).front().task, now += 1).worker_retired);
        d.assign(now);
        d.done(1, d.held(1).front().task, now += 1);
    }
    d.assign(now);
    EXPECT_FALSE(d.fail(1, d.held(1).front().task, now += 1).worker_retired);
    d.assign(now);
    EXPECT_TRUE(d.fail(1, d.held(1).front().task, now += 1).worker_retired);
}

TEST(SchedulerRetirement, StalledOnceEveryWorkerIsRetiredAndNothingRuns) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    o.max_worker_errors = 1;
    SchedulerDriver d(5, 1, o);
    d.assign(0);  // 0 runs, 1 queued
    const FailOutcome f = d.fail(1, 0, 1);
    EXPECT_TRUE(f.worker_retired);
    EXPECT_TRUE(f.cancels.empty()) << "task 1 is running now, not queued";
    EXPECT_FALSE(d.scheduler().stalled()) << "task 1 may still finish";
    d.fail(1, 1, 2);
    EXPECT_TRUE(d.scheduler().stalled());
    EXPECT_FALSE(d.scheduler().finished());
    EXPECT_TRUE(d.assign(3).empty());
    EXPECT_EQ(d.scheduler().counts().pending, 5u);
}

TEST(SchedulerRetirement, RetireFromOutsideCancelsEveryCopyIncludingTheRunningOne) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    SchedulerDriver d(6, 2, o);
    d.assign(0);  // 1: 0 2, 2: 1 3
    EXPECT_EQ(pairs(d.retire(1)), (Pairs{{1, 0}, {1, 2}}));
    EXPECT_EQ(d.scheduler().counts().pending, 4u);
    EXPECT_EQ(d.scheduler().attempts(TaskId(0)), 1) << "the running copy had started";
    EXPECT_EQ(d.scheduler().attempts(TaskId(2)), 0) << "the queued copy never started";
    EXPECT_FALSE(d.scheduler().stalled());
    d.done(2, 1, 1);
    EXPECT_EQ(pairs(d.assign(1)), (Pairs{{2, 0}}));
    EXPECT_TRUE(d.retire(2).size() == 2);
    EXPECT_TRUE(d.scheduler().stalled());
}

TEST(SchedulerRetirement, NoWorkersMeansStalledUnlessThereIsNothingToDo) {
    Scheduler none(3, {}, plain());
    none.check_invariants();
    EXPECT_TRUE(none.stalled());
    EXPECT_TRUE(none.assign(0).empty());
    Scheduler empty(0, {}, plain());
    EXPECT_TRUE(empty.finished());
    EXPECT_FALSE(empty.stalled());
}

// ---- speculation ------------------------------------------------------------------------

TEST(SchedulerSpeculation, NoCopyBeforeMinSamplesFinished) {
    SchedulerDriver d(4, 3, speculative(3));
    d.assign(0);  // 1: 0, 2: 1, 3: 2
    d.done(1, 0, 1);
    d.assign(1);  // 1: 3
    d.done(2, 1, 1);
    EXPECT_FALSE(d.scheduler().median_duration().has_value());
    EXPECT_TRUE(d.assign(100).empty()) << "task 2 runs for 100 s, but only 2 samples";
    d.done(1, 3, 2);
    ASSERT_TRUE(d.scheduler().median_duration().has_value());
    const Assignments copy = d.assign(100);
    ASSERT_EQ(pairs(copy), (Pairs{{1, 2}}));
    EXPECT_TRUE(copy[0].speculative);
    EXPECT_FALSE(copy[0].moved_from.has_value());
    EXPECT_EQ(copy[0].attempt, 2);
    EXPECT_EQ(d.scheduler().counts().speculative_started, 1u);
}

TEST(SchedulerSpeculation, NoCopyBeforeSpeculateAfterTimesTheMedian) {
    SchedulerDriver d(2, 2, speculative());
    d.assign(0);
    d.done(1, 0, 1.0);  // median 1 s
    EXPECT_NEAR(*d.scheduler().median_duration(), 1.0, 0.03);
    EXPECT_TRUE(d.assign(1.4).empty()) << "task 1 at 1.4 s is not past 1.5 x median";
    EXPECT_EQ(pairs(d.assign(1.6)), (Pairs{{1, 1}}));
}

TEST(SchedulerSpeculation, TheTaskWithTheMostTimeLeftGetsTheCopy) {
    SchedulerDriver d(6, 4, speculative(3));
    d.assign(0);      // 1: 0, 2: 1, 3: 2, 4: 3
    d.fail(1, 0, 1);  // task 0 restarts at 1 s
    ASSERT_EQ(pairs(d.assign(1)), (Pairs{{1, 0}}));
    d.done(4, 3, 1);
    ASSERT_EQ(pairs(d.assign(1)), (Pairs{{4, 4}}));
    d.done(4, 4, 2);
    ASSERT_EQ(pairs(d.assign(2)), (Pairs{{4, 5}}));
    d.done(4, 5, 3);  // 3 samples of 1 s
    // At 3 s: task 0 ran 2 s, tasks 1 and 2 ran 3 s; all overdue. The lowest id is not
    // the slowest.
    EXPECT_EQ(pairs(d.assign(3)), (Pairs{{4, 1}}));
}

TEST(SchedulerSpeculation, ATaskWithSeveralCopiesIsJudgedByItsBestCopy) {
    SchedulerOptions o = speculative();
    o.max_copies = 2;
    o.max_speculative = 5;
    SchedulerDriver d(5, 4, o);
    d.assign(0);  // 1: 0, 2: 1, 3: 2, 4: 3
    d.done(4, 3, 1);
    ASSERT_EQ(pairs(d.assign(1)), (Pairs{{4, 4}}));
    d.done(4, 4, 2);  // the median: 1 s
    // At 10 s tasks 0, 1 and 2 are overdue with 10 s left each: the lowest id gets the copy.
    ASSERT_EQ(pairs(d.assign(10)), (Pairs{{4, 0}}));
    d.done(3, 2, 20);
    // At 20 s task 0's first copy has 20 s left, as has task 1's only copy; but task 0's
    // copy on worker 4, 10 s old, has 10 s left, and a task is as late as its best copy.
    EXPECT_EQ(pairs(d.assign(20)), (Pairs{{3, 1}}));
}

TEST(SchedulerSpeculation, CopiesPerTaskAreCappedByMaxCopies) {
    for (int max_copies : {0, 1, 2}) {
        SCOPED_TRACE(max_copies);
        SchedulerOptions o = speculative();
        o.max_copies = max_copies;
        o.max_speculative = 10;
        SchedulerDriver d(4, 4, o);
        d.assign(0);  // task 3 runs on worker 4
        d.done(1, 0, 1);
        d.done(2, 1, 1);
        d.done(3, 2, 1);
        // A task gets a further copy only once its best copy is overdue too.
        Assignments copies;
        for (double now : {10.0, 100.0, 1000.0, 10000.0}) {
            for (const Assignment& a : d.assign(now)) copies.push_back(a);
        }
        EXPECT_EQ(copies.size(), static_cast<std::size_t>(max_copies));
        for (const Assignment& a : copies) EXPECT_EQ(a.task.value(), 3u);
    }
}

TEST(SchedulerSpeculation, SpeculativeCopiesAreCappedByMaxSpeculative) {
    SchedulerOptions o = speculative();
    o.max_speculative = 1;
    SchedulerDriver d(4, 4, o);
    d.assign(0);  // tasks 0..3 on workers 1..4
    d.done(1, 0, 1);
    d.done(2, 1, 1);
    ASSERT_EQ(pairs(d.assign(10)), (Pairs{{1, 2}})) << "tasks 2 and 3 are overdue, cap 1";
    d.done(3, 2, 11);  // the original wins; the copy on 1 is cancelled
    EXPECT_EQ(pairs(d.assign(11)), (Pairs{{2, 3}}))
        << "the cancelled copy no longer counts; still one copy for idle workers 2 and 3";

    SchedulerOptions half = speculative();  // max_speculative 0: half of the 4 workers
    half.max_copies = 3;
    SchedulerDriver h(2, 4, half);
    h.assign(0);
    h.done(1, 0, 1);
    EXPECT_EQ(pairs(h.assign(10)), (Pairs{{1, 1}}));
    EXPECT_EQ(pairs(h.assign(100)), (Pairs{{3, 1}}));
    EXPECT_TRUE(h.assign(1000).empty()) << "2 speculative copies: half of the 4 workers";
}

TEST(SchedulerSpeculation, ACopyNeverLandsOnAWorkerThatHoldsTheTask) {
    // Task 2 is queued on worker 1 behind task 0. Worker 2 takes it over (a move); the copy
    // on worker 1 is being cancelled when task 2 fails on worker 2 and goes back to the
    // pool. Worker 1 has a free slot but must not get task 2 back while it holds it.
    // Worker 2 is retired by that failure, so worker 1 is the only one left.
    SchedulerOptions o = speculative(5);
    o.prefetch = 2;
    o.max_attempts = 3;
    o.max_worker_errors = 1;
    SchedulerDriver d(3, 2, o);
    EXPECT_EQ(pairs(d.assign(0)), (Pairs{{1, 0}, {2, 1}, {1, 2}}));
    d.done(2, 1, 1);
    const Assignments moved = d.assign(1);
    ASSERT_EQ(pairs(moved), (Pairs{{2, 2}}));
    ASSERT_TRUE(moved[0].moved_from.has_value());
    EXPECT_EQ(moved[0].moved_from->value(), 1);
    const FailOutcome failed = d.fail(2, 2, 2);
    EXPECT_EQ(failed.verdict, FailVerdict::Retry);
    EXPECT_TRUE(failed.worker_retired);
    EXPECT_TRUE(d.assign(2).empty()) << "worker 1 has a free slot but still holds task 2";
    d.cancelled(1, 2, 3);
    EXPECT_EQ(pairs(d.assign(3)), (Pairs{{1, 2}}));
    d.done(1, 0, 4);
    d.done(1, 2, 5);
    EXPECT_TRUE(d.scheduler().finished());
}

TEST(SchedulerSpeculation, AnIdleWorkerTakesOverAQueuedCopyAndTheOriginalIsCancelled) {
    SchedulerOptions o = speculative(5);  // no median needed for a queued copy
    o.prefetch = 1;
    SchedulerDriver d(3, 2, o);
    EXPECT_EQ(pairs(d.assign(0)), (Pairs{{1, 0}, {2, 1}, {1, 2}}));
    d.done(2, 1, 1);
    const Assignments moved = d.assign(1);
    ASSERT_EQ(pairs(moved), (Pairs{{2, 2}}));
    EXPECT_TRUE(moved[0].speculative);
    ASSERT_TRUE(moved[0].moved_from.has_value());
    EXPECT_EQ(moved[0].moved_from->value(), 1);
    EXPECT_EQ(moved[0].attempt, 1) << "a move is not an extra attempt";
    EXPECT_TRUE(d.held(1)[1].cancel_sent);
    EXPECT_EQ(d.scheduler().counts().speculative_started, 1u);
    EXPECT_EQ(d.scheduler().counts().running, 2u);

    d.cancelled(1, 2, 1.5);
    const DoneOutcome won = d.done(2, 2, 2);
    EXPECT_TRUE(won.accepted);
    EXPECT_EQ(won.attempts, 1) << "a moved copy is the same attempt";
    EXPECT_EQ(d.scheduler().counts().speculative_won, 1u);
    d.done(1, 0, 3);
    EXPECT_TRUE(d.scheduler().finished());

    SchedulerOptions off = o;
    off.speculate = false;
    SchedulerDriver no(3, 2, off);
    no.assign(0);
    no.done(2, 1, 1);
    EXPECT_TRUE(no.assign(1).empty()) << "no moves without speculation";
}

// ---- first result wins ------------------------------------------------------------------

TEST(SchedulerResults, TheFirstResultWinsOtherCopiesAreCancelledAndLateOnesAreDuplicates) {
    SchedulerOptions o = speculative();
    o.max_copies = 2;
    SchedulerDriver d(3, 4, o);
    d.assign(0);  // 1: 0, 2: 1, 3: 2
    d.done(1, 0, 1);
    d.done(2, 1, 1);
    ASSERT_EQ(pairs(d.assign(10)), (Pairs{{1, 2}}));
    ASSERT_EQ(pairs(d.assign(20)), (Pairs{{2, 2}})) << "the first copy is overdue too";
    // Task 2 now runs on 3 (original), 1 and 2 (copies).
    const DoneOutcome win = d.done(1, 2, 11);
    EXPECT_TRUE(win.accepted);
    EXPECT_EQ(pairs(win.cancels), (Pairs{{3, 2}, {2, 2}}));
    EXPECT_EQ(d.scheduler().counts().speculative_won, 1u);
    EXPECT_FALSE(d.scheduler().is_held(TaskId(2)));
    EXPECT_EQ(d.scheduler().counts().running, 0u);
    EXPECT_EQ(d.scheduler().counts().in_flight, 2u) << "cancelled copies hold their slots";

    const DoneOutcome late = d.done(3, 2, 12);
    EXPECT_FALSE(late.accepted);
    EXPECT_TRUE(late.cancels.empty());
    EXPECT_EQ(d.scheduler().counts().duplicates, 1u);
    EXPECT_EQ(d.fail(2, 2, 13).verdict, FailVerdict::Ignored);
    EXPECT_EQ(d.scheduler().counts().done, 3u);
    EXPECT_TRUE(d.scheduler().finished());
}

// ---- drain ------------------------------------------------------------------------------

TEST(SchedulerDrain, DrainCancelsEveryCopyStopsDispatchAndKeepsTasksPending) {
    SchedulerOptions o = plain();
    o.prefetch = 1;
    o.speculate = true;
    SchedulerDriver d(10, 2, o);
    d.assign(0);  // 1: 0 2, 2: 1 3
    const std::vector<Cancellation> cancels = d.drain();
    EXPECT_EQ(pairs(cancels), (Pairs{{1, 0}, {1, 2}, {2, 1}, {2, 3}}));
    SchedulerCounts c = d.scheduler().counts();
    EXPECT_EQ(c.pending, 10u);
    EXPECT_EQ(c.running, 0u);
    EXPECT_TRUE(d.scheduler().stalled());
    EXPECT_FALSE(d.scheduler().finished());

    EXPECT_TRUE(d.done(1, 0, 1).accepted) << "it finished before the cancellation arrived";
    d.cancelled(1, 2, 1);
    d.cancelled(2, 1, 1);
    EXPECT_EQ(d.fail(2, 3, 1).verdict, FailVerdict::Ignored);
    EXPECT_TRUE(d.assign(2).empty()) << "no dispatch after a drain, even with idle workers";
    c = d.scheduler().counts();
    EXPECT_EQ(c.done, 1u);
    EXPECT_EQ(c.pending, 9u);
    EXPECT_EQ(c.in_flight, 0u);
    EXPECT_EQ(d.scheduler().attempts(TaskId(1)), 1);
    EXPECT_EQ(d.scheduler().attempts(TaskId(3)), 0) << "queued, cancelled before it started";
    EXPECT_TRUE(d.scheduler().stalled());
}

TEST(SchedulerDrain, DrainLeavesNoTaskAssignedAndLosesNone) {
    SchedulerOptions o = plain();
    o.prefetch = 2;
    SchedulerDriver d(20, 3, o);
    d.assign(0);
    d.done(1, 0, 1);
    d.assign(1);
    const std::vector<Cancellation> cancels = d.drain();
    // Every copy answers: some as results that raced the cancellation, the rest cancelled.
    for (const Cancellation& c : cancels) {
        if (c.task.value() % 2 == 0) {
            d.done(c.worker.value(), c.task.value(), 2);
        } else {
            d.cancelled(c.worker.value(), c.task.value(), 2);
        }
    }
    const SchedulerCounts c = d.scheduler().counts();
    EXPECT_EQ(c.in_flight, 0u);
    EXPECT_EQ(c.running, 0u);
    EXPECT_EQ(c.done + c.pending, 20u) << "nothing lost, nothing failed";
    for (std::uint64_t t = 0; t < 20; ++t) EXPECT_FALSE(d.scheduler().is_held(TaskId(t)));
    EXPECT_TRUE(d.assign(3).empty());
    EXPECT_TRUE(d.scheduler().stalled());
}

// ---- bad input --------------------------------------------------------------------------

void expect_rejected(SchedulerOptions o, const std::string& option, const std::string& value) {
    try {
        Scheduler s(10, {WorkerId(1)}, o);
        ADD_FAILURE() << option << " = " << value << " was accepted";
    } catch (const std::invalid_argument& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(option), std::string::npos) << message;
        EXPECT_NE(message.find("got " + value), std::string::npos) << message;
    }
}

TEST(SchedulerOptionsValidation, BadOptionsAreRejectedNamingTheOptionAndValue) {
    SchedulerOptions o;
    o.max_attempts = 0;
    expect_rejected(o, "max_attempts", "0");
    o = {};
    o.max_worker_errors = -1;
    expect_rejected(o, "max_worker_errors", "-1");
    o = {};
    o.prefetch = -2;
    expect_rejected(o, "prefetch", "-2");
    o = {};
    o.speculate_after = 0;
    expect_rejected(o, "speculate_after", "0");
    o = {};
    o.max_copies = -1;
    expect_rejected(o, "max_copies", "-1");
    o = {};
    o.max_speculative = -3;
    expect_rejected(o, "max_speculative", "-3");
    o = {};
    o.min_samples = 0;
    expect_rejected(o, "min_samples", "0");
}

TEST(SchedulerOptionsValidation, DuplicateWorkersAndSettledIdsOutOfRangeAreRejected) {
    EXPECT_THROW(Scheduler(3, {WorkerId(1), WorkerId(2), WorkerId(1)}, {}), std::invalid_argument);
    SettledTasks beyond;
    beyond.add(TaskId(3), TaskStatus::Done);
    try {
        Scheduler(3, {WorkerId(1)}, {}, beyond);
        ADD_FAILURE() << "task 3 of 3 accepted as settled";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("settled task 3 out of range (3 tasks)"), std::string::npos)
            << e.what();
    }
}

TEST(SchedulerOptionsValidation, RepliesForCopiesNotHeldAreRejected) {
    Scheduler s(3, {WorkerId(1)}, plain());
    s.assign(0);
    EXPECT_THROW(s.on_done(WorkerId(9), TaskId(0), 1), std::invalid_argument);
    EXPECT_THROW(s.on_done(WorkerId(1), TaskId(1), 1), std::invalid_argument);
    EXPECT_THROW(s.status(TaskId(3)), std::invalid_argument);
    s.check_invariants();
}

}  // namespace
}  // namespace mpisweep
