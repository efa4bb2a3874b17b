#include "runtime/master.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "exec/execute.hpp"
#include "platform/backoff.hpp"
#include "platform/clock.hpp"
#include "platform/interrupt.hpp"

namespace mpisweep {

Master::Master(const boost::mpi::communicator& comm, const Grid& grid, const Options& options,
               ResultStore& store, Scheduler& scheduler, std::vector<WorkerSlot> workers,
               const TaskFunction* local_task, const WorkerInfo* local_info, std::chrono::microseconds spin)
    : comm_(comm),
      grid_(grid),
      options_(options),
      store_(store),
      scheduler_(scheduler),
      workers_(std::move(workers)),
      local_task_(local_task),
      local_info_(local_info),
      sends_(comm),
      sizer_(options.batch_target.count(), options.scheduler.prefetch),
      notify_(options.observer),
      spin_(spin) {
    if (options_.deadline) {
        // On the monotonic clock, which does not jump when the wall clock is set.
        const double left =
            std::chrono::duration<double>(*options_.deadline - std::chrono::system_clock::now()).count();
        stop_by_ = monotonic_seconds() + left - options_.deadline_margin.count();
        scheduler_.set_deadline(stop_by_);
    }
}

int Master::run() {
    start_ = monotonic_seconds();
    next_progress_ = start_ + options_.progress_interval.count();
    notify_.start(scheduler_.counts());
    Backoff backoff(std::chrono::microseconds(200), spin_);
    // Messages handled per turn before assigning again: enough to drain a burst, few enough
    // that freed slots are refilled soon.
    constexpr int kMessagesPerTurn = 16;
    while (true) {
        const Seconds now = monotonic_seconds();
        check_stop(now);
        if (urgent_) abort_interrupted("a second signal: stopped at once");
        if (stop_reason_ != StopReason::None) {
            // Draining: wait until every copy sent out is answered (results still count).
            if (scheduler_.counts().in_flight == 0) break;
            if (now >= drain_until_)
                abort_interrupted("some tasks did not stop within the drain grace period; job aborted");
        } else if (scheduler_.finished() || scheduler_.stalled()) {
            break;
        }
        assign_and_dispatch(now);
        if (local_task_ != nullptr) {
            run_local_task();
        } else {
            int handled = 0;
            while (handled < kMessagesPerTurn && receive_one()) {
                ++handled;
                // Refill the slots a report freed before probing again: that worker may be
                // waiting, and a probe that finds nothing costs as much as the assignment.
                assign_and_dispatch(monotonic_seconds());
            }
            if (handled > 0) {
                backoff.reset();
            } else {
                backoff.idle();
            }
        }
        sends_.reap();
        store_.maybe_flush();
        report_progress(monotonic_seconds(), false);
    }
    // Results first: a copy that does not poll cancelled() may keep its worker busy a while.
    store_.flush();
    stop_workers();
    const SchedulerCounts counts = scheduler_.counts();
    report_progress(monotonic_seconds(), true);
    if (stop_reason_ == StopReason::None && !scheduler_.finished() && scheduler_.deadline_reached()) {
        stop_reason_ = StopReason::Deadline;
    }
    if (stop_reason_ != StopReason::None && !scheduler_.finished()) {
        report_stop(nullptr);
        return kExitInterrupted;
    }
    if (!scheduler_.finished()) {
        notify_.message(MessageLevel::Error,
                        std::to_string(counts.total - counts.done - counts.failed) +
                            " task(s) left pending: no worker can take them (setup failed, or too many"
                            " failures in a row); fix the cause and run again with --resume");
        return kExitStalled;
    }
    return counts.failed > 0 ? kExitTasksFailed : kExitOk;
}

void Master::report_progress(Seconds now, bool last) {
    const Seconds interval = options_.progress_interval.count();
    if (interval <= 0 || (!last && now < next_progress_)) return;
    next_progress_ = now + interval;
    notify_.progress(scheduler_.counts(), now - start_);
}

void Master::check_stop(Seconds now) {
    if (options_.handle_signals) {
        const int sig = detail::interrupt_signal();
        if (sig != 0) on_signal(sig, 0, detail::interrupt_urgent(), now);
    }
    if (stop_reason_ == StopReason::None && stop_by_ && now >= *stop_by_)
        begin_drain(StopReason::Deadline, now);
}

void Master::on_signal(int sig, int rank, bool urgent, Seconds now) {
    if (stop_signal_ == 0) {
        stop_signal_ = sig;
        signal_rank_ = rank;
        if (stop_reason_ == StopReason::None) begin_drain(StopReason::Signal, now);
    }
    if (urgent) urgent_ = true;
}

bool Master::stopping() const {
    return (options_.handle_signals && detail::interrupt_signal() != 0) ||
           (stop_by_ && monotonic_seconds() >= *stop_by_);
}

void Master::begin_drain(StopReason reason, Seconds now) {
    stop_reason_ = reason;
    drain_until_ = now + options_.drain_grace.count();
    const std::vector<Cancellation> cancels = scheduler_.drain();
    if (local_task_ != nullptr) {
        for (const Assignment& a : local_queue_) scheduler_.on_cancelled(a.worker, a.task, now);
        local_queue_.clear();
        return;
    }
    // Drain first: a copy that finishes anyway keeps its result.
    for (int rank = 1; rank < comm_.size(); ++rank) sends_.post_empty(rank, static_cast<int>(Tag::Drain));
    send_cancels(cancels);
}

void Master::report_stop(const char* how) const {
    const SchedulerCounts counts = scheduler_.counts();
    std::ostringstream line;
    if (stop_reason_ == StopReason::Deadline) {
        line << "stopped before the deadline (--deadline less " << options_.deadline_margin.count()
             << " s of --deadline-margin)";
    } else {
        line << "interrupted by " << detail::signal_name(stop_signal_);
        if (signal_rank_ > 0) line << " (on rank " << signal_rank_ << ")";
    }
    if (how != nullptr) line << ", then " << how;
    line << ": " << counts.done << " done, ";
    if (counts.failed > 0) line << counts.failed << " failed, ";
    line << cancelled_running_ << " cancelled and " << (counts.total - counts.done - counts.failed)
         << " left pending; run the same command again with --resume";
    notify_.message(MessageLevel::Error, line.str());
}

void Master::abort_interrupted(const char* how) {
    detail::interrupt_closing();  // the watchdog gives us time to save the file
    try {
        store_.flush();
        store_.close();
    } catch (const std::exception& e) {
        notify_.message(MessageLevel::Error, std::string("saving the results file failed: ") + e.what());
    }
    report_stop(how);
    comm_.abort(kExitInterrupted);
    std::_Exit(kExitInterrupted);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

void Master::assign_and_dispatch(Seconds now) {
    assigned_.clear();
    scheduler_.assign(now, assigned_);  // a few instructions when no slot or queue changed
    dispatch(assigned_);
}

void Master::dispatch(const std::vector<Assignment>& assignments) {
    if (assignments.empty()) return;
    if (notify_.active()) {
        for (const Assignment& a : assignments) {
            const WorkerSlot& slot = workers_[static_cast<std::size_t>(a.worker.value())];
            TaskEvent event;
            event.task = a.task;
            event.attempt = a.attempt;
            event.worker = a.worker.value();
            event.host = slot.host;
            event.device = slot.device;
            event.speculative = a.speculative;
            notify_.task_started(event);
        }
    }
    if (local_task_ != nullptr) {
        local_queue_.insert(local_queue_.end(), assignments.begin(), assignments.end());
        return;
    }
    // One message per worker, however many tasks it gets.
    if (outgoing_.empty()) outgoing_.resize(static_cast<std::size_t>(comm_.size()));
    std::vector<Cancellation> taken_back;  // queued copies moved to an idle worker
    for (const Assignment& a : assignments) {
        TaskBatch& batch = outgoing_[static_cast<std::size_t>(a.worker.value())];
        if (batch.empty()) outgoing_ranks_.push_back(a.worker.value());
        batch.add(a.task, a.attempt);
        if (a.moved_from) taken_back.push_back({*a.moved_from, a.task});
    }
    for (int rank : outgoing_ranks_) {
        TaskBatch& batch = outgoing_[static_cast<std::size_t>(rank)];
        sends_.post(rank, static_cast<int>(Tag::Tasks), batch);
        batch.clear();
    }
    outgoing_ranks_.clear();
    send_cancels(taken_back);
}

void Master::send_cancels(const std::vector<Cancellation>& cancels) {
    if (cancels.empty()) return;
    std::map<int, CancelRequest> requests;
    for (const Cancellation& c : cancels) requests[c.worker.value()].tasks.push_back(c.task.value());
    for (auto& [rank, request] : requests) {
        if (local_task_ != nullptr) continue;  // one rank runs one task at a time: nothing queued
        sends_.post(rank, static_cast<int>(Tag::Cancel), request);
    }
}

bool Master::receive_one() {
    const std::optional<Envelope> envelope = probe(comm_, MPI_ANY_SOURCE);
    if (!envelope) return false;
    const WorkerId worker(envelope->source);
    switch (static_cast<Tag>(envelope->tag)) {
        case Tag::Reports: {
            receive(comm_, *envelope, reports_);
            double wall_sum = 0;
            std::size_t done = 0;
            reports_.for_each([&](TaskReport& report) {
                if (report.outcome == Outcome::Done) {
                    wall_sum += report.wall_s;
                    ++done;
                }
                handle_report(worker, report);
            });
            const int prefetch = sizer_.observe(wall_sum, done);
            if (prefetch != scheduler_.prefetch()) scheduler_.set_prefetch(prefetch);
            break;
        }
        case Tag::Interrupt: {
            InterruptNotice notice;
            receive(comm_, *envelope, notice);
            on_signal(notice.signal, envelope->source, notice.urgent, monotonic_seconds());
            break;
        }
        default:
            throw std::runtime_error("master: unexpected message tag " + std::to_string(envelope->tag) +
                                     " from rank " + std::to_string(envelope->source));
    }
    return true;
}

void Master::run_local_task() {
    if (local_queue_.empty()) return;
    const Assignment next = local_queue_.front();
    local_queue_.pop_front();
    TaskReport report = execute_task(*local_task_, grid_, next.task, next.attempt, *local_info_,
                                     [this] { return stopping(); });
    // As on a worker: a failure during a stop was most likely caused by the stop.
    if (report.outcome == Outcome::Failed && stopping()) report.outcome = Outcome::Cancelled;
    handle_report(next.worker, report);
}

void Master::handle_report(WorkerId worker, TaskReport& report) {
    const Seconds now = monotonic_seconds();
    switch (report.outcome) {
        case Outcome::Done: {
            const bool first = scheduler_.status(report.task) == TaskStatus::Pending;
            if (first) {
                // Store before telling the scheduler: a result the file cannot take (a field
                // whose type changed) is a failed attempt, not a done task.
                try {
                    // Before on_done, the task's copies started so far: this one included.
                    store_.record(make_record(worker, report, TaskStatus::Done,
                                              std::max(scheduler_.attempts(report.task), report.attempt)));
                } catch (const StoreError& e) {
                    report.outcome = Outcome::Failed;
                    report.error = e.what();
                    handle_failure(worker, report);
                    return;
                }
            }
            const DoneOutcome outcome = scheduler_.on_done(worker, report.task, now);
            if (first && !outcome.accepted) {
                throw std::logic_error("scheduler refused the first result of task " +
                                       std::to_string(report.task.value()));
            }
            task_finished(worker, report, outcome.accepted ? TaskOutcome::Done : TaskOutcome::Superseded);
            if (outcome.accepted && notify_.wants_results())
                notify_.result(report.task, grid_.at(report.task), report.results);
            send_cancels(outcome.cancels);
            break;
        }
        case Outcome::Failed:
            handle_failure(worker, report);
            break;
        case Outcome::Cancelled:
            // A copy that had started (start > 0) and was stopped by the drain.
            if (report.start > 0 && (stop_reason_ != StopReason::None || detail::interrupt_signal() != 0)) {
                ++cancelled_running_;
            }
            scheduler_.on_cancelled(worker, report.task, now);
            task_finished(worker, report, TaskOutcome::Cancelled);
            break;
    }
}

void Master::handle_failure(WorkerId worker, TaskReport& report) {
    const FailOutcome outcome = scheduler_.on_failed(worker, report.task, monotonic_seconds());
    if (outcome.verdict == FailVerdict::FailedForGood) {
        store_.record(make_record(worker, report, TaskStatus::Failed, outcome.attempts));
    }
    switch (outcome.verdict) {
        case FailVerdict::Retry:
        case FailVerdict::Waiting:
            task_finished(worker, report, TaskOutcome::Retrying);
            break;
        case FailVerdict::FailedForGood:
            task_finished(worker, report, TaskOutcome::Failed);
            break;
        case FailVerdict::Ignored:  // a copy being cancelled, or one of a settled task
            task_finished(worker, report,
                          scheduler_.status(report.task) == TaskStatus::Pending ? TaskOutcome::Cancelled
                                                                                : TaskOutcome::Superseded);
            break;
    }
    if (outcome.worker_retired) {
        notify_.message(MessageLevel::Warning, "rank " + std::to_string(worker.value()) + " on " +
                                                   workers_[worker.value()].host +
                                                   " gets no more tasks after " +
                                                   std::to_string(options_.scheduler.max_worker_errors) +
                                                   " failures in a row; last error: " + report.error);
    }
    send_cancels(outcome.cancels);
}

void Master::task_finished(WorkerId worker, const TaskReport& report, TaskOutcome outcome) const {
    if (!notify_.active()) return;
    const WorkerSlot& slot = workers_[static_cast<std::size_t>(worker.value())];
    TaskEvent event;
    event.task = report.task;
    event.attempt = report.attempt;
    event.worker = worker.value();
    event.host = slot.host;
    event.device = slot.device;
    event.wall_s = report.wall_s;
    event.exit_code = report.exit_code;
    event.error = report.error;
    notify_.task_finished(event, outcome);
}

TaskRecord Master::make_record(WorkerId worker, TaskReport& report, TaskStatus status, int attempts) const {
    TaskRecord record;
    record.id = report.task;
    record.status = status;
    record.attempts = attempts;
    record.worker = worker.value();
    const WorkerSlot& slot = workers_[static_cast<std::size_t>(worker.value())];
    record.device = slot.device;
    record.node = slot.host;
    record.start = report.start;
    record.wall_s = report.wall_s;
    record.exit_code = report.exit_code;
    if (status == TaskStatus::Failed) record.error = report.error;
    if (notify_.wants_results()) {
        record.results = report.results;  // on_result still needs them
    } else {
        record.results = std::move(report.results);
    }
    return record;
}

void Master::stop_workers() {
    if (local_task_ != nullptr) return;
    for (int rank = 1; rank < comm_.size(); ++rank) sends_.post_empty(rank, static_cast<int>(Tag::Stop));
    // Drain until every worker said Bye: results still in flight are late copies of settled
    // tasks, and a worker must not be left blocked in a send.
    int byes = 0;
    Backoff backoff(std::chrono::microseconds(500));
    while (byes < comm_.size() - 1) {
        const std::optional<Envelope> envelope = probe(comm_, MPI_ANY_SOURCE);
        if (!envelope) {
            if (options_.handle_signals && detail::interrupt_urgent()) {
                abort_interrupted("a second signal: stopped at once");
            }
            backoff.idle();
            continue;
        }
        backoff.reset();
        if (static_cast<Tag>(envelope->tag) == Tag::Bye) {
            receive_empty(comm_, *envelope);
            ++byes;
        } else if (static_cast<Tag>(envelope->tag) == Tag::Interrupt) {
            InterruptNotice late;  // the sweep is ending anyway
            receive(comm_, *envelope, late);
        } else {
            ReportBatch late;
            receive(comm_, *envelope, late);
        }
    }
    sends_.wait_all();
}

}  // namespace mpisweep
