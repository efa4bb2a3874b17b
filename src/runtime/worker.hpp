#pragma once
// The worker loop: receive task batches, run them in order, answer each copy exactly once,
// stop when the master says so. A signal that reaches a worker is passed on to the master,
// which drains the whole sweep. Reports are batched like tasks: sent once `report_interval`
// has passed since the last batch, or when the queue runs dry (0: after every task).
//
// An event-driven state machine over a Transport: step() handles what is waiting and runs
// at most one queued copy. run() steps and waits on the transport until Stop; a rank that
// works alone steps its worker between the master's steps, and unit tests step it as they
// choose.
#include <deque>
#include <functional>
#include <optional>

#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"
#include "platform/gpu_watch.hpp"
#include "runtime/stop_signals.hpp"
#include "transport/messages.hpp"
#include "transport/transport.hpp"

namespace mpisweep {

/// A worker's GPUs in a GPU sweep: its node's GPUs as it sees them and its watch on them.
struct WorkerGpus {
    std::vector<GpuDevice> devices;
    GpuWatch* watch = nullptr;
};

class Worker {
public:
    Worker(Transport& transport, const Grid& grid, const TaskFunction& task, const WorkerInfo& info,
           double report_interval_s = 0, const StopSignals& signals = StopSignals::process());
    /// Runs until the master sends Stop; then says Bye. A worker whose setup failed (not
    /// `ready`) gets no tasks but still waits for Stop.
    void run();

    /// Handles the messages waiting (at most as often as reports go out while copies are
    /// queued), runs the next queued copy if any, and reports. Returns false when it had
    /// nothing to do: then wait for a message from the master. After Stop it says Bye.
    bool step();
    /// The master said Stop and this worker said Bye.
    bool done() const { return bye_sent_; }
    /// Called before this worker looks for messages while a task polls cancelled(): a rank
    /// that works alone lets its master check the signals and the deadline there.
    void on_cancel_poll(std::function<void()> hook) { cancel_poll_hook_ = std::move(hook); }
    std::size_t queued() const { return queue_.size(); }
    /// Says "still here" to the master after `seconds` without a message to it (0: never),
    /// from the loop and from a running task's cancelled() polls (Options::heartbeat_timeout).
    void heartbeat_every(double seconds) { heartbeat_interval_ = seconds; }
    /// A GPU sweep: copies run on the GPUs their assignment names (CUDA_VISIBLE_DEVICES), and
    /// the watch's readings go to the master. `gpus` must outlive the worker.
    void use_gpus(const WorkerGpus& gpus) { gpus_ = &gpus; }

private:
    enum class PollFor { Everything, FirstTasks };
    /// Handles every message waiting, or (FirstTasks) those up to the first task batch, to
    /// run it at once. Returns whether there was any.
    bool poll(PollFor what);
    void on_cancel(const CancelRequest& request);
    /// Polled by the running task through TaskContext::cancelled().
    bool running_task_cancelled();
    void run_next(double now);
    void send_reports();
    void say_bye();
    /// A Heartbeat when nothing went to the master for heartbeat_interval_.
    void heartbeat_if_silent(double now);
    void sent_now() { last_sent_ = transport_.now(); }
    /// Tells the master about a signal that reached this rank (once per signal count);
    /// returns true once one did: the worker then drains on its own too.
    bool check_interrupt();
    /// Answers every queued copy as cancelled (draining: nothing more starts here).
    void drop_queue();
    /// Reads the GPUs when due and tells the master.
    void poll_gpus();
    /// The worker as a copy sees it: with the copy's GPUs in a GPU sweep.
    const WorkerInfo& info_for(const TaskAssignmentMsg& copy);

    Transport& transport_;
    const Grid& grid_;
    const TaskFunction& task_;
    const WorkerInfo& info_;
    double report_interval_;
    double progress_interval_;  ///< how often sends in flight move between tasks
    const StopSignals& signals_;

    std::deque<TaskAssignmentMsg> queue_;
    std::optional<TaskId> running_;
    bool running_cancelled_ = false;
    bool stop_ = false;
    bool bye_sent_ = false;
    bool draining_ = false;               ///< the master said Drain, or a signal reached this rank
    int signals_reported_ = 0;            ///< 0, 1, or 2 (urgent) told to the master
    std::function<bool()> cancel_check_;  ///< what TaskContext::cancelled() asks; built once
    std::function<void()> cancel_poll_hook_;
    ReportBatch outbox_;
    TaskBatch incoming_;  ///< reused for every task message
    double last_cancel_poll_ = 0;
    const WorkerGpus* gpus_ = nullptr;
    WorkerInfo copy_info_;  ///< info_for()'s, reused
    double last_report_ = 0;
    /// Tasks run so far, up to kReportEachFirst: those report at once, without batching.
    int tasks_run_ = 0;
    static constexpr int kReportEachFirst = 16;
    double last_wall_ = 0;       ///< the last task's wall time
    bool settle_first_ = false;  ///< let the reports reach the master before the next task
    double heartbeat_interval_ = 0;
    double last_sent_ = 0;      ///< when this worker last sent the master anything
    double last_progress_ = 0;  ///< when it last let its sends in flight move (MPI progress)
    /// The clock read at the end of the last task, for the next step to use (< 0: read it).
    double task_end_ = -1;
};

}  // namespace mpisweep
