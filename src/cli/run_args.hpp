#pragma once
// `mpisweep run [OPTIONS] -- PROGRAM [ARGS...]`: from the arguments to a grid, a command and
// the options of run(). Everything here is checked on every rank alike, before MPI starts.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "mpisweep/command.hpp"
#include "mpisweep/mpisweep.hpp"

namespace mpisweep::cli {

struct RunPlan {
    Grid grid;
    CommandSpec command;
    Options options;
    /// --deadline auto: rank 0 asks the batch system for the job's end before the start.
    bool deadline_auto = false;
    /// --dry-run: describe the sweep and its first commands; start nothing, touch nothing.
    bool dry_run = false;
    /// --log-tasks: a line per task start and finish on rank 0.
    bool log_tasks = false;
};

/// Parses the arguments after `run`. Returns nullopt after printing help to `help_out`
/// (--help). Throws UsageError with a one-line message naming what is wrong and what is
/// expected: an unknown option, a bad number, a malformed spec, no parameters, no program
/// after `--`, an unknown {placeholder}.
std::optional<RunPlan> parse_run_arguments(const std::vector<std::string>& args, std::ostream& help_out);

/// The command as recorded in the file's "command" attribute and compared on resume:
/// PROGRAM ARGS quoted for a POSIX shell; `/bin/sh -c '...'` in shell mode.
std::string command_line(const CommandSpec& command);

}  // namespace mpisweep::cli
