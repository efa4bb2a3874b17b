// A slow worker (rank 1 runs every task 20 times slower) draws speculative copies: the sweep
// ends sooner with speculation than without, and the file says which copies won.
#include <chrono>
#include <cstdio>
#include <gtest/gtest.h>
#include <thread>

#include "mpi/mpi_fixture.hpp"
#include "mpisweep/mpisweep.hpp"
#include "support/h5_read.hpp"

using namespace mpisweep;
using test_support::world_rank;
using test_support::world_size;

namespace {

// A task of 40 ms, 800 ms on rank 1; it sleeps in small steps and stops once cancelled, as
// the docs ask of long in-process tasks.
TaskResult sleepy(const TaskContext& ctx) {
    const auto duration = std::chrono::milliseconds(ctx.worker.rank == 1 ? 800 : 40);
    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
        if (ctx.cancelled()) throw TaskCancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return {{"rank", static_cast<std::int64_t>(ctx.worker.rank)}};
}

double timed_sweep(bool speculate, const std::string& path) {
    Grid grid;
    grid.add(Axis::range("x", 0, 24));
    Options options;
    options.output = path;
    options.overwrite = true;
    options.scheduler.speculate = speculate;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(run(grid, sleepy, options), kExitOk);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(Speculation, SlowWorkerDrawsCopiesAndTheSweepEndsSooner) {
    if (world_size() < 3) GTEST_SKIP() << "needs two workers or more";
    const std::string with_path = test_support::fresh_results_path(".with");
    const std::string without_path = test_support::fresh_results_path(".without");
    const double without = timed_sweep(false, without_path);
    const double with = timed_sweep(true, with_path);
    if (world_rank() != 0) return;
    std::printf("makespan: %.3f s with speculation, %.3f s without\n", with, without);
    // Without: rank 1 holds a running and a prefetched task, 1.6 s at least. With: its
    // tasks are copied or taken back once the others are idle.
    EXPECT_LT(with, 0.6 * without) << "with speculation " << with << " s, without " << without << " s";

    test_support::H5File file(with_path);
    const auto worker = file.ints("tasks/worker");
    const auto attempts = file.ints("tasks/attempts");
    long long copied = 0;
    for (std::size_t t = 0; t < worker.size(); ++t) {
        EXPECT_NE(worker[t], 1) << "the slow rank should win no task, task " << t;
        copied += attempts[t] > 1 ? 1 : 0;
    }
    EXPECT_GE(copied, 1) << "at least one task ran as a speculative copy";
    test_support::H5File slow(without_path);
    long long on_slow_rank = 0;
    for (long long w : slow.ints("tasks/worker")) on_slow_rank += w == 1 ? 1 : 0;
    EXPECT_GE(on_slow_rank, 1);
}
