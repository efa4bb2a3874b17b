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

}  // namespace
}  // namespace mpisweep
