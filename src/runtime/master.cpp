// The master's running phase: assignments out, reports in. Stopping, drains and the end of
// the sweep are in master_stop.cpp.
#include "runtime/master.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>

#include "platform/clock.hpp"

namespace mpisweep {

namespace {
// Messages handled per turn before assigning again: enough to drain a burst, few enough that
// freed slots are refilled soon.
constexpr int kMessagesPerTurn = 16;
// The longest the master sleeps without looking at the signals.
constexpr Seconds kLookInterval = 0.05;
}  // namespace

Master::Master(Transport& transport, const Grid& grid, const Options& options, ResultStore& store,
               Scheduler& scheduler, std::vector<WorkerSlot> workers, const StopSignals& signals)
    : transport_(transport),
      grid_(grid),
      options_(options),
      store_(store),
      scheduler_(scheduler),
      workers_(std::move(workers)),
      signals_(signals),
      notify_(options.observer),
      sizer_(options.batch_target.count(), options.scheduler.prefetch, workers_.size()) {
    if (options_.deadline) {
        // On the monotonic clock, which does not jump when the wall clock is set.
        const double left =
            std::chrono::duration<double>(*options_.deadline - std::chrono::system_clock::now()).count();
        stop_by_ = transport_.now() + left - options_.deadline_margin.count();
        scheduler_.set_deadline(stop_by_);
    }
}

int Master::run() {
    start();
    while (step()) transport_.wait(kAnySource, next_wake());
    return exit_code_;
}

void Master::start() {
    start_ = transport_.now();
    unix_start_ = unix_seconds();
    for (WorkerSlot& slot : workers_) {
        slot.last_heard = start_;
        if (!slot.retired_why.empty()) slot.retired_at = start_;  // its setup failed
    }
    next_progress_ = start_ + options_.progress_interval.count();
    notify_.start(scheduler_.counts());
}

bool Master::step() {
    switch (phase_) {
        case Phase::Running:
            step_running(transport_.now());
            break;
        case Phase::Stopping:
            step_stopping();
            break;
        case Phase::Over:
            break;
    }
    return phase_ != Phase::Over;
}

void Master::step_running(Seconds now) {
    check_stop();
    if (stop_reason_ != StopReason::None) {
        // Draining: wait until every copy sent out is answered (results still count).
        if (scheduler_.counts().in_flight == 0) return end_running();
        if (now >= drain_until_)
            abort_interrupted("some tasks did not stop within the drain grace period; job aborted");
    } else if (scheduler_.finished() || scheduler_.stalled()) {
        return end_running();
    }
    assign_and_dispatch(now);
    int handled = 0;
    for (; handled < kMessagesPerTurn && receive_one(); ++handled) {
        // Refill the slots a report freed before probing again: that worker may be waiting,
        // and a probe that finds nothing costs as much as the assignment. What it reported is
        // in the journal first.
        store_.journal_slow_results();
        assign_and_dispatch(transport_.now());
    }
    backlog_ = handled == kMessagesPerTurn;
    check_heartbeats(transport_.now());
    transport_.progress();
    store_.maybe_flush();
    report_progress(transport_.now(), false);
    publish_live(transport_.now());
}

Seconds Master::next_wake() const {
    const Seconds now = transport_.now();
    Seconds wake = now + kLookInterval;                           // signals
    wake = std::min(wake, now + store_.next_write_in().count());  // results to the journal, the file
    if (options_.heartbeat_timeout.count() > 0) wake = std::min(wake, next_heartbeat_check_);
    if (phase_ != Phase::Running) return wake;
    if (options_.progress_interval.count() > 0) wake = std::min(wake, next_progress_);
    if (stop_reason_ == StopReason::None) {
        wake = std::min(wake, scheduler_.next_assign_time());  // a copy turning overdue
        if (stop_by_) wake = std::min(wake, *stop_by_);
    } else {
        wake = std::min(wake, drain_until_);
    }
    return wake;
}

void Master::report_progress(Seconds now, bool last) {
    const Seconds interval = options_.progress_interval.count();
    if (interval <= 0 || (!last && now < next_progress_)) return;
    next_progress_ = now + interval;
    notify_.progress(scheduler_.counts(), now - start_);
}

void Master::use_gpus(MasterGpus& gpus) {
    gpus_ = &gpus;
    scheduler_.set_gate(&gpus.gate());
    scheduler_.set_prefetch(0);
    for (const std::string& line : gpus.notices()) notify_.message(MessageLevel::Notice, line);
}

void Master::assign_and_dispatch(Seconds now) {
    assigned_.clear();
    scheduler_.assign(now, assigned_);  // a few instructions when no slot or queue changed
    dispatch(assigned_);
}

void Master::dispatch(const Assignments& assignments) {
    if (assignments.empty()) return;
    if (notify_.wants_task_events()) {
        for (const Assignment& a : assignments) {
            const WorkerSlot& slot = workers_[static_cast<std::size_t>(a.worker.value())];
            TaskEvent event;
            event.task = a.task;
            event.attempt = a.attempt;
            event.worker = a.worker.value();
            event.host = slot.host;
            event.device = slot.device;
            if (gpus_ != nullptr) {
                const std::vector<int>& gpus = gpus_->devices(a.worker, a.task);
                event.device = gpus.empty() ? -1 : gpus.front();
            }
            event.speculative = a.speculative;
            notify_.task_started(event);
        }
    }
    // One message per worker, however many tasks it gets.
    if (outgoing_.empty()) outgoing_.resize(workers_.size());
    std::vector<Cancellation> taken_back;  // queued copies moved to an idle worker
    for (const Assignment& a : assignments) {
        TaskBatch& batch = outgoing_[static_cast<std::size_t>(a.worker.value())];
        if (batch.empty()) outgoing_ranks_.push_back(a.worker.value());
        if (gpus_ != nullptr) {
            batch.add(a.task, a.attempt, gpus_->devices(a.worker, a.task));
        } else {
            batch.add(a.task, a.attempt);
        }
        if (a.moved_from) taken_back.push_back({*a.moved_from, a.task});
    }
    for (int rank : outgoing_ranks_) {
        TaskBatch& batch = outgoing_[static_cast<std::size_t>(rank)];
        transport_.send(rank, batch);
        batch.clear();
    }
    outgoing_ranks_.clear();
    send_cancels(taken_back);
}

void Master::send_cancel_requests(const std::vector<Cancellation>& cancels) {
    std::map<int, CancelRequest> requests;
    for (const Cancellation& c : cancels) requests[c.worker.value()].tasks.push_back(c.task.value());
    for (auto& [rank, request] : requests) transport_.send(rank, request);
}

bool Master::receive_one() {
    const std::optional<Envelope> envelope = transport_.probe(kAnySource);
    if (!envelope) return false;
    WorkerSlot& slot = workers_[static_cast<std::size_t>(envelope->source)];
    slot.last_heard = transport_.now();
    if (slot.lost) {
        drop_from_lost(*envelope);
        return true;
    }
    switch (static_cast<Tag>(envelope->tag)) {
        case Tag::Heartbeat:
            transport_.receive(*envelope);
            break;
        case Tag::Reports:
            transport_.receive(*envelope, reports_);
            handle_reports(WorkerId(envelope->source));
            break;
        case Tag::Interrupt: {
            InterruptNotice notice;
            transport_.receive(*envelope, notice);
            on_signal(notice.signal, envelope->source, notice.urgent, transport_.now());
            break;
        }
        case Tag::Gpu: {
            GpuMemoryReport memory;
            transport_.receive(*envelope, memory);
            if (gpus_ != nullptr) gpus_->on_memory(WorkerId(envelope->source), memory, transport_.now());
            break;
        }
        default:
            throw std::runtime_error("master: unexpected message tag " + std::to_string(envelope->tag) +
                                     " from rank " + std::to_string(envelope->source));
    }
    return true;
}

void Master::drop_from_lost(const Envelope& envelope) {
    switch (static_cast<Tag>(envelope.tag)) {
        case Tag::Reports: {
            ReportBatch late;  // its tasks went back to the pool when it was declared lost
            transport_.receive(envelope, late);
            break;
        }
        case Tag::Interrupt: {
            InterruptNotice notice;
            transport_.receive(envelope, notice);
            if (phase_ == Phase::Running)
                on_signal(notice.signal, envelope.source, notice.urgent, transport_.now());
            break;
        }
        default:  // Heartbeat, Bye
            transport_.receive(envelope);
            break;
    }
}

void Master::check_heartbeats(Seconds now) {
    const Seconds timeout = options_.heartbeat_timeout.count();
    if (timeout <= 0 || workers_.size() < 2 || backlog_ || now < next_heartbeat_check_) return;
    next_heartbeat_check_ = now + std::min(1.0, timeout / 8);
    for (int rank = first_worker_rank(); rank < static_cast<int>(workers_.size()); ++rank) {
        const WorkerSlot& slot = workers_[static_cast<std::size_t>(rank)];
        if (!slot.lost && !slot.said_bye && now - slot.last_heard >= timeout) declare_lost(rank, now);
    }
}

void Master::declare_lost(int rank, Seconds now) {
    WorkerSlot& slot = workers_[static_cast<std::size_t>(rank)];
    slot.lost = true;
    slot.ready = false;
    ++lost_;
    const std::size_t copies = scheduler_.lose(WorkerId(rank), now);
    std::ostringstream line;
    line << "rank " << rank << " on " << slot.host << " sent nothing for "
         << static_cast<long>(now - slot.last_heard) << " s (heartbeat timeout "
         << options_.heartbeat_timeout.count() << " s): declared lost (a hung node or"
         << " rank); ";
    if (phase_ == Phase::Running) {
        line << copies << " task(s) it held are pending again; it gets nothing more and nothing it sends"
             << " later counts";
    } else {
        line << "the job ends without it once the others are done";
    }
    notify_.message(MessageLevel::Warning, line.str());
    notify_.worker_lost(rank, slot.host, now - slot.last_heard);
}

}  // namespace mpisweep
