// Random runs: random options, workers that fail or break, replies in random order (a
// cancelled copy may answer out of order, or with a result that beat the cancellation),
// outside retirements and drains. The driver checks the invariants after every event; at
// the end every task must be settled exactly once, or still pending if the run stalled.
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

#include "schedule/scheduler.hpp"
#include "unit/scheduler_driver.hpp"

namespace mpisweep {
namespace {

using testing::HeldCopy;
using testing::SchedulerDriver;

class RandomRun {
public:
    explicit RandomRun(std::uint64_t seed) : rng_(seed) {}

    void play() {
        const auto n_tasks = static_cast<std::uint64_t>(pick(0, 60));
        const int n_workers = pick(1, 8);
        SchedulerOptions o;
        o.max_attempts = pick(1, 3);
        o.max_worker_errors = pick(0, 4);
        o.prefetch = pick(0, 3);
        o.speculate = chance(0.7);
        o.speculate_after = std::vector<double>{0.5, 1.0, 1.5, 3.0}[static_cast<std::size_t>(pick(0, 3))];
        o.max_copies = pick(0, 2);
        o.max_speculative = pick(0, 3);
        o.min_samples = pick(1, 3);
        std::vector<TaskStatus> initial;
        if (chance(0.3)) {
            for (std::uint64_t t = 0; t < n_tasks; ++t) {
                initial.push_back(static_cast<TaskStatus>(pick(0, 2)));
            }
        }
        const bool retry_failed = chance(0.5);
        SCOPED_TRACE("tasks " + std::to_string(n_tasks) + ", workers " + std::to_string(n_workers) +
                     ", prefetch " + std::to_string(o.prefetch) + ", max_attempts " +
                     std::to_string(o.max_attempts) + ", speculate " + std::to_string(o.speculate));

        std::vector<double> fail_rate(n_tasks);
        for (double& r : fail_rate)
            r = std::vector<double>{0.0, 0.0, 0.0, 0.1, 0.3, 1.0}[static_cast<std::size_t>(pick(0, 5))];
        std::vector<bool> broken(static_cast<std::size_t>(n_workers) + 1);
        for (int w = 1; w <= n_workers; ++w) broken[static_cast<std::size_t>(w)] = chance(0.1);

        SchedulerDriver d(n_tasks, n_workers, o, initial, retry_failed);
        const Scheduler& s = d.scheduler();
        std::vector<bool> settled_at_start(n_tasks);
        for (std::uint64_t t = 0; t < n_tasks; ++t) {
            settled_at_start[t] = s.status(TaskId(t)) != TaskStatus::Pending;
        }

        double now = 0;
        bool drained = false;
        const int drain_at = chance(0.1) ? pick(0, 100) : -1;
        int steps = 0;
        for (; steps < 20000; ++steps) {
            if (s.finished() || (s.stalled() && d.copies_held() == 0)) break;
            now += std::exponential_distribution<double>(2.0)(rng_);
            if (d.copies_held() == 0) {
                // Nothing in flight and work left: the scheduler must hand something out.
                ASSERT_FALSE(d.assign(now).empty()) << "no progress possible at step " << steps;
                continue;
            }
            const double event = uniform();
            if (event < 0.3) {
                d.assign(now);
            } else if (event < 0.303) {
                d.retire(pick(1, n_workers));
            } else if (event < 0.313) {
                d.set_prefetch(pick(0, 6));  // as the master does when durations shift
            } else if (steps >= drain_at && drain_at >= 0 && !drained) {
                d.drain();
                drained = true;
            } else {
                reply(d, n_workers, fail_rate, broken, now);
            }
        }
        ASSERT_LT(steps, 20000) << "the run did not end";

        const SchedulerCounts c = s.counts();
        std::uint64_t done = 0, failed = 0;
        for (std::uint64_t t = 0; t < n_tasks; ++t) {
            const int outcomes = d.accepted(t) + d.failed_for_good(t);
            const TaskStatus status = s.status(TaskId(t));
            if (settled_at_start[t]) {
                EXPECT_EQ(outcomes, 0) << "task " << t << " was settled in the file";
            } else if (s.finished()) {
                EXPECT_EQ(outcomes, 1) << "task " << t << " settled " << outcomes << " times";
            } else {
                EXPECT_LE(outcomes, 1) << "task " << t;
            }
            if (outcomes == 1) {
                EXPECT_EQ(status, d.accepted(t) == 1 ? TaskStatus::Done : TaskStatus::Failed);
            }
            done += status == TaskStatus::Done;
            failed += status == TaskStatus::Failed;
        }
        EXPECT_EQ(c.done, done);
        EXPECT_EQ(c.failed, failed);
        EXPECT_EQ(c.duplicates, d.duplicates());
        EXPECT_LE(c.speculative_won, c.speculative_started);
        if (!s.finished()) {
            EXPECT_TRUE(drained || c.retired == n_workers) << "stalled without a reason";
        } else {
            EXPECT_FALSE(s.stalled());
        }
    }

private:
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
    bool chance(double p) { return uniform() < p; }

    /// A worker answers one of its copies: mostly the one it runs; a copy it was told to
    /// cancel may be answered at once, out of order.
    void reply(SchedulerDriver& d, int n_workers, const std::vector<double>& fail_rate,
               const std::vector<bool>& broken, double now) {
        int w = pick(1, n_workers);
        while (d.held(w).empty()) w = w % n_workers + 1;
        const std::deque<HeldCopy>& queue = d.held(w);
        std::size_t which = 0;
        if (chance(0.5)) {
            for (std::size_t i = 0; i < queue.size(); ++i) {
                if (queue[i].cancel_sent) which = i;
            }
        }
        const HeldCopy copy = queue[which];
        if (copy.cancel_sent) {
            const double r = uniform();
            if (r < 0.7 || which != 0) {
                d.cancelled(w, copy.task, now);
            } else if (r < 0.85) {
                d.done(w, copy.task, now);  // it finished before the cancellation arrived
            } else {
                d.fail(w, copy.task, now);
            }
            return;
        }
        if (chance(0.02)) {
            d.cancelled(w, copy.task, now);  // dropped without being asked (killed, say)
        } else if (broken[static_cast<std::size_t>(w)] || chance(fail_rate[copy.task])) {
            d.fail(w, copy.task, now);
        } else {
            d.done(w, copy.task, now);
        }
    }

    std::mt19937_64 rng_;
};

TEST(SchedulerRandom, RandomEventsKeepInvariantsAndSettleEveryTaskExactlyOnce) {
    for (std::uint64_t seed = 1; seed <= 10000; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        RandomRun(seed).play();
        if (::testing::Test::HasFatalFailure()) return;
    }
}

}  // namespace
}  // namespace mpisweep
