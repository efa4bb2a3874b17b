#include "cli/cli_observer.hpp"

#include <cstdio>

#include "cli/table.hpp"
#include "platform/clock.hpp"

namespace mpisweep::cli {
namespace {

std::string seconds_text(double s) {
    if (s >= 100) return StderrObserver::format_duration(s);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", s);
    return buf;
}

std::string where(std::string_view host, int rank) {
    return "on " + std::string(host) + " rank " + std::to_string(rank);
}

std::string prefix(std::uint64_t settled, std::uint64_t total, std::uint64_t task) {
    return "[" + std::to_string(settled) + "/" + std::to_string(total) + "] task " + std::to_string(task);
}

}  // namespace

CliObserver::CliObserver(CliObserverOptions options) : options_(std::move(options)) {}

CliObserver::CliObserver(CliObserverOptions options, std::ostream& out, bool in_place)
    : StderrObserver(out, in_place), options_(std::move(options)) {}

std::string CliObserver::start_line(const LiveCopy& c, std::uint64_t settled, std::uint64_t total) {
    std::string line = prefix(settled, total, c.task) + " started " + where(c.host, c.worker);
    if (c.attempt > 1) line += " (attempt " + std::to_string(c.attempt) + ")";
    if (c.speculative) line += " (a second copy of a slow task)";
    return line;
}

std::string CliObserver::finish_line(const TaskEvent& e, TaskOutcome outcome, std::uint64_t settled,
                                     std::uint64_t total) {
    const std::string head = prefix(settled, total, e.task.value());
    const std::string at = where(e.host, e.worker);
    const std::string error = e.error.empty() ? "" : ": " + one_line(e.error);
    switch (outcome) {
        case TaskOutcome::Done:
            return head + " done in " + seconds_text(e.wall_s) + " " + at;
        case TaskOutcome::Retrying:
            return head + " failed in " + seconds_text(e.wall_s) + " " + at + " (attempt " +
                   std::to_string(e.attempt) + ", it runs again)" + error;
        case TaskOutcome::Failed:
            return head + " failed for good in " + seconds_text(e.wall_s) + " " + at + " (attempt " +
                   std::to_string(e.attempt) + ")" + error;
        case TaskOutcome::Cancelled:
            return head + " cancelled " + at + (e.wall_s > 0 ? " after " + seconds_text(e.wall_s) : "");
        case TaskOutcome::Superseded:
            return head + " finished again " + at + " after another copy had settled it (ignored)";
    }
    return head;
}

void CliObserver::on_start(const SweepCounts& counts) {
    StderrObserver::on_start(counts);
    counts_ = counts;
}

void CliObserver::on_progress(const SweepCounts& counts, double elapsed_s) {
    StderrObserver::on_progress(counts, elapsed_s);
    counts_ = counts;
}

void CliObserver::on_task_started(const TaskEvent& event) {
    if (!options_.log_tasks) return;
    const std::optional<LiveCopy> starts = copies_.sent(event, unix_seconds());
    if (starts)
        on_message(MessageLevel::Notice, start_line(*starts, counts_.done + counts_.failed, counts_.total));
}

void CliObserver::on_task_finished(const TaskEvent& event, TaskOutcome outcome) {
    if (outcome == TaskOutcome::Done) ++counts_.done;
    if (outcome == TaskOutcome::Failed) ++counts_.failed;
    if (!options_.log_tasks) return;
    const std::optional<LiveCopy> next = copies_.answered(event, unix_seconds());
    const std::uint64_t settled = counts_.done + counts_.failed;
    // A queued copy dropped before it ran makes no line: it never started one.
    if (outcome != TaskOutcome::Cancelled || event.wall_s > 0 || copies_.started_of_last_answered() > 0) {
        on_message(MessageLevel::Notice, finish_line(event, outcome, settled, counts_.total));
    }
    if (next) on_message(MessageLevel::Notice, start_line(*next, settled, counts_.total));
}

}  // namespace mpisweep::cli
