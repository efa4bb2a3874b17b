#include "mpi/worker.hpp"

#include <algorithm>
#include <boost/mpi/status.hpp>

#include "mpi/backoff.hpp"
#include "mpi/clock.hpp"
#include "mpi/execute.hpp"

namespace mpisweep {

namespace {
constexpr int kMaster = 0;
// A task may call cancelled() in a tight loop: look for messages at most this often.
constexpr double kCancelPollInterval = 1e-3;
}  // namespace

Worker::Worker(const boost::mpi::communicator& comm, const Grid& grid, const TaskFunction& task,
               const WorkerInfo& info)
    : comm_(comm), grid_(grid), task_(task), info_(info) {}

void Worker::run() {
    while (!stop_) {
        poll(queue_.empty());
        send_reports();
        if (stop_ || queue_.empty()) continue;
        const TaskAssignmentMsg next = queue_.front();
        queue_.pop_front();
        running_ = next.task;
        running_cancelled_ = false;
        TaskReport report = execute_task(task_, grid_, next.task, next.attempt, info_,
                                         [this] { return running_task_cancelled(); });
        if (running_cancelled_ && report.outcome == Outcome::Done) report.outcome = Outcome::Cancelled;
        running_.reset();
        outbox_.push_back(std::move(report));
        send_reports();
    }
    // After Stop the master has settled every task: queued copies are simply dropped.
    comm_.send(kMaster, static_cast<int>(Tag::Bye));
}

void Worker::poll(bool wait) {
    Backoff backoff(std::chrono::microseconds(1000));
    for (;;) {
        boost::optional<boost::mpi::status> status = comm_.iprobe(kMaster, boost::mpi::any_tag);
        if (!status) {
            if (!wait) return;
            backoff.idle();
            continue;
        }
        backoff.reset();
        switch (static_cast<Tag>(status->tag())) {
            case Tag::Tasks: {
                TaskBatch batch;
                comm_.recv(kMaster, status->tag(), batch);
                queue_.insert(queue_.end(), batch.tasks.begin(), batch.tasks.end());
                break;
            }
            case Tag::Cancel: {
                CancelRequest request;
                comm_.recv(kMaster, status->tag(), request);
                on_cancel(request);
                break;
            }
            case Tag::Stop:
                comm_.recv(kMaster, status->tag());
                stop_ = true;
                break;
            default:
                throw std::runtime_error("worker: unexpected message tag " +
                                         std::to_string(status->tag()));
        }
        wait = false;  // got one: drain the rest without waiting
    }
}

void Worker::on_cancel(const CancelRequest& request) {
    for (TaskId id : request.tasks) {
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
        outbox_.push_back(std::move(report));
        queue_.erase(it);
    }
}

bool Worker::running_task_cancelled() {
    const double now = monotonic_seconds();
    if (now - last_cancel_poll_ >= kCancelPollInterval) {
        last_cancel_poll_ = now;
        poll(false);
        send_reports();  // queued copies dropped meanwhile free their slots at once
    }
    return running_cancelled_ || stop_;
}

void Worker::send_reports() {
    if (outbox_.empty()) return;
    ReportBatch batch;
    batch.reports.swap(outbox_);
    comm_.send(kMaster, static_cast<int>(Tag::Reports), batch);
}

}  // namespace mpisweep
