#pragma once
// The worker loop: receive task batches, run them in order, answer each copy exactly once,
// stop when the master says so. Reports are batched like tasks: sent once `report_interval`
// has passed since the last batch, or when the queue runs dry (0: after every task).
#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include "mpi/channel.hpp"
#include "mpi/messages.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"

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
    ReportBatch outbox_;
    TaskBatch incoming_;  ///< reused for every task message
    SendQueue sends_;
    double last_cancel_poll_ = 0;
    double last_report_ = 0;
};

}  // namespace mpisweep
