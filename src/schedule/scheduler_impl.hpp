#pragma once
// The scheduler's state, shared by its source files (one concept each): scheduler.cpp (set
// up and the public calls), scheduler_events.cpp (replies, retirement, drain),
// scheduler_assign.cpp (filling free slots), scheduler_speculation.cpp, scheduler_deadline.cpp
// and scheduler_invariants.cpp.
//
// Memory: a byte per task the dispatch cursor reached (TaskStates) plus data for the tasks in
// play. Held copies live in per-worker FIFO queues, and a task gets a TaskRecord (attempts,
// failures, holders) only once something beyond "one copy placed, then answered done"
// happened to it. The common task (one copy, done) never touches the record map: its byte
// says "running, no record", which means one attempt, no failure and exactly one copy held,
// live. Pending tasks are the cursor over fresh ids plus an ordered set of tasks handed back,
// so the lowest pending id goes first without a list of all pending ids.
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "schedule/copy_queue.hpp"
#include "schedule/free_levels.hpp"
#include "schedule/scheduler.hpp"
#include "schedule/scheduler_histogram.hpp"
#include "schedule/task_record.hpp"
#include "schedule/task_states.hpp"

namespace mpisweep {
namespace detail {

template <class... Parts>
std::string concat(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

/// Throws std::logic_error: a scheduler invariant does not hold (a bug here, not bad input).
[[noreturn]] void invariant_broken(const std::string& what);

}  // namespace detail

struct WorkerState {
    WorkerId id;
    CopyQueue queue;  // in the order the worker runs them; the front one runs
    // When the front copy could start: the time the previous front was answered.
    Seconds front_since = std::numeric_limits<Seconds>::lowest();
    int consecutive_failures = 0;
    bool retired = false;
};

/// What an idle worker should take when nothing is pending.
struct SpeculationChoice {
    std::uint64_t task = 0;
    double left = 0;              // estimated seconds until the task's best copy is done
    std::int32_t queued_on = -1;  // >= 0: move the copy queued there instead of duplicating
    std::int32_t holder = -1;     // a worker holding a live copy (the one scanned)
};

struct RemovedCopy {
    Copy copy;
    std::optional<Seconds> duration;  // set when the copy was running (front of its queue)
};

struct Scheduler::Impl {
    SchedulerOptions options;
    TaskStates tasks;
    std::set<std::uint64_t> returned;                       // pending tasks below the cursor
    std::unordered_map<std::uint64_t, TaskRecord> records;  // tasks with kTracked set

    std::vector<WorkerState> workers;
    // Worker index by rank: ranks are small and dense. Ranks outside use the map.
    std::vector<std::int32_t> worker_index_dense;
    std::unordered_map<int, std::int32_t> worker_index;
    FreeLevels free;
    std::vector<std::int32_t> carry, carry_next;  // assign()'s walk, kept for their storage
    std::vector<std::pair<std::size_t, std::int32_t>>
        listed_scratch;  // (level, worker), for fill_fresh_evenly

    DurationHistogram durations;
    // The master polls assign() in a loop. When a speculation scan finds nothing, nothing
    // can change before the next event or before the earliest running copy becomes overdue,
    // so later polls skip the O(held) scan until then.
    std::uint64_t generation = 0;  // bumped whenever a copy is placed, answered or cancelled
    std::uint64_t quiet_generation = std::numeric_limits<std::uint64_t>::max();
    Seconds quiet_until = 0;
    int speculative_cap = 1;
    int max_prefetch_seen = 0;  // queues may hold 1 + this after set_prefetch lowered it
    int live_extra = 0;         // live duplicate copies
    bool draining = false;
    AdmissionGate* gate = nullptr;
    // The gate's version and `generation` when a walk last asked the gate: nothing to ask
    // again until one of them changes.
    std::uint64_t gate_seen_version = 0, gate_seen_generation = 0;
    bool gate_seen = false;
    std::optional<Seconds> stop_by;  // the deadline of dispatching
    bool deadline_reached = false;
    SchedulerCounts counts;

    Impl(std::uint64_t n, std::vector<WorkerId> worker_ids, SchedulerOptions o, const SettledTasks& settled,
         bool retry_failed);
    void add_workers(const std::vector<WorkerId>& ids);

    // ---- small helpers (scheduler.cpp) ----------------------------------------------------
    std::uint64_t n_tasks() const { return tasks.size(); }
    TaskState state(std::uint64_t t) const { return tasks.state(t); }
    bool tracked(std::uint64_t t) const { return tasks.tracked(t); }
    WorkerState& worker(std::int32_t w) { return workers[static_cast<std::size_t>(w)]; }
    const WorkerState& worker(std::int32_t w) const { return workers[static_cast<std::size_t>(w)]; }
    /// The record of task t, made on first need from what an untracked task implies; a
    /// running untracked task is held by `holder` alone (or by no one, once the caller has
    /// removed its only copy: pass -1).
    TaskRecord& track(std::uint64_t t, std::int32_t holder);
    /// Drops the record of a settled task.
    void forget(std::uint64_t t);
    /// Live copies of task t; an untracked running task has exactly one.
    std::size_t live_holders(std::uint64_t t) const { return tracked(t) ? records.at(t).holders.size() : 1; }
    void check_task(TaskId task) const;
    std::int32_t index_of(WorkerId worker) const {
        const auto id = static_cast<std::size_t>(worker.value());  // a negative rank wraps: not dense
        if (id < worker_index_dense.size() && worker_index_dense[id] >= 0) return worker_index_dense[id];
        return index_of_sparse(worker);
    }
    std::int32_t index_of_sparse(WorkerId worker) const;
    std::size_t position_of(std::int32_t w, TaskId task, const char* reply) const;
    /// Where a copy the records say worker `w` holds sits in its queue.
    std::size_t locate(std::int32_t w, std::uint64_t task) const;
    bool holds(std::int32_t w, std::uint64_t task) const;
    Seconds front_start(const WorkerState& ws) const {
        return std::max(ws.queue.front().dispatched, ws.front_since);
    }
    std::optional<Seconds> median() const;
    int active_workers() const { return counts.workers - counts.retired; }
    int attempts(std::uint64_t t) const;

    // ---- free slots (scheduler_assign.cpp) ------------------------------------------------
    /// The level worker `w` belongs at: its number of copies, or -1 when full or retired.
    int wanted_level(std::int32_t w) const {
        const WorkerState& ws = worker(w);
        const auto size = static_cast<int>(ws.queue.size());
        return !ws.retired && size <= options.prefetch ? size : -1;
    }
    void refresh_free_level(std::int32_t w) { free.set_level(w, wanted_level(w)); }
    void refresh_stale_levels() {
        free.refresh_stale([this](std::int32_t w) { return wanted_level(w); });
    }
    /// No free slot and no queue changed since the last call: nothing to fill, no idle worker
    /// to speculate or to hit the deadline with.
    bool nothing_to_assign() const { return free.listed() == 0 && free.stale_workers().empty(); }
    void assign(Seconds now, Assignments& out);
    /// Gives worker `w` fresh pending ids from the cursor on, up to `want` of them, in runs of
    /// consecutive ids as the fresh pool has them; returns how many (fewer than `want`: none
    /// left). Only without returned tasks or a deadline.
    std::size_t place_fresh(std::int32_t w, std::size_t want, Seconds now, Assignments& out);
    std::size_t fill_alone(std::int32_t w, std::size_t level, std::size_t stop, Seconds now,
                           Assignments& out);
    void fill_free_slots(Seconds now, Assignments& out);
    /// fill_free_slots' counts, each worker's share as runs of fresh ids. Only with at least
    /// kEvenFillSlots slots a worker and without returned tasks, a deadline or a gate; false:
    /// not done.
    bool fill_fresh_evenly(Seconds now, Assignments& out);
    static constexpr std::size_t kEvenFillSlots = 16;
    /// Gives every worker in `level` (and those carried up to it) one pending task.
    void fill_level(std::size_t level, Seconds now, Assignments& out);
    std::optional<std::uint64_t> take_pending_for(std::int32_t w);
    /// The gate's answer for a copy of t on w (true without a gate). A refused pending task
    /// goes back to the pool.
    bool admit(std::int32_t w, std::uint64_t t, bool speculative, Seconds now);
    bool gate_unchanged() const {
        // Only while tasks wait: speculation and the deadline also change with time alone.
        return gate != nullptr && gate_seen && counts.pending > 0 && !stop_by &&
               gate->version() == gate_seen_version && generation == gate_seen_generation &&
               free.stale_workers().empty();
    }
    /// A task already running must be tracked before a second copy is placed. The
    /// assignment goes to the end of `out`.
    Assignment& place_copy(std::int32_t w, std::uint64_t t, Seconds now, int attempt, bool speculative,
                           bool extra, Assignments& out);
    void place_pending(std::int32_t w, std::uint64_t t, Seconds now, Assignments& out);
    void set_prefetch(int prefetch);

    // ---- events (scheduler_events.cpp) ----------------------------------------------------
    void return_to_pool(std::uint64_t t);
    Cancellation cancel_copy(std::int32_t w, std::size_t idx, bool take_back);
    void settle(std::uint64_t t, TaskState outcome, std::vector<Cancellation>* cancels);
    RemovedCopy remove_copy(std::int32_t w, std::size_t idx, Seconds now);
    void retire_worker(std::int32_t w, bool include_running, std::vector<Cancellation>& out);
    DoneOutcome on_done(WorkerId worker, TaskId task, Seconds now);
    DoneOutcome on_done_general(std::int32_t w, std::uint64_t t, Seconds now);
    FailOutcome on_failed(WorkerId worker, TaskId task, Seconds now);
    void on_cancelled(WorkerId worker, TaskId task, Seconds now);
    std::vector<Cancellation> drain();
    bool finished() const { return counts.done + counts.failed == n_tasks(); }
    bool stalled() const {
        return !finished() && counts.running == 0 && (draining || deadline_reached || active_workers() == 0);
    }

    // ---- speculation (scheduler_speculation.cpp) ------------------------------------------
    void speculate_on_idle(Seconds now, Assignments& out);
    std::optional<SpeculationChoice> best_speculation(Seconds now, Seconds& wake) const;
    void speculate(std::int32_t idle, const SpeculationChoice& choice, Seconds now, Assignments& out);

    // ---- deadline (scheduler_deadline.cpp) ------------------------------------------------
    /// Whether a copy given to worker `w` now is expected to finish by the deadline.
    bool fits_deadline(std::int32_t w, Seconds now) { return !stop_by || fits_deadline_at(w, now); }
    bool fits_deadline_at(std::int32_t w, Seconds now);

    // ---- invariants (scheduler_invariants.cpp) --------------------------------------------
    void check_invariants() const;
    struct Census;  // what the invariant check counts
    void check_task_states(Census& census) const;
    void count_pages(Census& census) const;
    void count_settled_runs(Census& census) const;
    void check_pool(const Census& census) const;
    void check_workers(Census& census) const;
    void check_queue(std::int32_t w, Census& census) const;
    void check_levels() const;
    void check_records(const Census& census) const;
};

}  // namespace mpisweep
