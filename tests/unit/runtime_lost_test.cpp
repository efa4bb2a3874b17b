// Lost workers (issue 12, item 2), master and workers through the test transport
// (runtime_rig.hpp) on a fake clock: a worker that stays silent longer than the heartbeat
// timeout is declared lost, its tasks run elsewhere, what it sends later is dropped, and the
// master ends the job without it once the file is closed; a worker that keeps beating while a
// long task polls is not lost.
#include <algorithm>
#include <gtest/gtest.h>

#include "unit/runtime_rig.hpp"

using namespace runtime_test;

namespace {

Options lost_options(const std::shared_ptr<Messages>& messages) {
    Options o = quiet_options();
    o.observer = messages;
    o.scheduler.prefetch = 1;
    o.heartbeat_timeout = std::chrono::seconds(10);
    return o;
}

}  // namespace

TEST(RuntimeLost, ASilentWorkerIsLostItsTasksRunElsewhereAndTheJobEndsWithoutIt) {
    auto messages = std::make_shared<Messages>();
    FakeClock* clock = nullptr;
    Rig rig(
        3, range_grid(30),
        [&clock](const TaskContext&) -> TaskResult {
            clock->advance(1.0);  // a second a task
            return {{"y", 1.0}};
        },
        lost_options(messages));
    clock = &rig.clock();
    for (int rank = 1; rank <= 3; ++rank) rig.worker(rank).heartbeat_every(2.5);
    rig.step_master();
    const std::vector<std::uint64_t> held_by_2 = rig.copies_sent(2);
    ASSERT_EQ(held_by_2.size(), 2u) << "one running, one prefetched";
    // Worker 2 hangs from here on (never stepped); the others work.
    int code = -1;
    try {
        for (int round = 0; round < 10000; ++round) {
            rig.step_master();
            rig.step_worker(1);
            rig.step_worker(3);
        }
        FAIL() << "the job did not end";
    } catch (const Aborted& aborted) {
        code = aborted.code;
    }
    EXPECT_EQ(code, kExitOk) << "every task done: the normal code, through MPI_Abort";
    EXPECT_TRUE(messages->said("rank 2 on node2 sent nothing for 10 s"));
    EXPECT_TRUE(messages->said("2 task(s) it held are pending again"));
    EXPECT_TRUE(
        messages->said("results file is closed; ending the job with MPI_Abort(0) because lost rank(s) 2"));
    EXPECT_EQ(rig.sent(Tag::Stop, 2).size(), 0u) << "nothing more goes to a lost rank";
    EXPECT_EQ(rig.sent(Tag::Tasks, 2).size(), 1u);
    // The file was closed before the abort: every task done once, none by the lost rank.
    test_support::H5File file(rig.path());
    const auto status = file.ints("tasks/status");
    const auto worker = file.ints("tasks/worker");
    ASSERT_EQ(status.size(), 30u);
    for (std::size_t t = 0; t < status.size(); ++t) {
        EXPECT_EQ(status[t], 1) << "task " << t;
        EXPECT_NE(worker[t], 2) << "task " << t;
    }
}

TEST(RuntimeLost, WhatALostWorkerSendsLaterIsDropped) {
    auto messages = std::make_shared<Messages>();
    Rig rig(
        2, range_grid(6),
        [](const TaskContext&) -> TaskResult {
            return {{"y", 2.0}};
        },
        lost_options(messages));
    for (int rank = 1; rank <= 2; ++rank) rig.worker(rank).heartbeat_every(2.5);
    rig.step_master();
    const std::vector<std::uint64_t> held_by_2 = rig.copies_sent(2);
    ASSERT_EQ(held_by_2.size(), 2u);
    // Worker 2 stays silent; worker 1 runs the rest, then idles (beating) until 2 is lost.
    for (int i = 0; i < 20 && !messages->said("rank 2 on node2 sent nothing"); ++i) {
        rig.clock().advance(1.0);
        rig.work(1);
        rig.step_master();
    }
    ASSERT_TRUE(messages->said("rank 2 on node2 sent nothing"));
    EXPECT_FALSE(messages->said("rank 1 on node1 sent nothing")) << "an idle worker beats";
    EXPECT_GT(rig.sent(Tag::Heartbeat, 1, true).size(), 0u);
    EXPECT_EQ(rig.scheduler().counts().done, 4u);
    rig.work(2);  // wakes up: runs what it held and reports it
    ASSERT_EQ(rig.sent(Tag::Reports, 2, true).size(), 2u);
    rig.step_master();  // drops those reports: the tasks are pending again, for worker 1
    EXPECT_EQ(rig.scheduler().counts().done, 4u);
    try {
        rig.run_to_end();
        FAIL() << "the job should end through abort";
    } catch (const Aborted& aborted) {
        EXPECT_EQ(aborted.code, kExitOk);
    }
    test_support::H5File file(rig.path());
    const auto worker = file.ints("tasks/worker");
    for (std::uint64_t t : held_by_2) EXPECT_EQ(worker[t], 1) << "task " << t << " is worker 1's";
    for (long long s : file.ints("tasks/status")) EXPECT_EQ(s, 1);
}

TEST(RuntimeLost, AWorkerBusyWithAPollingTaskKeepsBeatingAndIsNotLost) {
    auto messages = std::make_shared<Messages>();
    FakeClock* clock = nullptr;
    Rig rig(
        2, range_grid(4),
        [&clock](const TaskContext& ctx) -> TaskResult {
            if (ctx.params.get<std::int64_t>("x") == 0) {
                for (int s = 0; s < 30; ++s) {  // 30 s, three times the timeout
                    clock->advance(1.0);
                    if (ctx.cancelled()) return {};
                }
            }
            return {{"y", 1.0}};
        },
        lost_options(messages));
    clock = &rig.clock();
    for (int rank = 1; rank <= 2; ++rank) rig.worker(rank).heartbeat_every(2.5);
    EXPECT_EQ(rig.run_to_end(), kExitOk);
    EXPECT_FALSE(messages->said("sent nothing"));
    EXPECT_GE(rig.sent(Tag::Heartbeat, 0, true).size(), 10u) << "from inside the task's polls";
    rig.expect_every_copy_answered_once();
}
