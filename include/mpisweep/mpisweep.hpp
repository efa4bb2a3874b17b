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
#include "mpisweep/command.hpp"
#include "mpisweep/deadline.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/observer.hpp"
#include "mpisweep/options.hpp"
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

/// Runs `task` over every point of `grid` and returns an ExitCode. Call it on every rank with
/// the same grid (rank 0 checks that the grids agree). Initializes MPI if the caller has not,
/// and then finalizes it before returning. With one rank, that rank runs the tasks itself.
/// Errors in the options or the file (existing file, other grid) are told to rank 0's
/// Options::observer as one message and return kExitUsage on every rank. run() itself never
/// prints (the default observer does).
int run(const Grid& grid, const TaskFunction& task, const Options& options);

}  // namespace mpisweep
