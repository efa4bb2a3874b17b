#pragma once
// The worker loop: receive task batches, run them in order, answer each copy exactly once,
// stop when the master says so.
#include <boost/mpi/communicator.hpp>
#include <deque>
#include <optional>
#include <unordered_set>
#include <vector>

#include "mpi/messages.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep {

class Worker {
public:
    Worker(const boost::mpi::communicator& comm, const Grid& grid, const TaskFunction& task,
           const WorkerInfo& info);
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

    std::deque<TaskAssignmentMsg> queue_;
    std::optional<TaskId> running_;
    bool running_cancelled_ = false;
    bool stop_ = false;
    std::vector<TaskReport> outbox_;
    double last_cancel_poll_ = 0;
};

}  // namespace mpisweep
