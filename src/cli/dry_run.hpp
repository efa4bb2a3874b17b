#pragma once
// `mpisweep run --dry-run ...`: what the sweep would run, without MPI and without touching a file.
#include <ostream>

#include "cli/run_args.hpp"

namespace mpisweep::cli {

/// Throws UsageError when the run would be refused for its results file: it exists and
/// neither --resume nor --force is given, or --resume names a file that is not there.
void check_results_file_choice(const RunPlan& plan);

/// The number of tasks, each axis (type, size, first values), the zip groups, the results
/// file and log folder, and the first `commands` commands as they would run (attempt 1, CPU).
void print_dry_run(const RunPlan& plan, std::ostream& out, std::size_t commands = 5);

}  // namespace mpisweep::cli
