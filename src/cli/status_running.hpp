#pragma once
// `mpisweep status FILE --running`: what a running sweep is doing now, from its live view
// (live_view.hpp): one line per running task, starting with its id, then the workers that
// take no more tasks.
#include <ostream>
#include <string>

namespace mpisweep::cli {

/// Prints the live view of `results_path` to `out`. Returns the exit code: 0, also when no
/// sweep runs (it says so: the view was removed at the end, or is stale); throws UsageError
/// when the view exists but cannot be read.
int print_running(const std::string& results_path, std::ostream& out);

}  // namespace mpisweep::cli
