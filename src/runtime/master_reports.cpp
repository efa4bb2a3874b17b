// The master's report path: one report batch from one worker, row by row, straight from the
// batch's columns to the store's checks, the scheduler and the store (journal and staging),
// with no TaskReport, TaskRecord or map per task. The store checks a result before the
// scheduler hears "done": a result the file cannot take is a failed attempt.
#include <cmath>
#include <string>

#include "runtime/master.hpp"

namespace mpisweep {

void Master::handle_reports(WorkerId worker) {
    const WorkerSlot& slot = workers_[static_cast<std::size_t>(worker.value())];
    // One clock read per message: the rows of a batch were answered together.
    const Seconds now = transport_.now();
    double wall_sum = 0;
    std::size_t done = 0;
    reports_.for_each_row([&](const ReportRow& row) {
        if (row.outcome == Outcome::Done) {
            wall_sum += row.wall_s;
            ++done;
        }
        handle_report(worker, slot, row, now);
    });
    const int prefetch = sizer_.observe(wall_sum, done);
    // A GPU sweep queues nothing: a queued copy would hold GPUs it does not use yet.
    if (prefetch != scheduler_.prefetch() && gpus_ == nullptr) {
        scheduler_.set_prefetch(prefetch);
        // Two copies or more queued on each worker: about two batch targets of work (BatchSizer),
        // so a report read a quarter of a target late holds nobody up.
        transport_.set_slack(prefetch >= 2 ? options_.batch_target.count() / 4 : 0);
    }
}

// handle_report and handle_done are inlined into the row loop: each call layer is paid once
// per task (bench/README.md, "Batching against mpi4py's best chunksize").
[[gnu::always_inline]] inline void Master::handle_report(WorkerId worker, const WorkerSlot& slot,
                                                         const ReportRow& row, Seconds now) {
    if (row.outcome != Outcome::Infrastructure && row.outcome != Outcome::Cancelled &&
        static_cast<std::size_t>(worker.value()) < infrastructure_streak_.size())
        infrastructure_streak_[static_cast<std::size_t>(worker.value())] = 0;
    if (gpus_ != nullptr) answer_device_ = gpus_->on_answer(worker, row.task, row.outcome, row.error);
    switch (row.outcome) {
        case Outcome::Done:
            return handle_done(worker, slot, row, now);
        case Outcome::Failed:
            return handle_failure(worker, slot, row, row.error, now);
        case Outcome::Infrastructure:
            return handle_infrastructure(worker, row, now);
        case Outcome::Cancelled:
            // A copy that had started and was stopped by the drain.
            if (!std::isnan(row.start) && (stop_reason_ != StopReason::None || signals_.signal() != 0))
                ++cancelled_running_;
            scheduler_.on_cancelled(worker, row.task, now);
            task_finished(worker, slot, row, nullptr, TaskOutcome::Cancelled);
            return;
    }
}

[[gnu::always_inline]] inline void Master::handle_done(WorkerId worker, const WorkerSlot& slot,
                                                       const ReportRow& row, Seconds now) {
    if (row.n_fields > 0) {
        try {
            store_.check(row.task, row.fields, row.n_fields);
        } catch (const StoreError& e) {
            const std::string error = e.what();
            return handle_failure(worker, slot, row, &error, now);
        }
    }
    const DoneOutcome outcome = scheduler_.on_done(worker, row.task, now);
    if (outcome.accepted) {
        store_.record(row_view(worker, slot, row, TaskStatus::Done, outcome.attempts, nullptr));
        if (gpus_ != nullptr) gpus_->on_settled(row.task);
        if (notify_.wants_results()) notify_result(row);
    }
    task_finished(worker, slot, row, nullptr, outcome.accepted ? TaskOutcome::Done : TaskOutcome::Superseded);
    send_cancels(outcome.cancels);
}

void Master::handle_failure(WorkerId worker, const WorkerSlot& slot, const ReportRow& row,
                            const std::string* error, Seconds now) {
    const FailOutcome outcome = scheduler_.on_failed(worker, row.task, now);
    TaskOutcome finished = TaskOutcome::Retrying;
    switch (outcome.verdict) {
        case FailVerdict::Retry:
        case FailVerdict::Waiting:
            break;
        case FailVerdict::FailedForGood:
            store_.record(row_view(worker, slot, row, TaskStatus::Failed, outcome.attempts, error));
            if (gpus_ != nullptr) gpus_->on_settled(row.task);
            finished = TaskOutcome::Failed;
            break;
        case FailVerdict::Ignored:  // a copy being cancelled, or one of a settled task
            finished = scheduler_.status(row.task) == TaskStatus::Pending ? TaskOutcome::Cancelled
                                                                          : TaskOutcome::Superseded;
            break;
    }
    task_finished(worker, slot, row, error, finished);
    if (outcome.worker_retired) {
        const std::string why =
            std::to_string(options_.scheduler.max_worker_errors) +
            " failures in a row; last error: " + (error != nullptr ? *error : std::string());
        notify_.message(MessageLevel::Warning, "rank " + std::to_string(worker.value()) + " on " + slot.host +
                                                   " gets no more tasks after " + why);
        note_retired(worker.value(), why, now);
    }
    send_cancels(outcome.cancels);
}

// Not the task's fault (a log folder gone or not writable, a full disk): the attempt does not
// count and the task goes back to the pool. A worker that hits such errors on
// kInfrastructureStreak copies in a row has broken surroundings and gets no more tasks.
void Master::handle_infrastructure(WorkerId worker, const ReportRow& row, Seconds now) {
    constexpr int kInfrastructureStreak = 2;
    scheduler_.on_cancelled(worker, row.task, now);
    const auto rank = static_cast<std::size_t>(worker.value());
    WorkerSlot& slot = workers_[rank];
    task_finished(worker, slot, row, row.error, TaskOutcome::Cancelled);
    if (!slot.ready) return;  // already out
    if (infrastructure_streak_.size() <= rank) infrastructure_streak_.resize(workers_.size(), 0);
    const bool out = ++infrastructure_streak_[rank] >= kInfrastructureStreak;
    notify_.message(MessageLevel::Warning, "rank " + std::to_string(worker.value()) + " on " + slot.host +
                                               ": " + (row.error != nullptr ? *row.error : std::string()) +
                                               "; task " + std::to_string(row.task.value()) +
                                               " is pending again (its attempt does not count)" +
                                               (out ? "; this rank gets no more tasks" : ""));
    if (!out) return;
    slot.ready = false;
    ++infrastructure_retired_;
    note_retired(worker.value(), row.error != nullptr ? *row.error : "errors of its surroundings", now);
    send_cancels(scheduler_.retire(worker));
}

void Master::notify_finished(WorkerId worker, const WorkerSlot& slot, const ReportRow& row,
                             const std::string* error, TaskOutcome outcome) const {
    TaskEvent event;
    event.task = row.task;
    event.attempt = row.attempt;
    event.worker = worker.value();
    event.host = slot.host;
    event.device = answered_device(worker);
    event.wall_s = row.wall_s;
    event.exit_code = row.exit_code;
    if (error != nullptr) event.error = *error;
    notify_.task_finished(event, outcome);
}

void Master::notify_result(const ReportRow& row) const {
    TaskResult result;
    for (std::size_t k = 0; k < row.n_fields; ++k)
        result.emplace(*row.fields[k].name, value_of(row.fields[k].value));
    notify_.result(row.task, grid_.at(row.task), result);
}

}  // namespace mpisweep
