#pragma once
// The worker loop: receive task batches, run them in order, answer each copy exactly once,
// stop when the master says so. A signal that reaches a worker is passed on to the master,
// which drains the whole sweep. Reports are batched like tasks: sent once `report_interval`
// has passed since the last batch, or when the queue runs dry (0: after every task).
#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"
#include "transport/channel.hpp"
#include "transport/messages.hpp"

namespace mpisweep {

class Worker {
public:
    Worker(const boost::mpi::communicator& comm, const Grid& grid, const TaskFunction& task,
           const WorkerInfo& info, double report_interval_s = 0,
           std::chrono::microseconds spin = std::chrono::microseconds(0));
    /// Runs until the master sends Stop; then says Bye. A worker whose setup failed (not
    /// `ready`) gets no tasks but still waits for Stop.
    void run();

private:
    /// Handles every message waiting; with `wait`, first waits (backing off) for one.
    void poll(bool wait);
    void on_cancel(const CancelRequest& request);
    /// Polled by the running task through TaskContext::cancelled().
    bool running_task_cancelled();
    void send_reports();
    /// Tells the master about a signal that reached this rank (once per signal count);
    /// returns true once one did: the worker then drains on its own too.
    bool check_interrupt();
    /// Answers every queued copy as cancelled (draining: nothing more starts here).
    void drop_queue();

    const boost::mpi::communicator& comm_;
    const Grid& grid_;
    const TaskFunction& task_;
    const WorkerInfo& info_;
    double report_interval_;
    std::chrono::microseconds spin_;  ///< yield-polling before the backoff sleeps

    std::deque<TaskAssignmentMsg> queue_;
    std::optional<TaskId> running_;
    bool running_cancelled_ = false;
    bool stop_ = false;
    bool draining_ = false;               ///< the master said Drain, or a signal reached this rank
    int signals_reported_ = 0;            ///< 0, 1, or 2 (urgent) told to the master
    std::function<bool()> cancel_check_;  ///< what TaskContext::cancelled() asks; built once
    ReportBatch outbox_;
    TaskBatch incoming_;  ///< reused for every task message
    SendQueue sends_;
    double last_cancel_poll_ = 0;
    double last_report_ = 0;
};

}  // namespace mpisweep
