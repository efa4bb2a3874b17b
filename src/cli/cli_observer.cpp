#include "cli/cli_observer.hpp"

#include <unistd.h>

#include <chrono>
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

std::string host_name() {
    char name[256] = {};
    return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("?");
}

}  // namespace

CliObserver::CliObserver(CliObserverOptions options) : options_(std::move(options)) {}

CliObserver::CliObserver(CliObserverOptions options, std::ostream& out, bool in_place)
    : StderrObserver(out, in_place), options_(std::move(options)) {}

CliObserver::~CliObserver() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (publisher_.joinable()) publisher_.join();
}

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
    std::lock_guard<std::mutex> lock(mutex_);
    counts_ = counts;
    if (options_.results_path.empty()) return;
    live_ = std::make_unique<LiveFile>(options_.results_path);
    dirty_ = true;
    publisher_ = std::thread([this] { publish_loop(); });
}

void CliObserver::on_progress(const SweepCounts& counts, double elapsed_s) {
    StderrObserver::on_progress(counts, elapsed_s);
    std::lock_guard<std::mutex> lock(mutex_);
    counts_ = counts;
    dirty_ = true;
}

void CliObserver::on_task_started(const TaskEvent& event) {
    std::optional<LiveCopy> starts;
    std::uint64_t settled = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        starts = copies_.sent(event, unix_seconds());
        settled = counts_.done + counts_.failed;
        dirty_ = true;
    }
    if (options_.log_tasks && starts)
        on_message(MessageLevel::Notice, start_line(*starts, settled, counts_.total));
}

void CliObserver::on_task_finished(const TaskEvent& event, TaskOutcome outcome) {
    std::optional<LiveCopy> next;
    std::uint64_t settled = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        next = copies_.answered(event, unix_seconds());
        if (outcome == TaskOutcome::Done) ++counts_.done;
        if (outcome == TaskOutcome::Failed) ++counts_.failed;
        settled = counts_.done + counts_.failed;
        dirty_ = true;
    }
    if (!options_.log_tasks) return;
    // A queued copy dropped before it ran makes no line: it never started one.
    if (outcome != TaskOutcome::Cancelled || event.wall_s > 0 || copies_.started_of_last_answered() > 0) {
        on_message(MessageLevel::Notice, finish_line(event, outcome, settled, counts_.total));
    }
    if (next) on_message(MessageLevel::Notice, start_line(*next, settled, counts_.total));
}

void CliObserver::on_worker_retired(int rank, std::string_view host, std::string_view why) {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_.push_back({rank, std::string(host), "retired", unix_seconds(), std::string(why)});
    dirty_ = true;
}

void CliObserver::on_worker_lost(int rank, std::string_view host, double silent_s) {
    std::lock_guard<std::mutex> lock(mutex_);
    // since: when it was last heard from, which is what a user checking the node wants.
    stopped_.push_back({rank, std::string(host), "lost", unix_seconds() - silent_s, ""});
    dirty_ = true;
}

void CliObserver::on_end(const SweepCounts& counts, int exit_code) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (publisher_.joinable()) publisher_.join();
    if (live_) live_->remove();
    StderrObserver::on_end(counts, exit_code);
}

LiveSnapshot CliObserver::snapshot_locked() const {
    LiveSnapshot s;
    s.written = unix_seconds();
    s.interval = options_.live_interval;
    s.host = host_name();
    s.pid = static_cast<std::int64_t>(::getpid());
    s.run = options_.run;
    s.total = counts_.total;
    s.done = counts_.done;
    s.failed = counts_.failed;
    s.workers = counts_.workers;
    s.copies = copies_.all();
    s.stopped_workers = stopped_;
    return s;
}

void CliObserver::publish_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        if (dirty_) {
            const LiveSnapshot snapshot = snapshot_locked();
            dirty_ = false;
            lock.unlock();
            live_->write(snapshot);  // a refused write is retried with the next change
            lock.lock();
        }
        wake_.wait_for(lock, std::chrono::duration<double>(options_.live_interval),
                       [this] { return stopping_; });
    }
}

}  // namespace mpisweep::cli
