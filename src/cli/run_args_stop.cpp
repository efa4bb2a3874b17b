#include <unistd.h>

#include <chrono>

#include "cli/option_values.hpp"
#include "cli/run_arg_groups.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/deadline.hpp"

namespace mpisweep::cli {
namespace {

// Commands poll while they run, so their workers always beat: a silence this long is a hung
// rank or node, not a long task.
constexpr double kCommandHeartbeatTimeout = 120.0;

std::string trimmed_copy(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

void StopArgs::add(CLI::App& app) {
    app.add_option(
           "--progress", progress,
           "Seconds between progress lines on stderr; 0: none (default 1 on a terminal, 30 otherwise)")
        ->type_name("SECONDS");
    app.add_flag("--log-tasks", log_tasks,
                 "One line per task start and finish on stderr: [k/N] task 7 done in 3.2 s on node3 rank 5");
    app.add_option("--deadline", deadline,
                   "Start no task that would not finish by then: auto (the batch job's end), "
                   "2025-06-01T18:30[:00][Z|+02:00], unix seconds, or +90s/+45m/+2h; then exit 75")
        ->type_name("WHEN");
    app.add_option("--deadline-margin", deadline_margin,
                   "Seconds before the deadline kept to stop and close the file (default 60)")
        ->type_name("SECONDS");
    app.add_option(
           "--drain-grace", drain_grace,
           "On a stop signal, seconds running tasks get to stop before the job is aborted (default 10)")
        ->type_name("SECONDS");
    app.add_option("--heartbeat-timeout", heartbeat_timeout,
                   "Seconds a worker rank may stay silent before it is declared lost (a hung node): its "
                   "tasks go to the others (default 120; 0: never)")
        ->type_name("SECONDS");
}

void StopArgs::apply(RunPlan& plan) const {
    plan.log_tasks = log_tasks;
    Options& o = plan.options;
    o.progress_interval = Duration(progress.empty() ? (isatty(STDERR_FILENO) ? 1.0 : 30.0)
                                                    : parse_seconds_option("--progress", progress, false));
    if (!deadline.empty()) {
        try {
            const auto now = std::chrono::system_clock::now();
            o.deadline = parse_deadline(trimmed_copy(deadline), now);
            plan.deadline_auto = !o.deadline;
            if (o.deadline && *o.deadline <= now) {
                throw UsageError("--deadline '" + deadline +
                                 "': that time has passed; expected a time in the future");
            }
        } catch (const DeadlineError& e) {
            throw UsageError(e.what());
        }
    }
    if (!deadline_margin.empty()) {
        o.deadline_margin = Duration(parse_seconds_option("--deadline-margin", deadline_margin, false));
    }
    if (!drain_grace.empty()) {
        o.drain_grace = Duration(parse_seconds_option("--drain-grace", drain_grace, false));
    }
    o.heartbeat_timeout = Duration(
        heartbeat_timeout.empty() ? kCommandHeartbeatTimeout
                                  : parse_seconds_option("--heartbeat-timeout", heartbeat_timeout, false));
}

}  // namespace mpisweep::cli
