#pragma once
// An external program as a task: what `mpisweep run -- PROGRAM ARGS...` runs for each point.
//
//   mpisweep::CommandSpec spec;
//   spec.argv = {"python", "train.py", "--lr", "{lr}", "--seed", "{seed}"};
//   spec.log_dir = mpisweep::default_log_dir("sweep.h5");
//   auto task = mpisweep::make_command_task(spec, grid.names());  // checks the placeholders
//   mpisweep::run(grid, task, options);
//
// Each attempt runs in its own process group, with argv (no shell unless `shell`), stdin from
// /dev/null, stdout and stderr read through pipes into the worker's output stream in
// <log_dir> (one file per worker and run: no file per task; `mpisweep log` prints one
// task's output). The child's environment is the worker's plus:
//   MPISWEEP_TASK_ID, MPISWEEP_ATTEMPT, MPISWEEP_DEVICE (-1 on CPU),
//   MPISWEEP_PARAM_<NAME> for each parameter (NAME upper-cased, other than A-Z 0-9 -> '_'),
//   MPISWEEP_OUTPUT: a path where the program may write its results as one JSON object, on
//     node-local storage ($MPISWEEP_TMPDIR, else /dev/shm, $TMPDIR, /tmp),
//   CUDA_VISIBLE_DEVICES: the worker's GPU; "" for a CPU worker on a node that has GPUs.
// and minus the launcher's variables of the rank (OMPI_COMM_WORLD_*, PMIX_*, PMI_*, ...), so
// that an MPI program run as a task starts as an MPI job of its own.
// A non-zero exit, a signal, a timeout or malformed output fails the attempt by throwing
// TaskFailure (task.hpp) with the exit code (-signal for a signal) and the tail of stderr.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mpisweep/task.hpp"

namespace mpisweep {

/// A command that cannot work for this grid: a placeholder that names no parameter,
/// unbalanced braces, an empty command, a program that is not found. Detected before any
/// task runs; the message names the argument or program and what is expected.
class CommandError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct CommandSpec {
    /// PROGRAM ARGS... Any argument may hold placeholders: {name} of a parameter, {task_id},
    /// {attempt} (1-based), {device} (the CUDA ordinal of the worker, -1 on CPU). `{{` and
    /// `}}` stand for literal braces. A value is substituted into its argument as one argv
    /// element: spaces, quotes and ';' reach the program untouched.
    std::vector<std::string> argv;
    /// Run `/bin/sh -c "<arguments joined by spaces>"` instead, after substitution: pipes and
    /// redirections work, and values are pasted as they are (use "$MPISWEEP_PARAM_X" for
    /// values the shell must not split).
    bool shell = false;
    /// Take the results from the last non-empty line of stdout (a JSON object) instead of
    /// the file at $MPISWEEP_OUTPUT.
    bool stdout_json = false;
    /// Folder of the output streams (created when the first task runs); see default_log_dir().
    std::string log_dir = "mpisweep.h5.logs";
    /// Also one file per attempt, <per_task_log_dir>/<log_run>/task-<id>.attempt-<k>.out and
    /// .err (without log_run: in per_task_log_dir itself); empty: none.
    std::string per_task_log_dir;
    /// The run's name (it names the stream files) and start (unix seconds), the same on every
    /// rank: `mpisweep log` numbers a task's attempts across runs by them. The CLI sets both;
    /// empty: each process names its own stream and attempts are ordered by their start time.
    std::string log_run;
    double log_run_start = 0;
    /// Seconds an attempt may run; <= 0: no limit. Then the process group gets SIGTERM and,
    /// kill_grace_s later, SIGKILL. Cancelled copies are stopped the same way.
    double timeout_s = 0;
    double kill_grace_s = 5;
    /// Extra environment variables for every task (set on top of the worker's).
    std::vector<std::pair<std::string, std::string>> env;
    /// How much of stderr a failure keeps in its error text (the last bytes, at most lines).
    std::size_t error_tail_bytes = 2048;
    std::size_t error_tail_lines = 20;
};

/// "<results file>.logs": where the CLI keeps the output streams unless told otherwise.
std::string default_log_dir(const std::string& results_path);

/// Checks every placeholder of `spec.argv` against the grid's parameter names and the
/// built-ins. Throws CommandError naming the argument and the placeholder at fault.
void check_command_template(const CommandSpec& spec, const std::vector<std::string>& parameter_names);

/// Checks that the program can be started here: argv[0] found like posix_spawnp finds it
/// (PATH search without '/'), a regular file, executable; /bin/sh in shell mode. Skipped
/// when argv[0] holds a placeholder. Returns the path found; throws CommandError.
std::string check_command_program(const CommandSpec& spec);

/// The task function running `spec` for each point. Checks the template first (throws
/// CommandError). Results come from the JSON object the program writes to $MPISWEEP_OUTPUT
/// (no file: done with no results) or, with stdout_json, from its last stdout line:
/// numbers -> double (integers too, so a column never flips type), booleans -> int 0/1,
/// strings -> string, arrays of numbers -> vector<double>, null -> no value; NaN and
/// Infinity as Python's json module writes them are accepted. Anything else fails the
/// attempt naming the file and the field. TaskContext::cancelled() is polled while the
/// program runs: then the group is stopped and TaskCancelled thrown.
TaskFunction make_command_task(CommandSpec spec, const std::vector<std::string>& parameter_names);

/// Makes SIGTERM, SIGINT and SIGHUP stop the process group of every command still running
/// (SIGTERM, then SIGKILL 0.3 s later) before they end the process as they would have. A task
/// runs in a process group of its own, so without this a rank that its launcher kills (mpirun
/// passes SIGTERM on; Ctrl-C) leaves its task running. (A rank that is SIGKILLed leaves none
/// either: every task's group is also registered with the rank's guardian process.) Call it
/// once in a program of your own that uses make_command_task outside run(). Ignored signals stay ignored; handlers
/// installed before are still called after the groups are stopped. While run() runs (with
/// Options::handle_signals) these signals drain the sweep instead; this covers the time
/// before and after.
void stop_commands_on_termination_signals();

}  // namespace mpisweep
