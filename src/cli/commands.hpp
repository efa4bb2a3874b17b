#pragma once
// The subcommands of `mpisweep`. Each takes the arguments after its name and returns the
// process exit code; bad input throws UsageError (main prints it, exit code 2).
#include <string>
#include <vector>

namespace mpisweep::cli {

/// `mpisweep run ...`: the sweep itself, under MPI.
int run_command(const std::vector<std::string>& args);

/// Post-hoc commands: read a results file, no MPI.
int status_command(const std::vector<std::string>& args);
int best_command(const std::vector<std::string>& args);
int export_command(const std::vector<std::string>& args);
int show_command(const std::vector<std::string>& args);
/// `mpisweep log ...`: one task's output from the sweep's output streams.
int log_command(const std::vector<std::string>& args);

}  // namespace mpisweep::cli
