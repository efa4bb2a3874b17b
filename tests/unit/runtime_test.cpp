// The master and its workers through the test transport (runtime_rig.hpp), no mpirun: every
// copy answered once, results in the file, retries, retirement, a result the file refuses,
// speculation with the cancel of the losing copy, and batch sizing, read off the messages.
#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <stdexcept>

#include "unit/runtime_rig.hpp"

using namespace runtime_test;

namespace {

std::int64_t x_of(const TaskContext& ctx) {
    return ctx.params.get<std::int64_t>("x");
}

}  // namespace

TEST(Runtime, EveryTaskRunsOnceAndEveryCopyIsAnsweredOnce) {
    Rig rig(
        3, range_grid(30),
        [](const TaskContext& ctx) -> TaskResult {
            return {{"y", 2.0 * static_cast<double>(x_of(ctx))}, {"rank", std::int64_t{ctx.worker.rank}}};
        },
        quiet_options());
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    rig.expect_every_copy_answered_once();
    std::vector<std::uint64_t> copies = rig.copies_sent();
    std::sort(copies.begin(), copies.end());
    ASSERT_EQ(copies.size(), 30u);
    for (std::uint64_t id = 0; id < 30; ++id) EXPECT_EQ(copies[id], id);
    for (int rank = 1; rank <= 3; ++rank) {
        EXPECT_EQ(rig.sent(Tag::Stop, rank).size(), 1u);
        EXPECT_EQ(rig.sent(Tag::Bye, rank, true).size(), 1u);
        EXPECT_FALSE(rig.copies_sent(rank).empty()) << "every worker got work";
        EXPECT_TRUE(rig.worker(rank).done());
    }
    EXPECT_TRUE(rig.sent(Tag::Drain).empty());
    EXPECT_TRUE(rig.sent(Tag::Cancel).empty());

    const auto file = rig.close_and_read();
    const auto status = file->ints("tasks/status");
    const auto worker = file->ints("tasks/worker");
    const auto rank = file->ints("results/rank");
    const auto y = file->doubles("results/y");
    for (std::size_t t = 0; t < 30; ++t) {
        EXPECT_EQ(status[t], 1);
        EXPECT_EQ(y[t], 2.0 * static_cast<double>(t));
        EXPECT_EQ(worker[t], rank[t]) << "the file names the rank that ran it";
    }
}

TEST(Runtime, FailuresAreRetriedOnAnyWorkerThenKeptWithTheirAttempts) {
    Options o = quiet_options();
    o.scheduler.max_attempts = 3;
    o.scheduler.max_worker_errors = 0;
    Rig rig(
        2, range_grid(10),
        [](const TaskContext& ctx) -> TaskResult {
            if (x_of(ctx) == 7) throw TaskFailure("seven never works", 9);
            if (x_of(ctx) % 3 == 0 && ctx.attempt == 1) throw std::runtime_error("first try fails");
            return {{"y", 1.0}};
        },
        o);
    EXPECT_EQ(rig.run_to_end(), kExitTasksFailed);
    rig.expect_every_copy_answered_once();
    const std::vector<std::uint64_t> copies = rig.copies_sent();
    EXPECT_EQ(std::count(copies.begin(), copies.end(), 7u), 3) << "max_attempts copies of task 7";
    EXPECT_EQ(std::count(copies.begin(), copies.end(), 3u), 2);
    EXPECT_EQ(std::count(copies.begin(), copies.end(), 1u), 1);
    const auto file = rig.close_and_read();
    const auto status = file->ints("tasks/status");
    const auto attempts = file->ints("tasks/attempts");
    const auto error = file->strings("tasks/error");
    const auto exit_code = file->ints("tasks/exit_code");
    EXPECT_EQ(status[7], 2);
    EXPECT_EQ(attempts[7], 3);
    EXPECT_EQ(error[7], "seven never works");
    EXPECT_EQ(exit_code[7], 9);
    for (std::size_t t : {0u, 3u, 6u, 9u}) {
        EXPECT_EQ(status[t], 1) << t;
        EXPECT_EQ(attempts[t], 2) << t;
    }
}

TEST(Runtime, AWorkerFailingInARowIsRetiredAndItsQueuedCopiesAreTakenBack) {
    Options o = quiet_options();
    o.scheduler.max_worker_errors = 2;
    o.scheduler.max_attempts = 10;
    o.scheduler.prefetch = 2;  // worker 1 holds three copies, fails two in a row
    Rig rig(
        2, range_grid(12),
        [](const TaskContext& ctx) -> TaskResult {
            if (ctx.worker.rank == 1) throw std::runtime_error("broken node");
            return {};
        },
        o);
    rig.step_master();
    ASSERT_EQ(rig.copies_sent(1).size(), 3u);
    while (rig.sent(Tag::Reports, 1, true).size() < 2) rig.step_worker(1);
    rig.step_master();
    EXPECT_EQ(rig.scheduler().counts().retired, 1);
    const auto cancels = rig.sent(Tag::Cancel, 1);
    ASSERT_EQ(cancels.size(), 1u);
    EXPECT_FALSE(cancels[0].tasks.empty()) << "its queued copies are taken back";
    const std::size_t before = rig.copies_sent(1).size();
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    rig.expect_every_copy_answered_once();
    EXPECT_EQ(rig.copies_sent(1).size(), before) << "no copy after the retirement";
    const auto file = rig.close_and_read();
    for (long long w : file->ints("tasks/worker")) EXPECT_EQ(w, 2);
    for (long long s : file->ints("tasks/status")) EXPECT_EQ(s, 1);
}

TEST(Runtime, AResultTheFileRefusesIsAFailedAttemptNotADoneTask) {
    Options o = quiet_options();
    o.scheduler.max_attempts = 2;
    Rig rig(
        1, range_grid(3),
        [](const TaskContext& ctx) -> TaskResult {
            if (x_of(ctx) == 1) return {{"y", std::string("text where numbers are")}};
            return {{"y", 1.5}};
        },
        o);
    EXPECT_EQ(rig.run_to_end(), kExitTasksFailed);
    rig.expect_every_copy_answered_once();
    const auto file = rig.close_and_read();
    const auto status = file->ints("tasks/status");
    const auto error = file->strings("tasks/error");
    EXPECT_EQ(status[0], 1);
    EXPECT_EQ(status[1], 2);
    EXPECT_EQ(status[2], 1);
    EXPECT_NE(error[1].find("y"), std::string::npos) << error[1];
    EXPECT_EQ(file->ints("tasks/attempts")[1], 2);
}

// Rows of one report batch go one by one from its columns to the store's check, the
// scheduler and the file: a refused row between accepted ones fails alone, and an observer
// that asks for results gets each accepted task's values, of every kind, once.
TEST(Runtime, EachRowOfABatchIsCheckedStoredAndReportedOnItsOwn) {
    struct Results final : Observer {
        std::map<std::uint64_t, TaskResult> got;
        std::map<std::uint64_t, int> calls;
        bool wants_results() const override { return true; }
        void on_result(TaskId task, const Point& params, const TaskResult& result) override {
            EXPECT_EQ(params.get<std::int64_t>("x"), static_cast<std::int64_t>(task.value()));
            got[task.value()] = result;
            ++calls[task.value()];
        }
    };
    auto observer = std::make_shared<Results>();
    Options o = quiet_options();
    o.observer = observer;
    o.scheduler.max_attempts = 2;
    o.scheduler.max_worker_errors = 0;  // the retries of refused rows fail in a row
    o.batch_target = std::chrono::milliseconds(2);
    const auto refused = [](std::int64_t x) { return x % 7 == 3; };
    const auto result_of = [&refused](std::int64_t x) -> TaskResult {
        const double v = static_cast<double>(x);
        if (refused(x)) return {{"y", std::string("text where numbers are")}, {"n", x}};
        return {{"y", 0.5 * v},
                {"n", -x},
                {"tag", "t" + std::to_string(x)},
                {"v", std::vector<double>{v, v + 1, v + 2}}};
    };
    FakeClock* clock = nullptr;
    Rig rig(
        1, range_grid(400),
        [&](const TaskContext& ctx) -> TaskResult {
            clock->advance(10e-6);
            return result_of(x_of(ctx));
        },
        o);
    clock = &rig.clock();
    EXPECT_EQ(rig.run_to_end(), kExitTasksFailed);
    rig.expect_every_copy_answered_once();
    bool mixed = false;  // a batch with refused and accepted rows
    for (const SentMessage& m : rig.sent(Tag::Reports, 1, true)) {
        const auto n_refused = std::count_if(m.tasks.begin(), m.tasks.end(), [&](std::uint64_t t) {
            return refused(static_cast<std::int64_t>(t));
        });
        mixed = mixed || (n_refused > 0 && static_cast<std::size_t>(n_refused) < m.tasks.size());
    }
    EXPECT_TRUE(mixed) << "the test needs batches that mix both";

    const auto file = rig.close_and_read();
    const auto status = file->ints("tasks/status");
    const auto attempts = file->ints("tasks/attempts");
    const auto error = file->strings("tasks/error");
    const auto y = file->doubles("results/y");
    const auto n = file->ints("results/n");
    const auto tag = file->strings("results/tag");
    const auto v = file->doubles("results/v");
    ASSERT_EQ(v.size(), 3u * 400);
    for (std::int64_t x = 0; x < 400; ++x) {
        const auto t = static_cast<std::size_t>(x);
        if (refused(x)) {
            EXPECT_EQ(status[t], 2) << x;
            EXPECT_EQ(attempts[t], 2) << x;
            EXPECT_NE(error[t].find("'y' is string"), std::string::npos) << error[t];
            EXPECT_EQ(observer->calls.count(t), 0u) << "no on_result for a failed task: " << x;
            continue;
        }
        EXPECT_EQ(status[t], 1) << x;
        EXPECT_EQ(attempts[t], 1) << x;
        EXPECT_EQ(y[t], 0.5 * static_cast<double>(x));
        EXPECT_EQ(n[t], -x);
        EXPECT_EQ(tag[t], "t" + std::to_string(x));
        EXPECT_EQ(v[3 * t + 2], static_cast<double>(x + 2));
        EXPECT_EQ(observer->calls[t], 1) << x;
        EXPECT_EQ(observer->got[t], result_of(x)) << x;
    }
}

// Tasks take no time of their own here: the test moves the clock, as if the workers ran
// side by side.
TEST(Runtime, AnOverdueCopyIsSpeculatedAndTheLoserIsCancelled) {
    Options o = quiet_options();
    o.scheduler.speculate = true;
    o.scheduler.prefetch = 0;
    o.scheduler.min_samples = 3;
    Rig rig(
        2, range_grid(6), [](const TaskContext&) -> TaskResult { return {}; }, o);
    rig.step_master();  // task 0 -> worker 1, task 1 -> worker 2
    ASSERT_EQ(rig.copies_sent(2), std::vector<std::uint64_t>{1});
    // Worker 2 hangs on task 1 (never stepped); worker 1 runs the others, a second each.
    for (int i = 0; i < 20 && rig.scheduler().counts().speculative_started == 0; ++i) {
        rig.clock().advance(1.0);
        rig.work(1);
        rig.step_master();
    }
    ASSERT_EQ(rig.scheduler().counts().speculative_started, 1u);
    EXPECT_EQ(rig.copies_sent(1).back(), 1u) << "worker 1 got a copy of worker 2's overdue task";
    rig.work(1);  // runs it: the first result wins
    rig.step_master();
    const auto cancels = rig.sent(Tag::Cancel, 2);
    ASSERT_EQ(cancels.size(), 1u);
    EXPECT_EQ(cancels[0].tasks, std::vector<std::uint64_t>{1});
    EXPECT_EQ(rig.scheduler().counts().speculative_won, 1u);
    // Worker 2 wakes up and finds the cancel behind its task: it answers it as cancelled.
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    rig.expect_every_copy_answered_once();
    const auto reports = rig.sent(Tag::Reports, 2, true);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].tasks, std::vector<std::uint64_t>{1});
    const auto file = rig.close_and_read();
    EXPECT_EQ(file->ints("tasks/worker")[1], 1);
    for (long long s : file->ints("tasks/status")) EXPECT_EQ(s, 1);
}

TEST(Runtime, TheMasterSleepsUntilACopyTurnsOverdue) {
    Options o = quiet_options();
    o.scheduler.speculate = true;
    o.scheduler.prefetch = 0;
    o.scheduler.min_samples = 2;
    Rig rig(
        3, range_grid(4), [](const TaskContext&) -> TaskResult { return {}; }, o);
    rig.step_master();  // tasks 0, 1, 2 to workers 1, 2, 3 at t = 1000
    rig.clock().advance(1.0);
    rig.work(1);
    rig.work(3);
    rig.step_master();  // 0 and 2 took 1 s; task 3 -> worker 1; worker 3 idle, nothing pending
    ASSERT_EQ(rig.scheduler().counts().speculative_started, 0u) << "task 1 is not overdue yet";
    // Task 1 started at 1000 s and the median is 1 s (the histogram's ~1 s): overdue after
    // 1.5 s. The master sleeps
    // until then, waking every 50 ms at most (signals); no message comes, so each wait makes
    // the fake clock jump to the time asked for.
    const double overdue = rig.scheduler().next_assign_time();
    EXPECT_NEAR(overdue, 1001.5, 0.05);
    int wakes = 0;
    while (rig.scheduler().counts().speculative_started == 0 && wakes < 100) {
        const double wake = rig.master().next_wake();
        EXPECT_LE(wake, rig.clock().now() + 0.05 + 1e-9);
        rig.net().master().wait(kAnySource, wake);
        rig.step_master();
        ++wakes;
    }
    EXPECT_EQ(rig.scheduler().counts().speculative_started, 1u);
    EXPECT_EQ(rig.clock().now(), overdue) << "speculated when the copy turned overdue, not later";
    EXPECT_EQ(wakes, 11) << "woken every 50 ms, then when it turned overdue";
    EXPECT_EQ(rig.copies_sent(3).back(), 1u) << "the idle worker takes a copy of task 1";
}

TEST(Runtime, ShortTasksAreBatchedAsTheMasterLearnsHowLongTheyTake) {
    Options o = quiet_options();
    o.batch_target = std::chrono::milliseconds(2);
    const auto rig_owner = timed_rig(2, 2000, 10e-6, o);  // 10 us a task
    Rig& rig = *rig_owner;
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    rig.expect_every_copy_answered_once();
    const auto batches = rig.sent(Tag::Tasks);
    ASSERT_FALSE(batches.empty());
    EXPECT_EQ(batches.front().tasks.size(), 2u) << "nothing is known of the tasks at first: 1 + prefetch";
    std::size_t largest = 0;
    for (const SentMessage& m : batches) largest = std::max(largest, m.tasks.size());
    EXPECT_GE(largest, 50u) << "2 ms of 10 us tasks per worker";
    EXPECT_LT(batches.size(), 2000u / 20) << "far fewer messages than tasks";
    EXPECT_GT(rig.scheduler().prefetch(), 50);
    // Reports come back batched too: each holds about batch_target / 2 of work.
    EXPECT_LT(rig.sent(Tag::Reports, 0, true).size(), 2000u / 20);
}

TEST(Runtime, ATaskWallTimeIsItsOwnNotTheWorkersTimeInMpi) {
    // On an oversubscribed node Open MPI yields the core inside the worker's progress calls
    // between tasks, for milliseconds. That time once went into the next task's start and
    // wall time: the file showed the worker's waiting, and the batch sizer, learning from
    // it, shrank the batches of a sweep of tiny tasks to a few copies.
    Options o = quiet_options();
    o.batch_target = std::chrono::milliseconds(2);
    const auto rig_owner = timed_rig(2, 3000, 10e-6, o);  // 10 us a task
    Rig& rig = *rig_owner;
    int calls = 0;
    rig.net().on_worker_progress([&](int) {
        ++calls;
        rig.clock().advance(3e-3);
    });
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    rig.expect_every_copy_answered_once();
    EXPECT_GT(calls, 10) << "the workers let their sends move on between tasks";
    const auto file = rig.close_and_read();
    const std::vector<double> wall = file->doubles("tasks/wall_s");
    ASSERT_EQ(wall.size(), 3000u);
    for (std::size_t i = 0; i < wall.size(); ++i) ASSERT_NEAR(wall[i], 10e-6, 1e-9) << "task " << i;
    EXPECT_GT(rig.scheduler().prefetch(), 50) << "2 ms of 10 us tasks held per worker, and more";
}

TEST(Runtime, BetweenTasksAWorkerCallsMpiAboutFourTimesAReportIntervalNotBeforeEveryTask) {
    // Under oversubscription each MPI test that finds nothing new yields the core (a context
    // switch); a worker let its report move on every 20 us. A report waits for rank 0
    // anyway: a quarter of the report interval is soon enough.
    Options o = quiet_options();
    o.batch_target = std::chrono::milliseconds(2);        // reports every 1 ms of work
    const auto rig_owner = timed_rig(1, 3000, 10e-6, o);  // 30 ms of 10 us tasks
    Rig& rig = *rig_owner;
    int calls = 0;
    rig.net().on_worker_progress([&](int) { ++calls; });
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    rig.expect_every_copy_answered_once();
    // Every 250 us between tasks, at each look for messages (every 1 ms, or 250 us when the
    // queue runs low), and a settle after each of the first 16 tasks.
    EXPECT_LT(calls, 2 * 30000 / 250 + 16 + 20) << "calls of MPI's progress between 3,000 tasks";
    EXPECT_GT(calls, 30) << "sends in flight still move between reports";
}

TEST(Runtime, AWorkerWhoseTasksLastAboutTheTargetDoesNotRunDryBehindASlowMaster) {
    // Tasks of 0.8 ms against a 2 ms target, and a master that answers only after every
    // third task of the worker (asleep, or off its core on an oversubscribed node). The
    // worker must still find a copy queued at every task once the master knows the tasks.
    Options o = quiet_options();
    o.batch_target = std::chrono::milliseconds(2);
    const auto rig_owner = timed_rig(1, 400, 0.8e-3, o);
    Rig& rig = *rig_owner;
    // A step of the worker that finds nothing to run, while tasks wait that were never
    // sent, after its first 40 tasks (while the master learns how long they take).
    int dry_steps = 0;
    int exit_code = -1;
    for (int round = 0; round < 100000 && exit_code < 0; ++round) {
        if (round % 3 == 0 && !rig.step_master()) exit_code = rig.master().exit_code();
        const SweepCounts c = rig.scheduler().counts();
        const bool unsent_left = c.pending > c.running;
        if (!rig.step_worker(1) && unsent_left && c.done >= 40) ++dry_steps;
    }
    EXPECT_EQ(exit_code, kExitOk);
    rig.expect_every_copy_answered_once();
    EXPECT_GE(rig.scheduler().prefetch(), 5) << "two targets of 0.8 ms tasks held beyond the one running";
    EXPECT_EQ(dry_steps, 0) << "steps of the worker that found nothing to run";
}

TEST(Runtime, WithoutBatchingEachTaskIsOneMessageEachWay) {
    const auto rig_owner = timed_rig(2, 50, 10e-6, quiet_options());
    Rig& rig = *rig_owner;
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    const auto batches = rig.sent(Tag::Tasks);
    for (std::size_t i = 0; i < batches.size(); ++i) {
        EXPECT_EQ(batches[i].tasks.size(), i < 2 ? 2u : 1u) << "1 + prefetch at first, then one for one";
    }
    for (const SentMessage& m : rig.sent(Tag::Reports, 0, true)) EXPECT_EQ(m.tasks.size(), 1u);
    EXPECT_EQ(rig.scheduler().prefetch(), 1);
}
