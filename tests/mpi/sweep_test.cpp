// The sweep engine on real MPI ranks (ctest runs this at 1, 2 and 5 ranks): every task done
// exactly once, results by task id, exceptions retried then kept, hooks, refusals.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <set>

#include "mpi/mpi_fixture.hpp"
#include "mpisweep/mpisweep.hpp"
#include "support/h5_read.hpp"

using namespace mpisweep;
using test_support::H5File;
using test_support::world_rank;
using test_support::world_size;

namespace {

Grid three_axis_grid() {
    Grid grid;
    grid.add(Axis::range("a", 0, 5))
        .add(Axis::list("b", {Value{0.5}, Value{1.5}, Value{2.5}}))
        .add(Axis::list("c", {Value{std::string("x")}, Value{std::string("y")}, Value{std::string("z y")}}));
    return grid;
}

std::string read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(Sweep, EveryTaskDoneExactlyOnceWithResultsInTaskIdOrder) {
    const std::string path = test_support::fresh_results_path();
    const Grid grid = three_axis_grid();
    Options options;
    options.output = path;
    options.scheduler.speculate = false;  // so every task runs exactly once
    long long calls = 0;
    const int code = run(
        grid,
        [&calls](const TaskContext& ctx) -> TaskResult {
            ++calls;
            const auto a = ctx.params.get<std::int64_t>("a");
            const double b = ctx.params.get<double>("b");
            return {{"f", static_cast<double>(a) * b},
                    {"id", static_cast<std::int64_t>(ctx.task_id.value())},
                    {"label", ctx.params.get<std::string>("c") + "#" + std::to_string(a)},
                    {"pair", std::vector<double>{static_cast<double>(a), b}}};
        },
        options);
    EXPECT_EQ(code, kExitOk);
    EXPECT_EQ(test_support::sum_over_ranks(calls), static_cast<long long>(grid.size()));
    if (world_rank() != 0) return;

    H5File file(path);
    const auto status = file.ints("tasks/status");
    const auto attempts = file.ints("tasks/attempts");
    const auto worker = file.ints("tasks/worker");
    const auto f = file.doubles("results/f");
    const auto id = file.ints("results/id");
    const auto label = file.strings("results/label");
    const auto pair = file.doubles("results/pair");
    const auto a = file.ints("params/a");
    const auto b = file.doubles("params/b");
    const auto c = file.strings("params/c");
    ASSERT_EQ(status.size(), grid.size());
    ASSERT_EQ(pair.size(), 2 * grid.size());
    for (std::uint64_t t = 0; t < grid.size(); ++t) {
        const Point p = grid.at(TaskId(t));
        SCOPED_TRACE("task " + std::to_string(t));
        EXPECT_EQ(status[t], 1);
        EXPECT_EQ(attempts[t], 1);
        EXPECT_EQ(id[t], static_cast<long long>(t));
        EXPECT_EQ(a[t], p.get<std::int64_t>("a"));
        EXPECT_EQ(b[t], p.get<double>("b"));
        EXPECT_EQ(c[t], p.get<std::string>("c"));
        EXPECT_DOUBLE_EQ(f[t], static_cast<double>(a[t]) * b[t]);
        EXPECT_EQ(label[t], c[t] + "#" + std::to_string(a[t]));
        EXPECT_EQ(pair[2 * t], static_cast<double>(a[t]));
        EXPECT_EQ(pair[2 * t + 1], b[t]);
        if (world_size() == 1) {
            EXPECT_EQ(worker[t], 0);  // one rank runs the tasks itself
        } else {
            EXPECT_GE(worker[t], 1);  // the master runs none
            EXPECT_LT(worker[t], world_size());
        }
    }
}

TEST(Sweep, ThrownExceptionsAreRetriedThenKeptAsFailuresWithTheirText) {
    const std::string path = test_support::fresh_results_path();
    Grid grid;
    grid.add(Axis::range("x", 0, 30));
    Options options;
    options.output = path;
    options.scheduler.max_attempts = 3;
    options.scheduler.max_worker_errors = 1000;  // retirement is tested on its own
    options.scheduler.speculate = false;
    const int code = run(
        grid,
        [](const TaskContext& ctx) -> TaskResult {
            const auto x = ctx.params.get<std::int64_t>("x");
            if (x % 7 == 3) throw std::runtime_error("x=" + std::to_string(x) + " always fails");
            if (x % 5 == 1 && ctx.attempt == 1) throw std::runtime_error("first attempt fails");
            if (x == 29) throw 42;  // not a std::exception
            return {{"y", static_cast<double>(x)}};
        },
        options);
    EXPECT_EQ(code, kExitTasksFailed);
    if (world_rank() != 0) return;

    H5File file(path);
    const auto status = file.ints("tasks/status");
    const auto attempts = file.ints("tasks/attempts");
    const auto error = file.strings("tasks/error");
    const auto y = file.doubles("results/y");
    for (long long x = 0; x < 30; ++x) {
        SCOPED_TRACE("x=" + std::to_string(x));
        const auto t = static_cast<std::size_t>(x);
        if (x % 7 == 3) {
            EXPECT_EQ(status[t], 2);
            EXPECT_EQ(attempts[t], 3);
            EXPECT_EQ(error[t], "x=" + std::to_string(x) + " always fails");
            EXPECT_TRUE(std::isnan(y[t]));
        } else if (x == 29) {
            EXPECT_EQ(status[t], 2);
            EXPECT_NE(error[t].find("unknown exception"), std::string::npos) << error[t];
        } else {
            EXPECT_EQ(status[t], 1);
            EXPECT_EQ(attempts[t], x % 5 == 1 ? 2 : 1);
            EXPECT_EQ(error[t], "");
            EXPECT_EQ(y[t], static_cast<double>(x));
        }
    }
}

TEST(Sweep, WorkerThatAlwaysFailsIsRetiredAndOthersFinish) {
    const std::string path = test_support::fresh_results_path();
    Grid grid;
    grid.add(Axis::range("x", 0, 40));
    Options options;
    options.output = path;
    options.scheduler.max_worker_errors = 3;
    options.scheduler.max_attempts = 100;  // tasks survive the bad worker
    const int code = run(
        grid,
        [](const TaskContext& ctx) -> TaskResult {
            if (ctx.worker.rank == 1 || world_size() == 1) throw std::runtime_error("broken node");
            return {{"ok", 1.0}};
        },
        options);
    // With 1 or 2 ranks the only worker is the broken one: the sweep stalls with tasks left.
    const bool only_bad_worker = world_size() <= 2;
    EXPECT_EQ(code, only_bad_worker ? kExitStalled : kExitOk);
    if (world_rank() != 0) return;
    H5File file(path);
    const auto status = file.ints("tasks/status");
    const auto worker = file.ints("tasks/worker");
    for (std::size_t t = 0; t < status.size(); ++t) {
        if (only_bad_worker) {
            EXPECT_EQ(status[t], 0) << "task " << t;  // pending, to resume later
        } else {
            EXPECT_EQ(status[t], 1) << "task " << t;
            EXPECT_NE(worker[t], 1) << "task " << t;
        }
    }
}

TEST(Sweep, SetupRunsBeforeTheFirstTaskAndTeardownAfterTheLastOnEveryWorker) {
    const std::string path = test_support::fresh_results_path();
    Grid grid;
    grid.add(Axis::range("x", 0, 12));
    static int setups = 0, teardowns = 0, tasks_without_setup = 0;
    setups = teardowns = tasks_without_setup = 0;
    Options options;
    options.output = path;
    options.setup = [](const WorkerInfo& info) {
        ++setups;
        EXPECT_EQ(info.device, -1);  // no GPU on the test machines
    };
    options.teardown = [](const WorkerInfo&) { ++teardowns; };
    const int code = run(
        grid,
        [](const TaskContext& ctx) -> TaskResult {
            if (setups != 1 || teardowns != 0) ++tasks_without_setup;
            return {{"rank", static_cast<std::int64_t>(ctx.worker.rank)}};
        },
        options);
    EXPECT_EQ(code, kExitOk);
    EXPECT_EQ(test_support::sum_over_ranks(setups), test_support::workers());
    EXPECT_EQ(test_support::sum_over_ranks(teardowns), test_support::workers());
    EXPECT_EQ(test_support::sum_over_ranks(tasks_without_setup), 0);
}

TEST(Sweep, FailingSetupTakesTheWorkerOutAndTheOthersRunItsShare) {
    const std::string path = test_support::fresh_results_path();
    Grid grid;
    grid.add(Axis::range("x", 0, 10));
    Options options;
    options.output = path;
    options.setup = [](const WorkerInfo& info) {
        if (info.rank == 1 || info.world_size == 1) throw std::runtime_error("no licence on this node");
    };
    long long calls = 0;
    const int code = run(
        grid,
        [&calls](const TaskContext&) -> TaskResult {
            ++calls;
            return {};
        },
        options);
    const bool only_bad_worker = world_size() <= 2;
    EXPECT_EQ(code, only_bad_worker ? kExitStalled : kExitOk);
    if (world_rank() == 1 || world_size() == 1) {
        EXPECT_EQ(calls, 0);
    }
}

TEST(Sweep, ExistingFileIsRefusedAndLeftUntouchedWithoutOverwrite) {
    const std::string path = test_support::fresh_results_path();
    Grid grid;
    grid.add(Axis::range("x", 0, 6));
    Options options;
    options.output = path;
    auto task = [](const TaskContext&) -> TaskResult { return {{"v", 1.0}}; };
    ASSERT_EQ(run(grid, task, options), kExitOk);
    const std::string before = world_rank() == 0 ? read_file_bytes(path) : "";

    EXPECT_EQ(run(grid, task, options), kExitUsage);  // same grid, no resume, no overwrite
    Grid other;
    other.add(Axis::range("x", 0, 7));
    options.resume = true;
    EXPECT_EQ(run(other, task, options), kExitUsage);  // another grid cannot resume this file
    if (world_rank() == 0) {
        EXPECT_TRUE(read_file_bytes(path) == before);
    }

    options.resume = false;
    options.overwrite = true;
    EXPECT_EQ(run(other, task, options), kExitOk);
    if (world_rank() == 0) {
        EXPECT_EQ(H5File(path).ints("tasks/status").size(), 7u);
    }
}

TEST(Sweep, ResumeRunsOnlyPendingTasksAndRetryFailedRunsFailedOnes) {
    const std::string path = test_support::fresh_results_path();
    Grid grid;
    grid.add(Axis::range("x", 0, 20));
    Options options;
    options.output = path;
    options.scheduler.max_attempts = 1;
    options.scheduler.max_worker_errors = 1000;
    options.scheduler.speculate = false;
    static bool healed = false;
    healed = false;
    auto task = [](const TaskContext& ctx) -> TaskResult {
        if (!healed && ctx.params.get<std::int64_t>("x") % 4 == 0) throw std::runtime_error("not yet");
        return {{"v", 2.0}};
    };
    ASSERT_EQ(run(grid, task, options), kExitTasksFailed);

    healed = true;
    long long calls = 0;
    auto counting = [&calls, &task](const TaskContext& ctx) {
        ++calls;
        return task(ctx);
    };
    options.resume = true;
    EXPECT_EQ(run(grid, counting, options), kExitTasksFailed);  // failed ones stay failed
    EXPECT_EQ(test_support::sum_over_ranks(calls), 0);

    options.retry_failed = true;
    EXPECT_EQ(run(grid, counting, options), kExitOk);
    EXPECT_EQ(test_support::sum_over_ranks(calls), 5);  // x = 0, 4, 8, 12, 16
    if (world_rank() != 0) return;
    H5File file(path);
    const auto status = file.ints("tasks/status");
    const auto attempts = file.ints("tasks/attempts");
    const auto error = file.strings("tasks/error");
    for (std::size_t x = 0; x < 20; ++x) {
        EXPECT_EQ(status[x], 1);
        EXPECT_EQ(attempts[x], x % 4 == 0 ? 2 : 1) << "attempts add up across runs, x=" << x;
        EXPECT_EQ(error[x], "") << "a task done on resume keeps no old error, x=" << x;
    }
}
