#pragma once
// `mpisweep status FILE --running`: what a running sweep is doing now, from the live view in
// its owner record (store/live_view.hpp, store/file_owner.hpp): one line per running task,
// starting with its id, then the workers that take no more tasks.
#include <ostream>
#include <string>

namespace mpisweep::cli {

/// Prints the live view of `results_path` to `out`. Returns the exit code: 0, also when no
/// sweep runs (it says so: the record was removed at the end) or the view is stale (with a
/// warning); throws UsageError when the record exists but cannot be read.
int print_running(const std::string& results_path, std::ostream& out);

}  // namespace mpisweep::cli
