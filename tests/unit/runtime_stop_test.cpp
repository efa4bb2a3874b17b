// Stopping a sweep, master and workers through the test transport (runtime_rig.hpp), no
// mpirun: a signal on one worker drains everyone, the deadline drains, results that still
// come are kept, a second signal and an overrun drain end the job with the file saved, and a
// sweep whose workers are all retired stalls. What each rank sent is read off the record.
#include <signal.h>

#include <algorithm>
#include <gtest/gtest.h>

#include "unit/runtime_rig.hpp"

using namespace runtime_test;

namespace {

/// Index in the record of the first message of `tag` to worker `rank`.
std::size_t first_index(const LocalNetwork& net, Tag tag, int rank) {
    const auto& record = net.record();
    for (std::size_t i = 0; i < record.size(); ++i) {
        if (record[i].tag == tag && !record[i].to_master && record[i].worker == rank) return i;
    }
    return record.size();
}

}  // namespace

TEST(RuntimeStop, ASignalOnOneWorkerDrainsEveryWorkerAndKeepsWhatIsDone) {
    auto messages = std::make_shared<Messages>();
    Options o = quiet_options();
    o.observer = messages;
    o.scheduler.prefetch = 2;
    Rig rig(
        3, range_grid(40),
        [](const TaskContext&) -> TaskResult {
            return {{"y", 1.0}};
        },
        o);
    for (int round = 0; round < 3; ++round) {  // some tasks done
        rig.step_master();
        for (int rank = 1; rank <= 3; ++rank) rig.step_worker(rank);
    }
    rig.step_master();
    const std::uint64_t done_before = rig.scheduler().counts().done;
    ASSERT_GT(done_before, 0u);
    rig.signals_of(2).raise(SIGTERM);
    rig.work(2);  // tells the master, drops its queue, answers each copy as cancelled
    ASSERT_EQ(rig.sent(Tag::Interrupt, 2, true).size(), 1u);
    EXPECT_EQ(rig.worker(2).queued(), 0u);
    EXPECT_EQ(rig.run_to_end(), kExitInterrupted);
    rig.expect_every_copy_answered_once();
    for (int rank = 1; rank <= 3; ++rank) {
        ASSERT_EQ(rig.sent(Tag::Drain, rank).size(), 1u) << rank;
        EXPECT_LT(first_index(rig.net(), Tag::Drain, rank), first_index(rig.net(), Tag::Stop, rank));
    }
    EXPECT_TRUE(messages->said("interrupted by SIGTERM (on rank 2)")) << messages->lines.size();
    EXPECT_TRUE(messages->said("run the same command again with --resume"));
    const std::uint64_t done = rig.scheduler().counts().done;
    EXPECT_GE(done, done_before);
    EXPECT_LT(done, 40u);
    const auto status = rig.close_and_read()->ints("tasks/status");
    EXPECT_EQ(static_cast<std::uint64_t>(std::count(status.begin(), status.end(), 1)), done);
    EXPECT_EQ(static_cast<std::uint64_t>(std::count(status.begin(), status.end(), 0)), 40 - done)
        << "the rest is pending, to resume";
}

TEST(RuntimeStop, ACopyThatFinishesDuringTheDrainKeepsItsResultAndQueuedOnesAreDropped) {
    Options o = quiet_options();
    Rig* rig_ptr = nullptr;
    bool cancelled_seen = false;
    Rig rig(
        2, range_grid(10),
        [&](const TaskContext& ctx) -> TaskResult {
            if (ctx.task_id.value() == 0) {
                // While task 0 runs on worker 1, a signal reaches rank 0 and the master drains.
                rig_ptr->master_signals().raise(SIGINT);
                rig_ptr->step_master();
                rig_ptr->clock().advance(0.01);  // the worker looks for messages at most every ms
                cancelled_seen = ctx.cancelled();
            }
            return {{"y", 1.0}};  // and finishes anyway
        },
        o);
    rig_ptr = &rig;
    rig.step_master();  // two copies each: 0, 2 to worker 1; 1, 3 to worker 2
    rig.work(1);
    EXPECT_TRUE(cancelled_seen) << "the drain reached the running task";
    EXPECT_EQ(rig.run_to_end(), kExitInterrupted);
    rig.expect_every_copy_answered_once();
    EXPECT_EQ(rig.scheduler().counts().done, 1u) << "task 0's result is kept; queued copies are dropped";
    const auto status = rig.close_and_read()->ints("tasks/status");
    EXPECT_EQ(status[0], 1);
    for (std::size_t t = 1; t < status.size(); ++t) EXPECT_EQ(status[t], 0) << t;
}

TEST(RuntimeStop, TheDeadlineStopsDispatchAndDrains) {
    auto messages = std::make_shared<Messages>();
    Options o = quiet_options();
    o.observer = messages;
    o.scheduler.prefetch = 0;
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(100);
    o.deadline_margin = std::chrono::seconds(10);  // stop by fake time 1000 + 90
    FakeClock* clock = nullptr;
    Rig rig(
        2, range_grid(40),
        [&clock](const TaskContext&) -> TaskResult {
            clock->advance(7.0);
            return {};
        },
        o);
    clock = &rig.clock();
    const int code = rig.run_to_end();
    EXPECT_EQ(code, kExitInterrupted);
    rig.expect_every_copy_answered_once();
    EXPECT_TRUE(messages->said("stopped before the deadline"))
        << (messages->lines.empty() ? "" : messages->lines[0]);
    const std::uint64_t done = rig.scheduler().counts().done;
    EXPECT_GT(done, 5u);
    EXPECT_LT(done, 40u);
    // No copy was sent that could not end by the deadline: each takes 7 s (the longest seen).
    for (const SentMessage& m : rig.sent(Tag::Tasks)) {
        if (m.at > 1000.0 + 7.0) {
            EXPECT_LE(m.at + 7.0, 1090.0 + 1e-6) << "a copy sent at " << m.at;
        }
    }
}

TEST(RuntimeStop, ASecondSignalEndsTheJobWithTheFileSaved) {
    auto messages = std::make_shared<Messages>();
    Options o = quiet_options();
    o.observer = messages;
    Rig rig(
        2, range_grid(10),
        [](const TaskContext&) -> TaskResult {
            return {{"y", 1.0}};
        },
        o);
    rig.step_master();
    rig.work(1);
    rig.step_master();  // worker 1's results recorded
    rig.master_signals().raise(SIGTERM);
    rig.step_master();  // drains
    rig.master_signals().raise(SIGTERM);
    try {
        rig.step_master();
        FAIL() << "the master should have ended the job";
    } catch (const Aborted& aborted) {
        EXPECT_EQ(aborted.code, kExitInterrupted);
    }
    EXPECT_TRUE(messages->said("a second signal: stopped at once"));
    const auto status = test_support::H5File(rig.path()).ints("tasks/status");
    EXPECT_EQ(static_cast<std::uint64_t>(std::count(status.begin(), status.end(), 1)),
              rig.scheduler().counts().done)
        << "what was done is in the file";
    EXPECT_GT(rig.scheduler().counts().done, 0u);
}

TEST(RuntimeStop, AWorkerThatDoesNotStopWithinTheGraceEndsTheJob) {
    auto messages = std::make_shared<Messages>();
    Options o = quiet_options();
    o.observer = messages;
    o.drain_grace = std::chrono::seconds(10);
    Rig rig(
        2, range_grid(10), [](const TaskContext&) -> TaskResult { return {}; }, o);
    rig.step_master();
    rig.master_signals().raise(SIGUSR1);
    rig.step_master();
    rig.work(1);  // worker 2 hangs: never answers
    rig.step_master();
    rig.clock().advance(9.0);
    rig.step_master();  // still within the grace
    rig.clock().advance(1.5);
    EXPECT_THROW(rig.step_master(), Aborted);
    EXPECT_TRUE(messages->said("did not stop within the drain grace period"));
}

TEST(RuntimeStop, WhenEveryWorkerIsRetiredTheSweepStallsWithTheRestPending) {
    auto messages = std::make_shared<Messages>();
    Options o = quiet_options();
    o.observer = messages;
    o.scheduler.max_worker_errors = 1;
    Rig rig(
        2, range_grid(10),
        [](const TaskContext& ctx) -> TaskResult {
            if (ctx.params.get<std::int64_t>("x") < 8) throw std::runtime_error("bad");
            return {};
        },
        o);
    EXPECT_EQ(rig.run_to_end(), kExitStalled);
    rig.expect_every_copy_answered_once();
    EXPECT_EQ(rig.scheduler().counts().retired, 2);
    EXPECT_TRUE(messages->said("task(s) left pending"));
    for (int rank = 1; rank <= 2; ++rank) EXPECT_EQ(rig.sent(Tag::Stop, rank).size(), 1u);
}
