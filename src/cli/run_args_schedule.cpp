#include "cli/option_values.hpp"
#include "cli/run_arg_groups.hpp"

namespace mpisweep::cli {

void ScheduleArgs::add(CLI::App& app) {
    app.add_option("--max-attempts", max_attempts, "Attempts per task before it fails for good (default 3)")
        ->type_name("N");
    app.add_option("--max-worker-errors", max_worker_errors,
                   "Failures in a row after which a worker takes no more tasks; 0: never (default 5)")
        ->type_name("N");
    app.add_option("--prefetch", prefetch, "Tasks queued on each worker beyond the running one (default 1)")
        ->type_name("N");
    app.add_flag("--no-speculation", no_speculation, "Never run speculative copies of slow tasks");
}

void ScheduleArgs::apply(RunPlan& plan) const {
    SchedulerOptions& s = plan.options.scheduler;
    if (!max_attempts.empty()) s.max_attempts = parse_int_option("--max-attempts", max_attempts, 1);
    if (!max_worker_errors.empty()) {
        s.max_worker_errors = parse_int_option("--max-worker-errors", max_worker_errors, 0);
    }
    if (!prefetch.empty()) s.prefetch = parse_int_option("--prefetch", prefetch, 0);
    s.speculate = !no_speculation;
}

}  // namespace mpisweep::cli
