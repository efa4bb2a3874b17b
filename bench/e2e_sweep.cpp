// End-to-end sweeps through mpisweep::run, timed on rank 0. One program, one mode per run:
//   empty N      : N tasks that return nothing                 -> tasks/s
//   results N    : N tasks that return one double (to HDF5)    -> results/s
//   sleep N      : N tasks sleeping 10-100 ms (seeded)         -> makespan, lower bound
//   straggler N  : N tasks of 20 ms, 100 ms on rank 1          -> makespan, ideal
//   big N        : a grid of N points (two axes); prints when the first task starts, and
//                  the master's pid, so run.py can read its peak RSS and stop the job
// Options: --batch-us B (Options::batch_target; 0: one task per message), --flush-rows R
// (Options::flush_rows), --no-speculation, --out FILE. Prints one line "key=value ..." on rank 0
// (written: the bytes rank 0 wrote in the timed sweep, results file and journal).
// empty and results time a second sweep, after one of 64 tasks (FILE.warm, removed).
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include "mpisweep/mpisweep.hpp"

using namespace mpisweep;

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Bytes this process handed to write(2) and its kin so far (/proc/self/io's wchar: the
/// results file and its journal on rank 0), 0 where Linux's accounting is not there.
unsigned long long bytes_written() {
    std::FILE* io = std::fopen("/proc/self/io", "r");
    if (io == nullptr) return 0;
    unsigned long long bytes = 0;
    char key[32];
    unsigned long long value = 0;
    while (std::fscanf(io, "%31s %llu", key, &value) == 2)
        if (std::string(key) == "wchar:") bytes = value;
    std::fclose(io);
    return bytes;
}

/// Sleeps `seconds` in 2 ms steps, stopping early when the copy is cancelled.
void cancellable_sleep(const TaskContext& ctx, double seconds) {
    const double end = now_s() + seconds;
    for (double t = now_s(); t < end; t = now_s()) {
        if (ctx.cancelled()) throw TaskCancelled();
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.002, end - t)));
    }
}

std::vector<double> sleep_durations(std::uint64_t n) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> dist(0.010, 0.100);
    std::vector<double> d(n);
    for (double& x : d) x = dist(rng);
    return d;
}

int usage() {
    std::fprintf(stderr,
                 "usage: e2e_sweep empty|results|sleep|straggler|big N [--batch-us B] "
                 "[--flush-rows R] [--no-speculation] [--out FILE]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    const std::string mode = argv[1];
    const std::uint64_t n = std::strtoull(argv[2], nullptr, 10);
    Options options;
    options.overwrite = true;
    options.output = "/tmp/mpisweep-bench-" + mode + ".h5";
    for (int i = 3; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--batch-us" && i + 1 < argc) {
            options.batch_target = std::chrono::microseconds(std::atoll(argv[++i]));
        } else if (arg == "--flush-rows" && i + 1 < argc) {
            options.flush_rows = std::strtoull(argv[++i], nullptr, 10);
        } else if (arg == "--no-speculation") {
            options.scheduler.speculate = false;
        } else if (arg == "--out" && i + 1 < argc) {
            options.output = argv[++i];
        } else {
            return usage();
        }
    }
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int workers = size > 1 ? size - 1 : 1;

    Grid grid;
    if (mode == "big") {
        const auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
        grid.add(Axis::range("x", 0, side)).add(Axis::range("y", 0, side));
    } else {
        grid.add(Axis::range("x", 0, static_cast<std::int64_t>(n)));
    }

    TaskFunction task;
    double bound = 0;
    if (mode == "empty") {
        task = [](const TaskContext&) { return TaskResult{}; };
    } else if (mode == "results") {
        task = [](const TaskContext& ctx) {
            return TaskResult{{"y", static_cast<double>(ctx.task_id.value()) * 0.5}};
        };
    } else if (mode == "sleep") {
        const std::vector<double> d = sleep_durations(n);
        double total = 0, longest = 0;
        for (double x : d) total += x, longest = std::max(longest, x);
        bound = std::max(total / workers, longest);
        task = [d](const TaskContext& ctx) {
            std::this_thread::sleep_for(std::chrono::duration<double>(d[ctx.task_id.value()]));
            return TaskResult{};
        };
    } else if (mode == "straggler") {
        // Fluid ideal: the slow worker does a fifth of a fast one's work.
        const double fast = 0.020, slow_factor = 5;
        const double capacity = size > 2 ? (workers - 1) + 1 / slow_factor : 1 / slow_factor;
        bound = std::max(static_cast<double>(n) * fast / capacity, fast);
        task = [fast, slow_factor](const TaskContext& ctx) {
            cancellable_sleep(ctx, ctx.worker.rank == 1 ? fast * slow_factor : fast);
            return TaskResult{};
        };
    } else if (mode == "big") {
        if (rank == 0) std::printf("pid=%d t0=%.6f\n", static_cast<int>(getpid()), unix_now());
        std::fflush(stdout);
        task = [](const TaskContext&) {
            static bool first = true;
            if (first) {
                first = false;
                std::printf("first_task=%.6f\n", unix_now());
                std::fflush(stdout);
            }
            return TaskResult{};
        };
    } else {
        return usage();
    }

    if (mode == "empty" || mode == "results") {
        // As the peers are timed (mpi4py.futures' pool started first, bench/python_sweep.py's
        // warm-up): a sweep of a few tasks first opens MPI's connections between the ranks
        // and starts HDF5, so that the timed run is the sweep, not the job's first messages.
        Grid warm_grid;
        warm_grid.add(Axis::range("x", 0, 64));
        Options warm = options;
        warm.output = options.output + ".warm";
        if (run(warm_grid, task, warm) != 0) return 1;
        if (rank == 0) std::remove(warm.output.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
    const unsigned long long written_before = bytes_written();
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const double t0 = now_s();
    const int code = run(grid, task, options);
    const double elapsed = now_s() - t0;
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    if (rank == 0) {
        // Rank 0's page faults and CPU seconds in the timed sweep: a first-touched page costs
        // microseconds on a VM (bench/README.md, "Session 12").
        const auto cpu = [](const rusage& r) {
            return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
                   1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
        };
        std::printf(
            "mode=%s np=%d tasks=%llu seconds=%.6f rate=%.1f bound=%.6f exit=%d faults=%ld cpu=%.3f "
            "written=%llu\n",
            mode.c_str(), size, static_cast<unsigned long long>(grid.size()), elapsed,
            static_cast<double>(grid.size()) / elapsed, bound, code, after.ru_minflt - before.ru_minflt,
            cpu(after) - cpu(before), bytes_written() - written_before);
    }
    MPI_Finalize();
    return code;
}
