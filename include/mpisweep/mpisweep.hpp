#pragma once
// The public C++ API: run a function over a parameter grid on MPI ranks, results in one
// HDF5 file.
//
//   mpisweep::Grid grid;
//   grid.add(mpisweep::Axis::logspace("lr", -4, -1, 4)).add(mpisweep::Axis::range("seed", 0, 3));
//   mpisweep::Options opt;
//   opt.output = "sweep.h5";
//   return mpisweep::run(grid, [](const mpisweep::TaskContext& ctx) {
//       return mpisweep::TaskResult{{"loss", train(ctx.params.get<double>("lr"))}};
//   }, opt);
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "mpisweep/device.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/scheduler.hpp"
#include "mpisweep/spec.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep {

/// Exit codes of run() and the CLI.
enum ExitCode : int {
    kExitOk = 0,           ///< every task done
    kExitTasksFailed = 1,  ///< the sweep ended, some tasks failed for good
    kExitUsage = 2,        ///< bad input: nothing was run, no file was touched
    kExitStalled = 3,      ///< tasks left pending: every worker was retired
    kExitError = 4,        ///< an internal or system error (MPI, HDF5, I/O)
    /// Stopped early and resumable: a signal (SIGTERM, SIGUSR1, SIGINT) or the deadline ended
    /// the sweep; every finished result is in the file, the rest is pending. Run the same
    /// command again with --resume. 75 is EX_TEMPFAIL of sysexits.h: "try again later".
    kExitInterrupted = 75,
};

struct Options {
    std::string output = "mpisweep.h5";  ///< the results file
    bool resume = false;        ///< continue an existing file: run its pending tasks
    bool retry_failed = false;  ///< with resume: run its failed tasks again too
    bool overwrite = false;     ///< replace an existing file (never without this)
    std::string command;        ///< recorded in the file's "command" attribute

    SchedulerOptions scheduler;
    DeviceOptions devices;

    /// Automatic batching of short tasks: the master learns how long tasks take and queues
    /// on each worker about this much work, sent as few messages; workers report back
    /// about as often. Tasks longer than this still go one by one (plus prefetch). 0: one
    /// task per message and one report per task.
    std::chrono::microseconds batch_target{2000};

    std::size_t flush_rows = 4096;
    std::chrono::milliseconds flush_interval{2000};
    /// Seconds between progress lines on rank 0's stderr; 0 turns progress off.
    double progress_interval = 0;

    /// Stopping early. SIGTERM, SIGINT, SIGUSR1 or SIGHUP reaching any rank during run()
    /// make the whole sweep drain: no new tasks, running copies cancelled (commands get
    /// SIGTERM, in-process tasks see TaskContext::cancelled()), finished results kept, the
    /// file closed, run() returns kExitInterrupted on every rank. A second signal stops at
    /// once (command groups killed, the file flushed and closed, MPI_Abort with 75). false:
    /// run() leaves the signal handlers alone.
    bool handle_signals = true;
    /// After a drain began, how long the master waits for running copies to stop (a task
    /// that ignores cancelled() keeps its worker busy); then it closes the file and ends the
    /// job with MPI_Abort(75). Keep it above CommandSpec::kill_grace_s.
    std::chrono::duration<double> drain_grace{10.0};
    /// Walltime: no task is started that is not expected to finish by deadline -
    /// deadline_margin (expected: the longest task so far; before any finished, tasks start).
    /// At that time a drain begins; when nothing runs and nothing fits, run() returns
    /// kExitInterrupted with the rest pending. See deadline.hpp for the job's end time.
    std::optional<std::chrono::system_clock::time_point> deadline;
    std::chrono::duration<double> deadline_margin{60.0};

    WorkerHook setup;     ///< once per worker, before its first task
    WorkerHook teardown;  ///< once per worker, after its last task
};

/// Runs `task` over every point of `grid` and returns an ExitCode. Call it on every rank with
/// the same grid (rank 0 checks that the grids agree). Initializes MPI if the caller has not,
/// and then finalizes it before returning. With one rank, that rank runs the tasks itself.
/// Errors in the options or the file (existing file, other grid) are reported on rank 0's
/// stderr as one line and return kExitUsage on every rank.
int run(const Grid& grid, const TaskFunction& task, const Options& options);

}  // namespace mpisweep
