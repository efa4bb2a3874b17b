// Settled tasks as runs, and the scheduler's per-task bytes in pages reached by the dispatch
// cursor: checked against a plain vector of statuses, with small pages so that runs cross
// many page edges and the cursor jumps over whole pages.
#include "schedule/task_states.hpp"

#include <gtest/gtest.h>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "schedule/settled_tasks.hpp"

namespace mpisweep {
namespace {

std::string describe(const SettledTasks& s) {
    std::string out;
    for (const SettledRun& r : s.runs()) {
        out += "[" + std::to_string(r.first) + "+" + std::to_string(r.count) + " " +
               std::to_string(static_cast<int>(r.status)) + "]";
    }
    return out;
}

TEST(SettledTasks, AdjacentIdsWithOneStatusMergeIntoOneRun) {
    SettledTasks s;
    s.add(TaskId(3), TaskStatus::Done);
    s.add(TaskId(4), TaskStatus::Done);
    s.add(5, 10, TaskStatus::Done);
    s.add(TaskId(15), TaskStatus::Failed);
    s.add(TaskId(20), TaskStatus::Failed);
    EXPECT_EQ(describe(s), "[3+12 1][15+1 2][20+1 2]");
    EXPECT_EQ(s.done(), 12u);
    EXPECT_EQ(s.failed(), 2u);
    EXPECT_EQ(s.end(), 21u);
    EXPECT_EQ(s.status(2), TaskStatus::Pending);
    EXPECT_EQ(s.status(3), TaskStatus::Done);
    EXPECT_EQ(s.status(14), TaskStatus::Done);
    EXPECT_EQ(s.status(15), TaskStatus::Failed);
    EXPECT_EQ(s.status(16), TaskStatus::Pending);
    EXPECT_EQ(s.status(1'000'000'000'000'000), TaskStatus::Pending);
    EXPECT_EQ(describe(s.without_failed()), "[3+12 1]");
}

TEST(SettledTasks, BadRunsAreRejectedSayingWhy) {
    SettledTasks s;
    s.add(TaskId(10), TaskStatus::Done);
    auto message = [&](auto add) {
        try {
            add();
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message([&] { s.add(TaskId(10), TaskStatus::Done); }).find("increasing id order"),
              std::string::npos);
    EXPECT_NE(message([&] { s.add(TaskId(5), TaskStatus::Failed); }).find("task 5 comes after task 10"),
              std::string::npos);
    EXPECT_NE(message([&] { s.add(TaskId(11), TaskStatus::Pending); }).find("must be done or failed"),
              std::string::npos);
    EXPECT_NE(message([&] { s.add(12, 0, TaskStatus::Done); }).find("of 0 tasks"), std::string::npos);
    EXPECT_NE(message([] {
                  SettledTasks::from_statuses({TaskStatus::Done, static_cast<TaskStatus>(7)});
              }).find("status of task 1 is 7"),
              std::string::npos);
    EXPECT_EQ(describe(s), "[10+1 1]") << "a rejected run changes nothing";
}

TEST(SettledTasks, FromPairsSortsAndTheLastStatusOfAnIdWins) {
    // A journal replayed over the file: task 7 failed in the file, then done on a retry.
    const SettledTasks s = SettledTasks::from_pairs({{TaskId(7), TaskStatus::Failed},
                                                     {TaskId(2), TaskStatus::Done},
                                                     {TaskId(3), TaskStatus::Done},
                                                     {TaskId(9), TaskStatus::Pending},
                                                     {TaskId(7), TaskStatus::Done},
                                                     {TaskId(8), TaskStatus::Done}});
    EXPECT_EQ(describe(s), "[2+2 1][7+2 1]");
    const SettledTasks from_column = SettledTasks::from_statuses(
        {TaskStatus::Pending, TaskStatus::Done, TaskStatus::Done, TaskStatus::Failed, TaskStatus::Pending});
    EXPECT_EQ(describe(from_column), "[1+2 1][3+1 2]");
}

/// Random settled runs over a grid, as a plain vector and as runs.
struct RandomGrid {
    std::vector<TaskStatus> statuses;
    SettledTasks settled;
};

RandomGrid random_grid(std::mt19937_64& rng) {
    const auto n = std::uniform_int_distribution<std::uint64_t>(0, 400)(rng);
    RandomGrid g;
    g.statuses.assign(n, TaskStatus::Pending);
    std::uint64_t t = 0;
    while (t < n) {
        // Pending gaps and settled runs of random lengths, some long enough to cover pages.
        const auto length = std::uniform_int_distribution<std::uint64_t>(1, rng() % 4 == 0 ? 60 : 5)(rng);
        const auto kind = static_cast<int>(rng() % 3);
        for (std::uint64_t i = t; i < std::min(n, t + length); ++i)
            g.statuses[i] = static_cast<TaskStatus>(kind);
        t += length;
    }
    g.settled = SettledTasks::from_statuses(g.statuses);
    return g;
}

TEST(TaskStates, TheCursorTakesEveryPendingIdInOrderAndBytesMatchTheRuns) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 2000; ++round) {
        RandomGrid g = random_grid(rng);
        const auto n = static_cast<std::uint64_t>(g.statuses.size());
        const auto bits = static_cast<unsigned>(rng() % 5);  // pages of 1 to 16 ids
        SCOPED_TRACE("round " + std::to_string(round) + ", n " + std::to_string(n) + ", page bits " +
                     std::to_string(bits) + ", runs " + describe(g.settled));
        TaskStates states(n, g.settled, bits);
        std::uint64_t expected_pending = 0;
        for (TaskStatus s : g.statuses) expected_pending += s == TaskStatus::Pending;
        ASSERT_EQ(states.fresh_pending(), expected_pending);
        std::uint64_t next = 0;
        while (true) {
            while (next < n && g.statuses[next] != TaskStatus::Pending) ++next;
            const std::optional<std::uint64_t> taken = states.take_fresh();
            if (next == n) {
                ASSERT_FALSE(taken.has_value());
                break;
            }
            ASSERT_EQ(taken, next);
            // A dispatched task gets a byte of its own, which the others do not share.
            states.set_state(next, TaskState::Running);
            g.statuses[next] = static_cast<TaskStatus>(3);
            ++next;
            for (std::uint64_t t = 0; t < n; ++t) {
                ASSERT_EQ(states.byte(t), static_cast<std::uint8_t>(g.statuses[t])) << "task " << t;
            }
        }
        EXPECT_EQ(states.fresh_pending(), 0u);
        EXPECT_EQ(states.cursor(), n);
    }
}

TEST(TaskStates, PagesAreAllocatedOnlyWhereTasksAreDispatched) {
    // 10^15 tasks; the first 10^12 settled in one run, then one pending id every 2^20 ids.
    constexpr std::uint64_t kTasks = 1'000'000'000'000'000;
    SettledTasks settled;
    settled.add(0, 1'000'000'000'000, TaskStatus::Done);
    std::uint64_t gap_start = 1'000'000'000'000 + 1;
    for (int i = 0; i < 100; ++i) {
        settled.add(gap_start, (1 << 20) - 1, TaskStatus::Done);
        gap_start += 1 << 20;
    }
    TaskStates states(kTasks, settled);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(states.take_fresh(), 1'000'000'000'000 + std::uint64_t{1 << 20} * static_cast<unsigned>(i));
    }
    EXPECT_EQ(states.take_fresh(), 1'000'000'000'000 + std::uint64_t{100} * (1 << 20));
    EXPECT_EQ(states.state(5), TaskState::Done);
    EXPECT_EQ(states.state(1'000'000'000'001), TaskState::Done);
    EXPECT_EQ(states.state(kTasks - 1), TaskState::Pending);
    // 101 pages of 64 KiB, a directory over the 1,601 pages between, and the runs.
    EXPECT_LT(states.bytes_held(), 101u * 65536 + 1601 * 8 * 2 + 128 * sizeof(SettledRun) + 4096);
}

}  // namespace
}  // namespace mpisweep
