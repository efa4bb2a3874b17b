#pragma once
// The master loop on rank 0: carries decisions from the scheduler to the workers and their
// reports back to the scheduler and the store. It talks to the workers only through a
// Transport (MPI ranks, or a worker in this process) and reads time only from it. It never
// blocks on one worker: sends return at once and it waits for a message from any worker.
// Short tasks are batched: the master learns how long tasks take and raises the scheduler's
// prefetch depth so that each worker holds about Options::batch_target of work, sent in few
// messages.
//
// Step-able: run() is start(), then step() and a wait on the transport until next_wake()
// until step() says the sweep is over. A rank that works alone, and unit tests, call
// step() themselves between the steps of their workers.
#include <optional>
#include <string>
#include <vector>

#include "mpisweep/mpisweep.hpp"
#include "runtime/master_gpus.hpp"
#include "runtime/notifier.hpp"
#include "runtime/stop_signals.hpp"
#include "schedule/batch_sizer.hpp"
#include "schedule/scheduler.hpp"
#include "store/result_store.hpp"
#include "transport/messages.hpp"
#include "transport/transport.hpp"

namespace mpisweep {

/// What the master knows of each rank (indexed by rank; rank 0 only when it works alone).
struct WorkerSlot {
    std::string host;
    int device = -1;
    bool ready = false;
    bool lost = false;      ///< silent longer than Options::heartbeat_timeout: out for good
    bool said_bye = false;  ///< answered Stop
    Seconds last_heard = 0;
    std::string retired_why;  ///< why it takes no more tasks (setup, failures, infrastructure)
    Seconds retired_at = 0;
};

class Master {
public:
    /// `workers` has one slot per rank of the job: ranks 1.. are the workers, or rank 0 when
    /// it is the only one.
    Master(Transport& transport, const Grid& grid, const Options& options, ResultStore& store,
           Scheduler& scheduler, std::vector<WorkerSlot> workers,
           const StopSignals& signals = StopSignals::process());
    /// Runs the sweep to its end and returns the ExitCode.
    int run();
    /// A GPU sweep: copies go where `gpus` places them, one at a time per worker (no
    /// prefetch, no batching: a queued copy would hold a GPU it does not use yet). Before
    /// start(); `gpus` must outlive the master.
    void use_gpus(MasterGpus& gpus);

    /// Before the first step: the observer's on_start.
    void start();
    /// One turn: stop checks, assignments, the messages waiting (at most a burst of them),
    /// flush and progress; once the sweep is over, Stop to every worker and their Byes.
    /// Returns false when the sweep is over and every worker said Bye: then exit_code().
    bool step();
    /// The earliest time the master has something to do if no message comes.
    Seconds next_wake() const;
    /// Looks at the signals, the deadline and the store's write failure (a full disk); starts
    /// a drain or, on a second signal, saves the file and ends the job. step() calls it; a
    /// rank that works alone also calls it while its task polls cancelled().
    void check_stop();
    int exit_code() const { return exit_code_; }
    /// Where the sweep stands (for Observer::on_end after run()).
    SweepCounts counts() const { return scheduler_.counts(); }

private:
    /// Storage: rank 0 could not write the results file or its journal (a full disk).
    enum class StopReason { None, Signal, Deadline, Storage };
    enum class Phase { Running, Stopping, Over };

    void step_running(Seconds now);
    void step_stopping();
    /// The sweep is over (every task settled, stalled, or drained): results to the file,
    /// Stop to every worker.
    void end_running();
    /// Every worker said Bye: the last progress, the messages, the exit code.
    void conclude();
    /// A stop signal seen on `rank` (0: here): the first one starts the drain.
    void on_signal(int sig, int rank, bool urgent, Seconds now);
    void begin_drain(StopReason reason, Seconds now);
    /// One message saying why the sweep stopped early and how to resume it.
    void report_stop(const char* how) const;
    void report_progress(Seconds now, bool last);
    /// Every kLiveInterval: the live view from the scheduler's copies and the worker slots
    /// to the store's owner record (master_live.cpp). Nothing per task.
    void publish_live(Seconds now);
    /// A worker takes no more tasks: remembered for the live view, told to the observer.
    void note_retired(int rank, std::string why, Seconds now);
    /// Saves what the file has and ends the job with kExitInterrupted (MPI_Abort).
    [[noreturn]] void abort_interrupted(const char* how);

    void assign_and_dispatch(Seconds now);
    void dispatch(const Assignments& assignments);
    /// Per answered row, nearly always with none: the test is inline.
    void send_cancels(const std::vector<Cancellation>& cancels) {
        if (!cancels.empty()) send_cancel_requests(cancels);
    }
    void send_cancel_requests(const std::vector<Cancellation>& cancels);
    bool receive_one();  ///< handles one message if any is waiting
    /// A message from a lost rank: received and dropped (a signal it passes on still counts).
    void drop_from_lost(const Envelope& envelope);
    /// Declares lost the workers silent longer than the heartbeat timeout (none while
    /// messages are still waiting: their heartbeats may be among them).
    void check_heartbeats(Seconds now);
    void declare_lost(int rank, Seconds now);
    /// Workers still to say Bye after Stop (the lost ones never will).
    int byes_awaited() const;
    /// Every task is settled or drained, the file is closed, but a lost rank cannot join the
    /// collective end of run(): ends the job with MPI_Abort(exit code).
    [[noreturn]] void abort_without_lost();
    /// The device of the copy `worker` answered: its first GPU in a GPU sweep, else the
    /// worker's own.
    int answered_device(WorkerId worker) const {
        return gpus_ != nullptr ? answer_device_ : workers_[static_cast<std::size_t>(worker.value())].device;
    }
    // The report path (master_reports.cpp).
    void handle_reports(WorkerId worker);
    void handle_report(WorkerId worker, const WorkerSlot& slot, const ReportRow& row, Seconds now);
    void handle_done(WorkerId worker, const WorkerSlot& slot, const ReportRow& row, Seconds now);
    /// A failed attempt: the worker's error, or the store's refusal of a result.
    void handle_failure(WorkerId worker, const WorkerSlot& slot, const ReportRow& row,
                        const std::string* error, Seconds now);
    /// What the store records of a settled row: the row's columns and the master's fields.
    RowView row_view(WorkerId worker, const WorkerSlot& slot, const ReportRow& row, TaskStatus status,
                     int attempts, const std::string* error) const {
        RowView view;
        view.id = row.task;
        view.status = status;
        view.attempts = attempts;
        view.worker = worker.value();
        view.device = answered_device(worker);
        view.node = &slot.host;
        view.start = row.start;
        view.wall_s = row.wall_s;
        view.exit_code = row.exit_code;
        view.error = error;
        if (status == TaskStatus::Done) {  // a failure keeps no results
            view.fields = row.fields;
            view.n_fields = row.n_fields;
        }
        return view;
    }
    /// Not the task's fault (infrastructure): the task is pending again, the attempt not
    /// counted; a worker with such errors in a row gets no more tasks.
    void handle_infrastructure(WorkerId worker, const ReportRow& row, Seconds now);
    /// on_task_finished for a copy `worker` answered, when the observer wants task events
    /// (the default StderrObserver does not: then one inline test per row).
    void task_finished(WorkerId worker, const WorkerSlot& slot, const ReportRow& row,
                       const std::string* error, TaskOutcome outcome) const {
        if (notify_.wants_task_events()) notify_finished(worker, slot, row, error, outcome);
    }
    void notify_finished(WorkerId worker, const WorkerSlot& slot, const ReportRow& row,
                         const std::string* error, TaskOutcome outcome) const;
    /// on_result, with the row's results as a map (only for an observer that asks).
    void notify_result(const ReportRow& row) const;
    /// The ranks that run workers: 1.. (or 0 alone).
    int first_worker_rank() const { return workers_.size() > 1 ? 1 : 0; }

    Transport& transport_;
    const Grid& grid_;
    const Options& options_;
    ResultStore& store_;
    Scheduler& scheduler_;
    std::vector<WorkerSlot> workers_;
    const StopSignals& signals_;
    Notifier notify_;
    BatchSizer sizer_;
    // Reused on every message (no allocation per task on the hot path).
    ReportBatch reports_;
    Assignments assigned_;             ///< the scheduler's output, reused every turn
    std::vector<TaskBatch> outgoing_;  ///< per rank, filled by dispatch()
    std::vector<int> outgoing_ranks_;  ///< ranks with a non-empty batch in outgoing_
    MasterGpus* gpus_ = nullptr;       ///< a GPU sweep's placement
    int answer_device_ = -1;           ///< GPU sweeps: the first GPU of the copy being answered

    Phase phase_ = Phase::Running;
    Seconds start_ = 0, next_progress_ = 0, next_live_ = 0;
    double unix_start_ = 0;  ///< unix seconds at start_: the live view's times are unix ones
    int byes_ = 0;           ///< workers that said Bye (Stopping)
    int lost_ = 0;           ///< workers declared lost
    bool backlog_ = false;   ///< the last turn left messages waiting
    Seconds next_heartbeat_check_ = 0;
    int exit_code_ = kExitOk;

    std::optional<Seconds> stop_by_;  ///< the deadline less its margin, on the transport's clock
    StopReason stop_reason_ = StopReason::None;
    int stop_signal_ = 0;                     ///< the signal that started the drain
    int signal_rank_ = -1;                    ///< the rank it reached first
    bool urgent_ = false;                     ///< a second signal: stop now
    Seconds drain_until_ = 0;                 ///< the end of the grace period
    std::uint64_t cancelled_running_ = 0;     ///< tasks whose running copies the drain stopped
    int infrastructure_retired_ = 0;          ///< workers out after infrastructure errors
    std::vector<int> infrastructure_streak_;  ///< per rank: such errors in a row
};

}  // namespace mpisweep
