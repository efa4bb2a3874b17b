#pragma once
// What a task sees (its context) and what it returns (named result fields).
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "mpisweep/grid.hpp"
#include "mpisweep/ids.hpp"

namespace mpisweep {

/// One result field: a number, an integer, a string, an array of numbers (of any length: a
/// curve that stops early is shorter) or a boolean. Each becomes a column /results/<name> of
/// the HDF5 file (docs/hdf5-layout.md says which type each becomes).
using ResultValue = std::variant<double, std::int64_t, std::string, std::vector<double>, bool>;

/// The named outputs of one task. Field names must be valid HDF5 link names: non-empty,
/// no '/', not "." (checked by the store, which fails the attempt with a clear error).
using TaskResult = std::map<std::string, ResultValue>;

/// Where and as what a worker runs: the same for all tasks of the worker.
struct WorkerInfo {
    int rank = 0;                ///< MPI rank in the sweep's communicator
    int world_size = 1;          ///< number of ranks, master included
    int node_local_rank = 0;     ///< rank among the ranks of this node
    int local_worker_index = 0;  ///< index among the workers of this node (master excluded)
    std::string host;            ///< host name of the node
    int device = -1;             ///< the (first) GPU's CUDA ordinal on its node, -1 for CPU
    std::string visible_device;  ///< the CUDA_VISIBLE_DEVICES entry of `device` ("" for CPU)
    /// Every GPU of the worker (task functions) or of the running copy (commands), as CUDA
    /// ordinals of the node; empty on CPU. More than one with DeviceOptions::gpus_per_task.
    std::vector<int> devices;
    std::vector<std::string> visible_devices;  ///< their CUDA_VISIBLE_DEVICES entries, in order
    /// GPUs of the node (a copy on CPU beside them gets CUDA_VISIBLE_DEVICES=""); -1: not
    /// known, asked of the GPU backend when needed.
    int node_gpus = -1;
};

/// Passed to the task function. `cancelled()` turns true when another copy of the task won
/// or the sweep is draining; long tasks may poll it and return early (their result is dropped).
class TaskContext {
public:
    TaskContext(TaskId id, int attempt_number, const Point& point, const WorkerInfo& info,
                std::function<bool()> cancel_check = {})
        : task_id(id),
          attempt(attempt_number),
          params(point),
          worker(info),
          cancel_check_(std::move(cancel_check)) {}

    TaskId task_id;
    int attempt;  ///< 1 for the first attempt of this task in this run
    const Point& params;
    const WorkerInfo& worker;

    bool cancelled() const { return cancel_check_ && cancel_check_(); }

private:
    std::function<bool()> cancel_check_;
};

/// Thrown by a task to fail its attempt with an exit code (commands: the exit status, or
/// -signal), kept in /tasks/exit_code beside the message in /tasks/error.
class TaskFailure : public std::runtime_error {
public:
    TaskFailure(const std::string& message, int exit_code)
        : std::runtime_error(message), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

/// Thrown by a task that stopped because TaskContext::cancelled() turned true: the attempt
/// counts neither as done nor as failed.
class TaskCancelled : public std::runtime_error {
public:
    TaskCancelled() : std::runtime_error("task cancelled") {}
};

/// Thrown when the worker's surroundings, not the task, are at fault: a log folder that
/// cannot be written, a full disk, an I/O error. The attempt is not counted, the task goes
/// back to pending, this worker gets no more tasks, and the master prints the message once.
/// When no worker is left, run() returns kExitInterrupted (fix the cause, then resume).
class InfrastructureError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A task function. Throwing any exception fails the attempt with the exception's text.
using TaskFunction = std::function<TaskResult(const TaskContext&)>;

/// Per-worker hooks: `setup` runs once on each worker before its first task (after the
/// device is bound), `teardown` once after its last. An exception in setup retires the worker.
using WorkerHook = std::function<void(const WorkerInfo&)>;

}  // namespace mpisweep
