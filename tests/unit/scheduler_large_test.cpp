// Scale: 10^7 tasks on 10^3 workers, simulated with a fake clock, must run to completion with
// counts that add up. It pins down that the hot path does not scan all workers or all tasks
// per event (that would take hours here), not any particular speed.
#include <cstdint>
#include <deque>
#include <functional>
#include <gtest/gtest.h>
#include <queue>
#include <utility>
#include <vector>

#include "schedule/scheduler.hpp"
#include "schedule/settled_tasks.hpp"

namespace mpisweep {
namespace {

struct WorkerCopy {
    std::uint64_t task;
    bool cancel_sent;
};

TEST(SchedulerLarge, TenMillionTasksOnAThousandWorkersRunToCompletion) {
    constexpr std::uint64_t kTasks = 10'000'000;
    constexpr int kWorkers = 1000;
    std::vector<WorkerId> ids;
    for (int w = 1; w <= kWorkers; ++w) ids.emplace_back(w);
    SchedulerOptions options;  // defaults: prefetch 1, speculation on
    Scheduler scheduler(kTasks, ids, options);

    // Each worker runs its queue in order; a task takes 1 to 1.6 s, every 100000th 50 s.
    std::vector<std::deque<WorkerCopy>> queues(kWorkers + 1);
    using Event = std::pair<double, int>;  // (time the front copy answers, worker)
    std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
    auto duration = [](std::uint64_t task) {
        return task % 100000 == 7 ? 50.0 : 1.0 + static_cast<double>(task % 7) * 0.1;
    };
    auto start_front = [&](int w, double now) {
        const WorkerCopy& front = queues[static_cast<std::size_t>(w)].front();
        events.emplace(now + (front.cancel_sent ? 0.0 : duration(front.task)), w);
    };
    auto mark_cancelled = [&](const Cancellation& c) {
        for (WorkerCopy& copy : queues[static_cast<std::size_t>(c.worker.value())]) {
            if (copy.task == c.task.value()) copy.cancel_sent = true;
        }
    };
    auto assign = [&](double now) {
        for (const Assignment& a : scheduler.assign(now)) {
            auto& queue = queues[static_cast<std::size_t>(a.worker.value())];
            queue.push_back(WorkerCopy{a.task.value(), false});
            if (queue.size() == 1) start_front(a.worker.value(), now);
            if (a.moved_from) mark_cancelled(Cancellation{*a.moved_from, a.task});
        }
    };

    double now = 0;
    std::uint64_t accepted = 0, events_handled = 0;
    assign(now);
    while (!scheduler.finished()) {
        ASSERT_FALSE(events.empty()) << "nothing in flight with " << kTasks - accepted << " tasks left";
        const auto [at, w] = events.top();
        events.pop();
        now = at;
        auto& queue = queues[static_cast<std::size_t>(w)];
        const WorkerCopy front = queue.front();
        queue.pop_front();
        if (front.cancel_sent) {
            scheduler.on_cancelled(WorkerId(w), TaskId(front.task), now);
        } else {
            const DoneOutcome outcome = scheduler.on_done(WorkerId(w), TaskId(front.task), now);
            accepted += outcome.accepted;
            for (const Cancellation& c : outcome.cancels) mark_cancelled(c);
        }
        if (!queue.empty()) start_front(w, now);
        assign(now);
        ++events_handled;
    }
    const SchedulerCounts c = scheduler.counts();
    EXPECT_EQ(c.done, kTasks);
    EXPECT_EQ(accepted, kTasks);
    EXPECT_EQ(c.pending + c.running + c.failed, 0u);
    EXPECT_GE(events_handled, kTasks);
    EXPECT_GT(c.speculative_started, 0u) << "the 50 s tasks get copies at the end";
    ASSERT_TRUE(scheduler.median_duration().has_value());
    EXPECT_NEAR(*scheduler.median_duration(), 1.3, 0.1);
    scheduler.check_invariants();
}

// A fresh sweep keeps no byte for tasks never dispatched: 10^12 tasks start at once and run
// with memory for the tasks reached (before, this constructor allocated 10^12 bytes).
TEST(SchedulerLarge, ATrillionTaskSweepStartsAtOnceAndRunsItsFirstTasks) {
    constexpr std::uint64_t kTasks = 1'000'000'000'000;
    constexpr std::uint64_t kRun = 300'000;
    SchedulerOptions options;
    options.prefetch = 3;
    Scheduler scheduler(kTasks, {WorkerId(1), WorkerId(2)}, options);
    std::vector<std::deque<std::uint64_t>> held(3);
    double now = 0;
    std::uint64_t next = 0, done = 0;
    while (done < kRun) {
        for (const Assignment& a : scheduler.assign(now)) {
            ASSERT_EQ(a.task.value(), next++) << "lowest pending id first";
            held[static_cast<std::size_t>(a.worker.value())].push_back(a.task.value());
        }
        now += 1;
        for (std::size_t w = 1; w <= 2; ++w) {
            ASSERT_TRUE(
                scheduler.on_done(WorkerId(static_cast<int>(w)), TaskId(held[w].front()), now).accepted);
            held[w].pop_front();
            ++done;
        }
    }
    const SchedulerCounts c = scheduler.counts();
    EXPECT_EQ(c.total, kTasks);
    EXPECT_EQ(c.done, done);
    EXPECT_EQ(c.running, 6u) << "2 workers x (1 + prefetch 3) - the 2 just answered";
    EXPECT_EQ(c.pending, kTasks - done - c.running);
    EXPECT_EQ(scheduler.status(TaskId(kTasks - 1)), TaskStatus::Pending);
    EXPECT_FALSE(scheduler.is_held(TaskId(kTasks - 1)));
    EXPECT_EQ(scheduler.attempts(TaskId(kTasks - 1)), 0);
    EXPECT_EQ(scheduler.status(TaskId(0)), TaskStatus::Done);
}

/// 10^15 tasks with 10^6 settled: region A, [0, 10^6), has every odd id settled (one in ten
/// of them failed); region B, the next 10^8 ids, is one done run; region C, the rest, has
/// 499,999 ids settled, one every 2 * 10^9 ids, the first 50,000 ids into C.
constexpr std::uint64_t kQuadrillion = 1'000'000'000'000'000;
constexpr std::uint64_t kRegionB = 1'000'000, kRegionC = kRegionB + 100'000'000;

SettledTasks scattered_settled() {
    SettledTasks settled;
    for (std::uint64_t id = 1; id < kRegionB; id += 2) {
        settled.add(TaskId(id), id % 20 == 1 ? TaskStatus::Failed : TaskStatus::Done);
    }
    settled.add(kRegionB, kRegionC - kRegionB, TaskStatus::Done);
    for (std::uint64_t i = 0; i < 499'999; ++i)
        settled.add(TaskId(kRegionC + 50'000 + i * 2'000'000'000), TaskStatus::Done);
    return settled;
}

/// Runs `n` tasks on 2 workers with prefetch 3, all done; returns the ids in dispatch order.
std::vector<std::uint64_t> run_first(Scheduler& scheduler, std::uint64_t n) {
    std::vector<std::deque<std::uint64_t>> held(3);
    std::vector<std::uint64_t> order;
    double now = 0;
    while (order.size() < n) {
        for (const Assignment& a : scheduler.assign(now)) {
            held[static_cast<std::size_t>(a.worker.value())].push_back(a.task.value());
            order.push_back(a.task.value());
        }
        now += 1;
        for (int w = 1; w <= 2; ++w) {
            auto& queue = held[static_cast<std::size_t>(w)];
            EXPECT_EQ(scheduler.on_done(WorkerId(w), TaskId(queue.front()), now).attempts, 1);
            queue.pop_front();
        }
        if (order.size() % 100'000 < 8) scheduler.check_invariants();
    }
    scheduler.check_invariants();
    return order;
}

TEST(SchedulerLarge, AQuadrillionTaskGridResumedWithAMillionSettledIdsCostsWhatIsSettled) {
    const SettledTasks settled = scattered_settled();
    ASSERT_EQ(settled.done() + settled.failed(), 500'000 + 100'000'000 + 499'999u);
    SchedulerOptions options;
    options.prefetch = 3;
    Scheduler scheduler(kQuadrillion, {WorkerId(1), WorkerId(2)}, options, settled);
    scheduler.check_invariants();
    const SchedulerCounts start = scheduler.counts();
    EXPECT_EQ(start.failed, 50'000u);
    EXPECT_EQ(start.done, settled.done());
    EXPECT_EQ(start.pending, kQuadrillion - settled.done() - settled.failed());

    const std::vector<std::uint64_t> order = run_first(scheduler, 600'000);
    // The even ids of A, then C from its start, skipping the settled id 50,000 into C.
    for (std::uint64_t i = 0; i < 500'000; ++i) ASSERT_EQ(order[i], 2 * i) << "dispatch " << i;
    for (std::uint64_t i = 500'000; i < order.size(); ++i) {
        const std::uint64_t into_c = i - 500'000;
        ASSERT_EQ(order[i], kRegionC + into_c + (into_c >= 50'000 ? 1 : 0)) << "dispatch " << i;
    }
    EXPECT_EQ(scheduler.status(TaskId(3)), TaskStatus::Done);
    EXPECT_EQ(scheduler.status(TaskId(21)), TaskStatus::Failed);
    EXPECT_EQ(scheduler.status(TaskId(kRegionC + 50'000 + 7 * std::uint64_t{2'000'000'000})),
              TaskStatus::Done);
    EXPECT_EQ(scheduler.status(TaskId(kQuadrillion - 1)), TaskStatus::Pending);
    EXPECT_EQ(scheduler.counts().done, start.done + 600'000 - scheduler.counts().running);
    // Runs (24 bytes each) and pages for the ~1.1M ids the cursor passed outside region B:
    // tens of MB, where a byte per task would be 10^15.
    EXPECT_LT(scheduler.task_state_bytes(), 40'000'000u);
}

TEST(SchedulerLarge, AResumeWithRetryFailedRunsTheFailedIdsAgainAmongThePendingOnes) {
    SchedulerOptions options;
    options.prefetch = 3;
    Scheduler scheduler(kQuadrillion, {WorkerId(1), WorkerId(2)}, options, scattered_settled(),
                        /*retry_failed=*/true);
    EXPECT_EQ(scheduler.counts().failed, 0u);
    const std::vector<std::uint64_t> order = run_first(scheduler, 30'000);
    // Below 20,000: the even ids and the failed odd ones (id % 20 == 1), in id order.
    std::vector<std::uint64_t> expected;
    for (std::uint64_t id = 0; expected.size() < order.size(); ++id) {
        if (id % 2 == 0 || id % 20 == 1) expected.push_back(id);
    }
    EXPECT_EQ(order, expected);
}

}  // namespace
}  // namespace mpisweep
