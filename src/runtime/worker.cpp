#include "runtime/worker.hpp"

#include <algorithm>

#include "exec/execute.hpp"

namespace mpisweep {

namespace {
// A task may call cancelled() in a tight loop: look for messages at most this often.
constexpr double kCancelPollInterval = 1e-3;
// Between tasks, how often a worker lets its sends in flight move on: a quarter of its report
// interval (a report over MPI's eager limit waits for rank 0 to take it; moving it sooner
// buys little), and at least this often. Under oversubscription every MPI test that finds
// nothing new yields the core, a context switch each (bench/README.md, "Session 14").
constexpr double kProgressInterval = 20e-6;
// How long a worker waits at most, before its next task, for a report over MPI's eager limit
// to reach the master (docs/api.md, batch_target: its first results and those of long tasks
// reach rank 0 before its next task starts). A master that takes nothing for this long is
// stuck: the report then moves at the worker's next MPI call.
constexpr double kSettleAtMost = 1.0;
// The longest an idle worker waits without looking at the signals.
constexpr double kLookInterval = 0.05;
}  // namespace

Worker::Worker(Transport& transport, const Grid& grid, const TaskFunction& task, const WorkerInfo& info,
               double report_interval_s, const StopSignals& signals)
    : transport_(transport),
      grid_(grid),
      task_(task),
      info_(info),
      report_interval_(report_interval_s),
      progress_interval_(std::max(kProgressInterval, report_interval_s / 4)),
      signals_(signals),
      cancel_check_([this] { return running_task_cancelled(); }),
      last_report_(transport.now()),
      last_sent_(transport.now()) {
    outbox_.set_unix_offset(unix_seconds() - transport.now());
}

void Worker::run() {
    while (!done()) {
        if (step()) continue;
        double until = transport_.now() + kLookInterval;
        if (gpus_ != nullptr && gpus_->watch != nullptr) until = std::min(until, gpus_->watch->next_due());
        transport_.wait(kMasterRank, until);
    }
}

bool Worker::step() {
    if (bye_sent_) return false;
    // One reading of the clock per task: the last task's end, when the step follows it.
    double now = task_end_ >= 0 ? task_end_ : transport_.now();
    task_end_ = -1;
    heartbeat_if_silent(now);
    poll_gpus();
    if (!stop_ && (check_interrupt() || draining_)) drop_queue();
    if (!stop_ && queue_.empty()) {
        send_reports();  // nothing left to run: the master must hear of everything now
        const bool had_message = poll(PollFor::FirstTasks);
        if (!stop_) return had_message;
    }
    if (!stop_) {
        // Look for messages (cancels of queued copies, new tasks) only as often as reports go
        // out, or, when each report goes out at once, every kCancelPollInterval: a probe
        // (~600 instructions in Open MPI 4.1) before each tiny task would cost more than the
        // task. Tasks longer than that interval still poll before each one.
        // A queue about to run dry looks and reports four times as often: the refill takes a
        // round trip, and a worker that waited for its next due time met an empty queue.
        const bool running_low = static_cast<double>(queue_.size()) * last_wall_ < 2 * report_interval_;
        const bool due = report_interval_ > 0
                             ? now - last_report_ >= report_interval_ ||
                                   (running_low && now - last_cancel_poll_ >= report_interval_ / 4)
                             : now - last_cancel_poll_ >= kCancelPollInterval;
        if (due) {
            last_cancel_poll_ = now;
            poll(PollFor::Everything);
            send_reports();
            now = transport_.now();
        }
    }
    if (stop_) {
        say_bye();
    } else if (!queue_.empty()) {
        if (settle_first_) {
            // The last task was long or among the first: its report, if over MPI's eager
            // limit, would otherwise move only after the next task (without a single-copy
            // mechanism its data moves only while this rank calls MPI).
            settle_first_ = false;
            transport_.settle(now + kSettleAtMost);
            now = transport_.now();
        } else if (now - last_progress_ >= progress_interval_) {
            // A large report still going out moves only while this rank calls MPI.
            last_progress_ = now;
            transport_.progress();
            // Open MPI yields the core in there when oversubscribed: the next task starts
            // when it is back, and its wall time is its own (the batch sizer learns from it).
            now = transport_.now();
        }
        run_next(now);
    }
    return true;
}

void Worker::run_next(double now) {
    const TaskAssignmentMsg next = queue_.front();
    queue_.pop_front();
    running_ = next.task;
    running_cancelled_ = false;
    GpuWatch* watch = gpus_ != nullptr ? gpus_->watch : nullptr;
    if (watch != nullptr) watch->copy_started(next.gpus, now);
    TaskReport report = execute_task(task_, grid_, next.task, next.attempt, info_for(next), cancel_check_,
                                     now, transport_.clock());
    if (watch != nullptr) {
        // Its peak before its report: the master learns from it when the report frees the GPU.
        if (const std::optional<Bytes> peak = watch->copy_ended()) {
            GpuMemoryReport ended;
            ended.copy = GpuMemoryReport::Ended;
            ended.task = next.task.value();
            ended.attempt = next.attempt;
            ended.use = *peak;
            transport_.send(kMasterRank, ended);
        }
    }
    // A copy told to stop that finished anyway: a loser of a race gives way, but in a drain
    // the result is as good as any and is kept. A copy that fails in a drain was most likely
    // killed by the same signal (Slurm signals every process of the step).
    if (running_cancelled_ && !draining_ && report.outcome == Outcome::Done)
        report.outcome = Outcome::Cancelled;
    if (draining_ && report.outcome == Outcome::Failed) report.outcome = Outcome::Cancelled;
    running_.reset();
    const double report_wall = report.wall_s;
    task_end_ = now + report_wall;
    outbox_.add(std::move(report));
    // Batched reports go out at the next step that is due, which comes before the next task
    // only once report_interval_ has passed: results of shorter tasks wait for the next task,
    // however long it runs (at most report_interval_'s worth of work is held so). A worker's
    // first tasks, whose length it cannot know yet, report at once.
    const bool first = tasks_run_ < kReportEachFirst;
    if (first) ++tasks_run_;
    if (report_interval_ <= 0 || first) send_reports();
    last_wall_ = report_wall;
    settle_first_ = report_interval_ > 0 && (first || report_wall >= report_interval_);
}

void Worker::say_bye() {
    // After Stop the master has settled every task: queued copies are simply dropped.
    send_reports();
    transport_.send(kMasterRank, Tag::Bye);
    sent_now();
    transport_.flush();
    bye_sent_ = true;
}

bool Worker::poll(PollFor what) {
    for (bool any = false;; any = true) {
        transport_.progress();
        const std::optional<Envelope> envelope = transport_.probe(kMasterRank);
        if (!envelope) return any;
        switch (static_cast<Tag>(envelope->tag)) {
            case Tag::Tasks: {
                transport_.receive(*envelope, incoming_);
                incoming_.for_each([this](TaskAssignmentMsg&& copy) { queue_.push_back(std::move(copy)); });
                // A worker that ran dry runs them now: one more probe that finds nothing
                // (~600 instructions in Open MPI 4.1) would sit between the task's arrival
                // and its report; a message behind this one waits for the next poll. A
                // periodic poll takes every message: the master refills a queue with one
                // small message per report, and a poll that took one of them a report
                // interval left the rest waiting while the queue ran dry.
                if (what == PollFor::FirstTasks) return true;
                break;
            }
            case Tag::Cancel: {
                CancelRequest request;
                transport_.receive(*envelope, request);
                on_cancel(request);
                break;
            }
            case Tag::Drain:
                transport_.receive(*envelope);
                draining_ = true;
                break;
            case Tag::Stop:
                transport_.receive(*envelope);
                stop_ = true;
                break;
            default:
                throw std::runtime_error("worker: unexpected message tag " + std::to_string(envelope->tag));
        }
    }
}

void Worker::on_cancel(const CancelRequest& request) {
    for (std::uint64_t raw : request.tasks) {
        const TaskId id(raw);
        if (running_ && *running_ == id) {
            running_cancelled_ = true;
            continue;
        }
        auto it = std::find_if(queue_.begin(), queue_.end(),
                               [id](const TaskAssignmentMsg& a) { return a.task == id; });
        if (it == queue_.end()) continue;  // already answered: the master has our report
        TaskReport report;
        report.task = id;
        report.attempt = it->attempt;
        report.outcome = Outcome::Cancelled;
        outbox_.add(std::move(report));
        queue_.erase(it);
    }
}

bool Worker::check_interrupt() {
    const int sig = signals_.signal();
    if (sig == 0) return false;
    const int count = signals_.urgent() ? 2 : 1;
    if (count > signals_reported_) {
        signals_reported_ = count;
        transport_.send(kMasterRank, InterruptNotice{sig, count >= 2});
        sent_now();
    }
    draining_ = true;
    return true;
}

void Worker::drop_queue() {
    for (const TaskAssignmentMsg& a : queue_) {
        TaskReport report;
        report.task = a.task;
        report.attempt = a.attempt;
        report.outcome = Outcome::Cancelled;
        outbox_.add(std::move(report));
    }
    queue_.clear();
    send_reports();
}

bool Worker::running_task_cancelled() {
    if (check_interrupt()) return true;
    poll_gpus();
    const double now = transport_.now();
    if (now - last_cancel_poll_ >= kCancelPollInterval) {
        last_cancel_poll_ = now;
        if (cancel_poll_hook_) cancel_poll_hook_();
        poll(PollFor::Everything);
        send_reports();  // queued copies dropped meanwhile free their slots at once
        heartbeat_if_silent(now);
    }
    return running_cancelled_ || stop_ || draining_;
}

void Worker::poll_gpus() {
    if (gpus_ == nullptr || gpus_->watch == nullptr) return;
    const double now = transport_.now();
    if (now < gpus_->watch->next_due()) return;
    const std::optional<GpuReading> reading = gpus_->watch->poll(now);
    if (!reading) return;
    GpuMemoryReport report;
    report.free.assign(reading->free.begin(), reading->free.end());
    if (reading->ours) report.ours.assign(reading->ours->begin(), reading->ours->end());
    if (reading->copy_use && running_) {
        report.copy = GpuMemoryReport::Running;
        report.task = running_->value();
        report.use = *reading->copy_use;
    }
    transport_.send(kMasterRank, report);
}

const WorkerInfo& Worker::info_for(const TaskAssignmentMsg& copy) {
    if (gpus_ == nullptr) return info_;
    copy_info_ = info_;
    copy_info_.node_gpus = static_cast<int>(gpus_->devices.size());
    copy_info_.devices = copy.gpus;
    copy_info_.visible_devices.clear();
    for (int g : copy.gpus) {
        const bool known = g >= 0 && g < static_cast<int>(gpus_->devices.size());
        copy_info_.visible_devices.push_back(known ? gpus_->devices[static_cast<std::size_t>(g)].visible_id
                                                   : std::to_string(g));
    }
    copy_info_.device = copy.gpus.empty() ? -1 : copy.gpus.front();
    copy_info_.visible_device = copy_info_.visible_devices.empty() ? "" : copy_info_.visible_devices.front();
    return copy_info_;
}

void Worker::send_reports() {
    if (outbox_.empty()) return;
    transport_.send(kMasterRank, outbox_);
    outbox_.clear();
    const double now = transport_.now();
    if (report_interval_ > 0) last_report_ = now;
    last_sent_ = now;
    outbox_.set_unix_offset(unix_seconds() - now);  // follows the wall clock's steps (NTP)
}

void Worker::heartbeat_if_silent(double now) {
    if (heartbeat_interval_ <= 0 || bye_sent_) return;
    if (now - last_sent_ < heartbeat_interval_) return;
    transport_.send(kMasterRank, Tag::Heartbeat);
    last_sent_ = now;
}

}  // namespace mpisweep
