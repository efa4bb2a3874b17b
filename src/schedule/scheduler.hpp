#pragma once
// The scheduling policy: a plain class with no MPI and no clock of its own. Events go in
// (assign, on_done, on_failed, on_cancelled), decisions come out (assignments, cancellations).
// The master loop only carries these between MPI, the store and this class.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mpisweep/ids.hpp"
#include "mpisweep/options.hpp"
#include "platform/huge_pages.hpp"
#include "schedule/settled_tasks.hpp"
#include "schedule/task_status.hpp"

namespace mpisweep {

/// Seconds on a monotonic clock chosen by the caller (tests pass a fake one).
using Seconds = double;

/// Send task `task` to `worker`; `attempt` counts the copies started in this run (1-based).
struct Assignment {
    WorkerId worker;
    TaskId task;
    int attempt = 1;
    bool speculative = false;  ///< a copy of a task that another worker holds
    /// Set when an idle worker takes a copy that sat queued (not started) on another worker:
    /// send that worker a cancellation for `task`; the move keeps the same attempt number.
    std::optional<WorkerId> moved_from;
};
/// A turn's assignments: tens of thousands on a large sweep, in memory touched once per run.
using Assignments = HugePageVector<Assignment>;

/// Tell `worker` to drop or stop its copy of `task`. The worker still answers that copy
/// (cancelled, or a result that arrived first), which frees its slot.
struct Cancellation {
    WorkerId worker;
    TaskId task;
};

struct DoneOutcome {
    bool accepted = false;  ///< first result of the task: store it. false: a duplicate, drop it
    /// Accepted: copies of the task started in this run, the winning one included (what the
    /// results file records as its attempts). 0 for a duplicate.
    int attempts = 0;
    std::vector<Cancellation> cancels;  ///< the other copies still held elsewhere
};

enum class FailVerdict : std::uint8_t {
    Retry,          ///< back to the pool
    FailedForGood,  ///< max_attempts reached: store the failure
    Waiting,        ///< another copy still runs; its outcome decides
    Ignored,        ///< the task was already settled (a late copy)
};

struct FailOutcome {
    FailVerdict verdict = FailVerdict::Retry;
    /// Copies of the task started in this run, the failed one included (what the results
    /// file records for a task failed for good); 0 when Ignored.
    int attempts = 0;
    bool worker_retired = false;        ///< this failure retired the worker
    std::vector<Cancellation> cancels;  ///< queued copies taken back from a retired worker
};

/// The counts the scheduler keeps are the public SweepCounts (mpisweep/observer.hpp).
using SchedulerCounts = SweepCounts;

/// Asked by assign() before a copy goes to a worker: whether it may start there now (GPU
/// placement: a GPU of the worker's node has room for it). A refused task stays pending, first
/// in line, for the next worker. admit() returning true commits: the copy is placed.
class AdmissionGate {
public:
    virtual ~AdmissionGate() = default;
    virtual bool admit(WorkerId worker, TaskId task, bool speculative, Seconds now) = 0;
    /// Changes whenever an answer of admit() may have changed (room freed or measured);
    /// assign() does not ask again while neither this nor the scheduler's state changed.
    virtual std::uint64_t version() const = 0;
};

class Scheduler {
public:
    /// `settled` holds the tasks a results file settled (resume); every other task is
    /// pending. With `retry_failed`, failed tasks are pending again. Memory then grows with
    /// the settled runs and the tasks dispatched, not with n_tasks. An empty worker list is
    /// allowed: the scheduler is then stalled from the start if any task is left. Throws
    /// std::invalid_argument for a bad option, a worker listed twice or a settled id out of
    /// range.
    Scheduler(std::uint64_t n_tasks, std::vector<WorkerId> workers, SchedulerOptions options,
              const SettledTasks& settled = {}, bool retry_failed = false);
    ~Scheduler();
    Scheduler(Scheduler&&) noexcept;
    Scheduler& operator=(Scheduler&&) noexcept;

    /// Fills free worker slots: idle workers first, lowest pending id first, then up to
    /// `prefetch` more per worker; when nothing is pending, idle workers get speculative
    /// copies of the running task with the largest estimated time left, or take over a copy
    /// queued on a busy worker (see Assignment::moved_from).
    Assignments assign(Seconds now);
    /// The same, appending to `out` (not cleared): the master polls this every turn and
    /// reuses one vector, so that a poll allocates nothing.
    void assign(Seconds now, Assignments& out);

    /// A reply for a copy the worker does not hold, or from an unknown worker, throws
    /// std::invalid_argument. A result for a task not yet settled is accepted even from a copy
    /// that was being cancelled (it finished first).
    DoneOutcome on_done(WorkerId worker, TaskId task, Seconds now);
    /// A failure of a copy that was being cancelled is Ignored and counts for nothing.
    FailOutcome on_failed(WorkerId worker, TaskId task, Seconds now);
    /// The worker dropped or stopped a copy it was told to cancel (or dropped one on its own:
    /// the task then goes back to the pool unless held elsewhere, no failure counted).
    void on_cancelled(WorkerId worker, TaskId task, Seconds now);
    /// Takes a worker out (its setup failed, or it died): returns cancellations for its
    /// copies, whose tasks go back to the pool unless held elsewhere.
    std::vector<Cancellation> retire(WorkerId worker);
    /// Takes out a worker that will never answer (lost: silent too long): retires it and
    /// drops every copy it holds as if it had answered each as cancelled, so their tasks are
    /// pending again at once unless held elsewhere. Returns how many copies it held. A late
    /// reply of that worker must not reach the scheduler (it would throw).
    std::size_t lose(WorkerId worker, Seconds now);
    /// Stops all dispatching (a drain before the walltime): returns a cancellation for every
    /// copy held; their tasks stay pending.
    std::vector<Cancellation> drain();
    /// From now on a copy (first, retry or speculative) goes to a worker only if it is
    /// expected to finish by `stop_by` (on the clock passed to assign()): after the copies
    /// queued there before it, each taking the longest duration seen so far (the running one
    /// less its elapsed time). Before any task finished, nothing is held back. Once not even
    /// an idle worker could finish a task in time, nothing more is dispatched, and
    /// stalled() turns true when nothing runs. nullopt: no deadline.
    void set_deadline(std::optional<Seconds> stop_by);
    /// The deadline held back a task from an idle worker: nothing more will be dispatched.
    bool deadline_reached() const;
    /// Changes the prefetch depth from now on (the master raises it to batch short tasks).
    /// Copies already queued stay; a worker above the new depth gets nothing until it is
    /// below. Throws std::invalid_argument for a negative depth.
    void set_prefetch(int prefetch);
    /// Every copy from now on passes `gate` first (nullptr: none). Not owned; it must outlive
    /// the scheduler or be reset. Tasks then start in id order: a task the gate refuses
    /// everywhere holds back the ones after it.
    void set_gate(AdmissionGate* gate);
    int prefetch() const;
    /// The earliest time at which assign() may hand out a copy with no event in between: a
    /// running copy turning overdue for speculation. Infinity when nothing is foreseen (a
    /// finished task, a failure or a new worker slot are events). Valid after assign(); what
    /// the master sleeps until when no message comes.
    Seconds next_assign_time() const;

    /// The copy a worker runs now (what `status --running` shows).
    struct HeldCopy {
        WorkerId worker;
        std::uint64_t task = 0;
        int attempt = 1;
        bool speculative = false;
        Seconds dispatched = 0;
        /// Since when it runs: when it was handed out, or when the copy before it was answered.
        Seconds started = 0;
    };
    /// The copies the workers run now (each worker's front copy), and how many they hold
    /// queued behind them and will run (queued copies being cancelled are left out): O(workers)
    /// copies listed however many batching queues; the count walks the queues.
    struct HeldCopies {
        std::vector<HeldCopy> running;
        std::uint64_t queued = 0;
    };
    HeldCopies held_copies() const;

    bool finished() const;  ///< nothing pending or held: every task done or failed
    /// Tasks left, no copy still running, and no way to run more: draining, the deadline
    /// reached, or every worker retired (a worker retired after failures finishes the copy
    /// it runs first).
    bool stalled() const;
    SchedulerCounts counts() const;
    TaskStatus status(TaskId task) const;
    bool is_held(TaskId task) const;
    /// Number of copies started in this run for a task not settled yet: 0 if never
    /// dispatched; queued copies cancelled before they could start do not count. 0 once
    /// settled: the outcome that settled it carries the count.
    int attempts(TaskId task) const;
    /// Median duration of finished tasks (from a log-bucketed histogram: O(1) memory, ~3 %
    /// resolution); nullopt before min_samples.
    std::optional<Seconds> median_duration() const;
    /// The longest duration of a finished task (histogram resolution, rounded up); nullopt
    /// before any. What the deadline check expects a task to take.
    std::optional<Seconds> longest_duration() const;

    /// Throws std::logic_error describing the first broken invariant: every held copy is in
    /// exactly one worker's queue, no worker holds more than 1 + prefetch copies
    /// (the largest prefetch set so far), settled tasks
    /// are held nowhere, copies per task <= 1 + max_copies, counts add up to the total.
    /// For tests: O(tasks dispatched + settled runs + held copies + workers), whatever n_tasks.
    void check_invariants() const;
    /// Bytes of per-task state (pages of task bytes and the settled runs): for tests of the
    /// memory bound on resume.
    std::uint64_t task_state_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mpisweep
