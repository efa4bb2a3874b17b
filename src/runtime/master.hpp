#pragma once
// The master loop on rank 0: carries decisions from the scheduler to the workers and their
// reports back to the scheduler and the store. It never blocks on one worker: sends are
// non-blocking and it waits on a message from any worker. Short tasks are batched: the
// master learns how long tasks take and raises the scheduler's prefetch depth so that each
// worker holds about Options::batch_target of work, sent in few messages.
#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include "mpisweep/mpisweep.hpp"
#include "runtime/notifier.hpp"
#include "schedule/batch_sizer.hpp"
#include "schedule/scheduler.hpp"
#include "store/result_store.hpp"
#include "transport/channel.hpp"
#include "transport/messages.hpp"

namespace mpisweep {

/// What the master knows of each rank (indexed by rank; rank 0 only when it works alone).
struct WorkerSlot {
    std::string host;
    int device = -1;
    bool ready = false;
};

class Master {
public:
    /// With one rank, `local_task` is run by the master itself (`local_info` describes it).
    Master(const boost::mpi::communicator& comm, const Grid& grid, const Options& options, ResultStore& store,
           Scheduler& scheduler, std::vector<WorkerSlot> workers, const TaskFunction* local_task,
           const WorkerInfo* local_info, std::chrono::microseconds spin = std::chrono::microseconds(200));
    /// Runs the sweep to its end and returns the ExitCode.
    int run();
    /// Where the sweep stands (for Observer::on_end after run()).
    SweepCounts counts() const { return scheduler_.counts(); }

private:
    /// Why the sweep stops early.
    enum class StopReason { None, Signal, Deadline };

    /// Starts a drain on a signal (here or from a worker) or at the deadline.
    void check_stop(Seconds now);
    /// A stop signal seen on `rank` (0: here): the first one starts the drain.
    void on_signal(int sig, int rank, bool urgent, Seconds now);
    /// Whether the sweep is being stopped (a signal here or the deadline passed): what a task
    /// that rank 0 runs itself polls as cancelled().
    bool stopping() const;
    void begin_drain(StopReason reason, Seconds now);
    /// Called after the drain (or an urgent stop): one message saying how to resume.
    void report_stop(const char* how) const;
    void report_progress(Seconds now, bool last);
    /// on_task_finished for a copy `worker` answered.
    void task_finished(WorkerId worker, const TaskReport& report, TaskOutcome outcome) const;
    /// Saves what the file has and ends the job with kExitInterrupted (MPI_Abort).
    [[noreturn]] void abort_interrupted(const char* how);
    void assign_and_dispatch(Seconds now);
    void dispatch(const std::vector<Assignment>& assignments);
    void send_cancels(const std::vector<Cancellation>& cancels);
    bool receive_one();  ///< handles one message if any is waiting
    void handle_report(WorkerId worker, TaskReport& report);
    void handle_failure(WorkerId worker, TaskReport& report);
    void run_local_task();
    void stop_workers();
    TaskRecord make_record(WorkerId worker, TaskReport& report, TaskStatus status, int attempts) const;

    const boost::mpi::communicator& comm_;
    const Grid& grid_;
    const Options& options_;
    ResultStore& store_;
    Scheduler& scheduler_;
    std::vector<WorkerSlot> workers_;
    const TaskFunction* local_task_;
    const WorkerInfo* local_info_;
    std::deque<Assignment> local_queue_;
    SendQueue sends_;
    // Reused on every message (no allocation per task on the hot path).
    ReportBatch reports_;
    std::vector<Assignment> assigned_;  ///< the scheduler's output, reused every turn
    std::vector<TaskBatch> outgoing_;   ///< per rank, filled by dispatch()
    std::vector<int> outgoing_ranks_;   ///< ranks with a non-empty batch in outgoing_
    BatchSizer sizer_;
    Notifier notify_;
    Seconds start_ = 0, next_progress_ = 0;
    std::chrono::microseconds spin_;  ///< yield-polling before the backoff sleeps

    std::optional<Seconds> stop_by_;  ///< the deadline less its margin, on the monotonic clock
    StopReason stop_reason_ = StopReason::None;
    int stop_signal_ = 0;                  ///< the signal that started the drain
    int signal_rank_ = -1;                 ///< the rank it reached first
    bool urgent_ = false;                  ///< a second signal: stop now
    Seconds drain_until_ = 0;              ///< the end of the grace period
    std::uint64_t cancelled_running_ = 0;  ///< tasks whose running copies the drain stopped
};

}  // namespace mpisweep
