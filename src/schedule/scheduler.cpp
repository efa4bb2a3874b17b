// The scheduling policy. Memory is one byte per task up to the highest id dispatched (every
// task on a resume) plus data for the tasks in play: held copies live in per-worker FIFO
// queues, and a task gets a TaskRecord (attempts, failures,
// holders) only once something beyond "one copy placed, then answered done" happened to it:
// a second copy, a cancellation, a failure, a lost copy. The common task (one copy, done)
// never touches the record map: its byte says "running, no record", which means one attempt,
// no failure and exactly one copy held, live. Pending tasks are a cursor
// over fresh ids plus an ordered set of tasks handed back, so the lowest pending id goes
// first without a list of all pending ids.
#include "schedule/scheduler.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "schedule/scheduler_histogram.hpp"

namespace mpisweep {
namespace {

/// A task's byte: the state in the low two bits, kTracked above. Running: at least one live
/// (not cancelled) copy is held somewhere.
enum class TaskState : std::uint8_t { Pending = 0, Done = 1, Failed = 2, Running = 3 };
constexpr std::uint8_t kStateMask = 3;
/// The task has a TaskRecord. Without one: pending means never tried (no copy anywhere),
/// running means attempt 1 and a single live copy, settled means settled by that copy.
constexpr std::uint8_t kTracked = 4;

bool is_settled(TaskState s) {
    return s == TaskState::Done || s == TaskState::Failed;
}

/// A set of worker indexes as a bitmap (allocated on first insert), iterated in index order,
/// with a summary bit per word so that a walk over 10^4 workers skips empty words fast.
/// Moving a worker between levels then costs two bit flips, where a std::set costs two tree
/// updates with an allocation each, on every placed and answered copy.
class WorkerSet {
public:
    void insert(std::int32_t w) {
        const auto word = static_cast<std::size_t>(w) / 64;
        if (word >= words_.size()) {
            words_.resize(word + 1, 0);
            summary_.resize(word / 64 + 1, 0);
        }
        const std::uint64_t bit = std::uint64_t{1} << (static_cast<unsigned>(w) % 64);
        if ((words_[word] & bit) == 0) ++size_;
        words_[word] |= bit;
        summary_[word / 64] |= std::uint64_t{1} << (word % 64);
    }
    void erase(std::int32_t w) {
        const auto word = static_cast<std::size_t>(w) / 64;
        if (word >= words_.size()) return;
        const std::uint64_t bit = std::uint64_t{1} << (static_cast<unsigned>(w) % 64);
        if ((words_[word] & bit) != 0) --size_;
        words_[word] &= ~bit;
        if (words_[word] == 0) summary_[word / 64] &= ~(std::uint64_t{1} << (word % 64));
    }
    std::size_t count(std::int32_t w) const {
        const auto word = static_cast<std::size_t>(w) / 64;
        return word < words_.size() && ((words_[word] >> (static_cast<unsigned>(w) % 64)) & 1U) ? 1 : 0;
    }
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    void clear() {
        words_.clear();
        summary_.clear();
        size_ = 0;
    }
    /// The lowest member >= `from`, or -1.
    std::int32_t next(std::int32_t from) const {
        const auto first = static_cast<std::size_t>(from) / 64;
        if (first >= words_.size()) return -1;
        const std::uint64_t here = words_[first] & (~std::uint64_t{0} << (static_cast<unsigned>(from) % 64));
        if (here != 0) return at(first, here);
        // The next non-empty word, from the summary.
        const std::size_t after = first + 1;
        for (std::size_t s = after / 64; s < summary_.size(); ++s) {
            std::uint64_t bits = summary_[s];
            if (s == after / 64)
                bits &= after % 64 == 0 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (after % 64);
            if (bits != 0) {
                const std::size_t word = s * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
                return at(word, words_[word]);
            }
        }
        return -1;
    }
    std::vector<std::int32_t> members() const {
        std::vector<std::int32_t> out;
        for (std::int32_t w = next(0); w >= 0; w = next(w + 1)) out.push_back(w);
        return out;
    }

private:
    static std::int32_t at(std::size_t word, std::uint64_t bits) {
        return static_cast<std::int32_t>(word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
    }
    std::vector<std::uint64_t> words_;
    std::vector<std::uint64_t> summary_;  // bit i: words_[i] != 0
    std::size_t size_ = 0;
};

struct Copy {
    std::uint64_t task = 0;
    Seconds dispatched = 0;
    int attempt = 1;
    bool speculative = false;         // reported as speculative: a duplicate or a move
    bool extra = false;               // a duplicate: counts against max_speculative while live
    bool cancelled = false;           // told to stop; keeps its slot until the worker answers
    bool attempt_taken_back = false;  // cancelled while queued: not counted in attempts
};

/// A worker's copies in the order it runs them, in a ring buffer: placing and answering a copy
/// is an index update (a std::deque costs several times that, and its size() a division).
class CopyQueue {
public:
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    Copy& operator[](std::size_t i) { return ring_[(head_ + i) & mask_]; }
    const Copy& operator[](std::size_t i) const { return ring_[(head_ + i) & mask_]; }
    Copy& front() { return ring_[head_]; }
    const Copy& front() const { return ring_[head_]; }
    void push_back(const Copy& c) {
        if (size_ == ring_.size()) grow();
        ring_[(head_ + size_) & mask_] = c;
        ++size_;
    }
    void pop_front() {
        head_ = (head_ + 1) & mask_;
        --size_;
    }
    /// Removes copy i, keeping the order of the others.
    void erase(std::size_t i) {
        if (i == 0) {
            pop_front();
            return;
        }
        for (; i + 1 < size_; ++i) (*this)[i] = (*this)[i + 1];
        --size_;
    }

private:
    void grow() {
        std::vector<Copy> bigger(std::max<std::size_t>(4, ring_.size() * 2));
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
        ring_.swap(bigger);
        head_ = 0;
        mask_ = ring_.size() - 1;
    }
    std::vector<Copy> ring_;  // a power of 2 long
    std::size_t head_ = 0, size_ = 0, mask_ = 0;
};

struct WorkerState {
    WorkerId id;
    CopyQueue queue;  // in the order the worker runs them; the front one runs
    // When the front copy could start: the time the previous front was answered.
    Seconds front_since = std::numeric_limits<Seconds>::lowest();
    int consecutive_failures = 0;
    bool retired = false;
    int free_level = -1;       // the free_by_load bucket listing this worker; -1: none
    bool level_stale = false;  // its queue changed since free_level was set (in stale_levels)
};

/// The workers holding live copies of one task: one or two almost always (max_copies is
/// small), kept inline so that dispatching a task allocates nothing for them.
class Holders {
public:
    std::int32_t* begin() { return on_heap_ ? heap_.data() : inline_.data(); }
    std::int32_t* end() { return begin() + size_; }
    const std::int32_t* begin() const { return on_heap_ ? heap_.data() : inline_.data(); }
    const std::int32_t* end() const { return begin() + size_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void push_back(std::int32_t w) {
        if (!on_heap_ && size_ == inline_.size()) {
            heap_.assign(inline_.begin(), inline_.end());
            on_heap_ = true;
        }
        if (on_heap_) {
            heap_.push_back(w);
        } else {
            inline_[size_] = w;
        }
        ++size_;
    }
    void erase(std::int32_t* at) {
        std::copy(at + 1, end(), at);
        --size_;
        if (on_heap_) heap_.pop_back();
    }

private:
    std::array<std::int32_t, 2> inline_{};
    std::vector<std::int32_t> heap_;
    std::size_t size_ = 0;
    bool on_heap_ = false;
};

struct TaskRecord {
    int attempts = 0;  // copies started in this run
    int failures = 0;
    Holders holders;  // workers holding a live copy
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

template <class... Parts>
std::string concat(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

[[noreturn]] void broken(const std::string& what) {
    throw std::logic_error("scheduler invariant broken: " + what);
}

void validate(const SchedulerOptions& o) {
    auto reject = [](const char* option, const std::string& expected, auto value) {
        throw std::invalid_argument(
            concat("scheduler option ", option, " must be ", expected, ", got ", value));
    };
    if (o.max_attempts < 1) reject("max_attempts", "at least 1", o.max_attempts);
    if (o.max_worker_errors < 0)
        reject("max_worker_errors", "at least 0 (0: never retire)", o.max_worker_errors);
    if (o.prefetch < 0) reject("prefetch", "at least 0", o.prefetch);
    if (!(o.speculate_after > 0) || o.speculate_after == std::numeric_limits<double>::infinity())
        reject("speculate_after", "a finite number > 0", o.speculate_after);
    if (o.max_copies < 0) reject("max_copies", "at least 0", o.max_copies);
    if (o.max_speculative < 0)
        reject("max_speculative", "at least 0 (0: half the workers)", o.max_speculative);
    if (o.min_samples < 1) reject("min_samples", "at least 1", o.min_samples);
}

}  // namespace

struct Scheduler::Impl {
    SchedulerOptions options;
    std::uint64_t n_tasks = 0;
    std::vector<std::uint8_t> states;  // TaskState per task, up to the highest id dispatched
    std::uint64_t cursor = 0;          // ids >= cursor were never dispatched
    std::uint64_t fresh_pending = 0;   // pending tasks at or above the cursor
    std::set<std::uint64_t> returned;  // pending tasks below the cursor (handed back)
    std::unordered_map<std::uint64_t, TaskRecord> records;  // tasks with kTracked set
    std::vector<std::uint64_t> settled_records;             // dropped at the next event
    // The untracked task settled by the last event (attempt 1), if any: an event settles at
    // most one untracked task (its own).
    static constexpr std::uint64_t kNoTask = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t settled_untracked = kNoTask;

    std::vector<WorkerState> workers;
    // Worker index by rank: ranks are small and dense. Ranks outside use the map.
    std::vector<std::int32_t> worker_index_dense;
    std::unordered_map<int, std::int32_t> worker_index;
    // free_by_load[k]: active workers holding k copies, k <= prefetch (they have a free slot).
    // Levels above the prefetch (left from a deeper one) stay allocated and empty, so that a
    // change of prefetch does not reallocate them.
    std::vector<WorkerSet> free_by_load;
    // Bit k set: free_by_load[k] is not empty. With a deep prefetch (batching) most levels
    // are empty, and assign() must not walk them one by one.
    std::vector<std::uint64_t> level_bits;
    std::size_t listed_workers = 0;  // workers in free_by_load: none, and assign() has nothing to fill
    // Workers whose queue changed since their level was set. A batch of reports from one
    // worker, or a batch of copies placed on it, then moves it between levels once, in
    // assign(), not once per copy.
    std::vector<std::int32_t> stale_levels;
    std::vector<std::int32_t> carry, carry_next;  // assign()'s walk, kept for their storage

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
    std::optional<Seconds> stop_by;  // the deadline of dispatching
    bool deadline_reached = false;
    SchedulerCounts counts;

    Impl(std::uint64_t n, std::vector<WorkerId> worker_ids, SchedulerOptions o,
         const std::vector<TaskStatus>& initial, bool retry_failed)
        : options(o), n_tasks(n) {
        validate(options);
        if (!initial.empty() && initial.size() != n) {
            throw std::invalid_argument(
                concat("scheduler: initial statuses cover ", initial.size(), " tasks, expected ", n));
        }
        counts.total = n;
        // A fresh run keeps no byte for the tasks never dispatched: 10^8 tasks start at once.
        if (!initial.empty()) states.assign(n, static_cast<std::uint8_t>(TaskState::Pending));
        for (std::uint64_t t = 0; t < initial.size(); ++t) {
            const auto raw = static_cast<int>(initial[t]);
            if (raw < 0 || raw > 2) {
                throw std::invalid_argument(concat("scheduler: initial status of task ", t, " is ", raw,
                                                   ", expected pending (0), done (1) or failed (2)"));
            }
            TaskState s = static_cast<TaskState>(raw);
            if (s == TaskState::Failed && retry_failed) s = TaskState::Pending;
            states[t] = static_cast<std::uint8_t>(s);
            if (s == TaskState::Done) ++counts.done;
            if (s == TaskState::Failed) ++counts.failed;
        }
        counts.pending = n - counts.done - counts.failed;
        fresh_pending = counts.pending;

        free_by_load.resize(static_cast<std::size_t>(options.prefetch) + 1);
        level_bits.assign(free_by_load.size() / 64 + 1, 0);
        max_prefetch_seen = options.prefetch;
        workers.reserve(worker_ids.size());
        const std::size_t dense_limit = 4 * worker_ids.size() + 64;
        for (WorkerId id : worker_ids) {
            const auto index = static_cast<std::int32_t>(workers.size());
            const bool dense = id.value() >= 0 && static_cast<std::size_t>(id.value()) < dense_limit;
            if (dense) {
                const auto slot = static_cast<std::size_t>(id.value());
                if (slot >= worker_index_dense.size()) worker_index_dense.resize(slot + 1, -1);
                if (worker_index_dense[slot] >= 0) {
                    throw std::invalid_argument(concat("scheduler: worker ", id, " listed twice"));
                }
                worker_index_dense[slot] = index;
            } else if (!worker_index.emplace(id.value(), index).second) {
                throw std::invalid_argument(concat("scheduler: worker ", id, " listed twice"));
            }
            workers.push_back(WorkerState{});
            workers.back().id = id;
            refresh_free_level(index);
        }
        counts.workers = static_cast<int>(workers.size());
        speculative_cap = options.max_speculative > 0 ? options.max_speculative
                                                      : std::max(1, static_cast<int>(workers.size()) / 2);
    }

    // ---- small helpers ------------------------------------------------------------------

    /// Ids at or above states.size() are fresh: pending, never dispatched, no record.
    std::uint8_t byte(std::uint64_t t) const { return t < states.size() ? states[t] : 0; }
    TaskState state(std::uint64_t t) const { return static_cast<TaskState>(byte(t) & kStateMask); }
    bool tracked(std::uint64_t t) const { return (byte(t) & kTracked) != 0; }
    void set_state(std::uint64_t t, TaskState s) {
        states[t] = static_cast<std::uint8_t>((states[t] & kTracked) | static_cast<std::uint8_t>(s));
    }

    /// The record of task t, made on first need from what an untracked task implies; a
    /// running untracked task is held by `holder` alone (or by no one, once the caller has
    /// removed its only copy: pass -1).
    TaskRecord& track(std::uint64_t t, std::int32_t holder) {
        if (tracked(t)) return records.at(t);
        TaskRecord& rec = records[t];
        if (state(t) == TaskState::Running) {
            rec.attempts = 1;
            if (holder >= 0) rec.holders.push_back(holder);
        }
        states[t] = static_cast<std::uint8_t>(states[t] | kTracked);
        return rec;
    }

    /// Live copies of task t; an untracked running task has exactly one.
    std::size_t live_holders(std::uint64_t t) const { return tracked(t) ? records.at(t).holders.size() : 1; }

    void check_task(TaskId task) const {
        if (task.value() >= n_tasks) {
            throw std::invalid_argument(
                concat("scheduler: task ", task, " out of range (", n_tasks, " tasks)"));
        }
    }

    std::int32_t index_of(WorkerId worker) const {
        const int id = worker.value();
        if (id >= 0 && static_cast<std::size_t>(id) < worker_index_dense.size() &&
            worker_index_dense[static_cast<std::size_t>(id)] >= 0) {
            return worker_index_dense[static_cast<std::size_t>(id)];
        }
        auto it = worker_index.find(id);
        if (it == worker_index.end()) {
            throw std::invalid_argument(concat("scheduler: unknown worker ", worker));
        }
        return it->second;
    }

    std::size_t position_of(std::int32_t w, TaskId task, const char* reply) const {
        const WorkerState& ws = workers[static_cast<std::size_t>(w)];
        // Reports come in the order the worker runs its copies: the front one, nearly always.
        for (std::size_t i = 0; i < ws.queue.size(); ++i) {
            if (ws.queue[i].task == task.value()) return i;
        }
        throw std::invalid_argument(concat("scheduler: worker ", ws.id, " answered ", reply, " for task ",
                                           task, ", which it does not hold"));
    }

    /// Where a copy the records say worker `w` holds sits in its queue.
    std::size_t locate(std::int32_t w, std::uint64_t task) const {
        const auto& queue = workers[static_cast<std::size_t>(w)].queue;
        for (std::size_t i = 0; i < queue.size(); ++i) {
            if (queue[i].task == task) return i;
        }
        broken(concat("task ", task, " lists worker ", workers[static_cast<std::size_t>(w)].id,
                      " as a holder, but that worker does not hold it"));
    }

    bool holds(std::int32_t w, std::uint64_t task) const {
        const auto& queue = workers[static_cast<std::size_t>(w)].queue;
        for (std::size_t i = 0; i < queue.size(); ++i) {
            if (queue[i].task == task) return true;
        }
        return false;
    }

    Seconds front_start(const WorkerState& ws) const {
        return std::max(ws.queue.front().dispatched, ws.front_since);
    }

    std::optional<Seconds> median() const {
        if (durations.count() < static_cast<std::uint64_t>(options.min_samples)) return {};
        return durations.median();
    }

    int active_workers() const { return counts.workers - counts.retired; }

    /// Records of tasks settled by the previous event stay readable (attempts) until now.
    void begin_event() {
        if (!settled_records.empty()) forget_settled_records();
        settled_untracked = kNoTask;
    }

    [[gnu::noinline]] void forget_settled_records() {
        for (std::uint64_t t : settled_records) {
            records.erase(t);
            states[t] = static_cast<std::uint8_t>(states[t] & kStateMask);
        }
        settled_records.clear();
    }

    std::size_t level_count() const { return static_cast<std::size_t>(options.prefetch) + 1; }

    void mark_level_stale(std::int32_t w) {
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        if (ws.level_stale) return;
        ws.level_stale = true;
        stale_levels.push_back(w);
    }

    /// Lists every worker under its current number of copies again.
    void refresh_stale_levels() {
        for (std::int32_t w : stale_levels) {
            workers[static_cast<std::size_t>(w)].level_stale = false;
            refresh_free_level(w);
        }
        stale_levels.clear();
    }

    void refresh_free_level(std::int32_t w) {
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        const auto size = static_cast<int>(ws.queue.size());
        const int want = !ws.retired && size <= options.prefetch ? size : -1;
        if (want == ws.free_level) return;
        if (ws.free_level >= 0) {
            const auto level = static_cast<std::size_t>(ws.free_level);
            --listed_workers;
            free_by_load[level].erase(w);
            if (free_by_load[level].empty()) level_bits[level / 64] &= ~(std::uint64_t{1} << (level % 64));
        }
        if (want >= 0) {
            const auto level = static_cast<std::size_t>(want);
            ++listed_workers;
            free_by_load[level].insert(w);
            level_bits[level / 64] |= std::uint64_t{1} << (level % 64);
        }
        ws.free_level = want;
    }

    /// The lowest level >= `from` with a worker listed, or level_count().
    std::size_t next_level(std::size_t from) const {
        const std::size_t end = level_count();
        for (std::size_t word = from / 64; word < level_bits.size(); ++word) {
            std::uint64_t bits = level_bits[word];
            if (word == from / 64) bits &= ~std::uint64_t{0} << (from % 64);
            if (bits != 0) return std::min(end, word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
        }
        return end;
    }

    // ---- task state transitions ---------------------------------------------------------

    /// A task whose failures reached max_attempts while another copy ran, and whose last copy
    /// was then lost (cancelled, its worker retired), comes back here too: losing a copy is
    /// not a failure, and its next failure fails it for good.
    void return_to_pool(std::uint64_t t) {
        set_state(t, TaskState::Pending);
        --counts.running;
        ++counts.pending;
        returned.insert(t);
    }

    /// The lowest pending task that worker `w` holds no copy of (a cancelled copy may still
    /// sit there), taken out of the pool.
    std::optional<std::uint64_t> take_pending_for(std::int32_t w) {
        for (auto it = returned.begin(); it != returned.end(); ++it) {
            if (!holds(w, *it)) {
                const std::uint64_t t = *it;
                returned.erase(it);
                return t;
            }
        }
        while (cursor < n_tasks && state(cursor) != TaskState::Pending) ++cursor;
        if (cursor == n_tasks) return std::nullopt;
        if (cursor >= states.size()) grow_states();
        --fresh_pending;
        return cursor++;
    }

    /// Bytes for the ids the cursor reaches, doubling: amortized O(1) per task.
    [[gnu::noinline]] void grow_states() {
        const std::uint64_t want = std::max<std::uint64_t>({cursor + 1, 2 * states.size(), 1 << 16});
        states.resize(static_cast<std::size_t>(std::min(n_tasks, want)), 0);
    }

    /// Marks a live copy cancelled and returns the cancellation to send. A queued copy never
    /// started, so with `take_back` it leaves the attempt count.
    Cancellation cancel_copy(std::int32_t w, std::size_t idx, bool take_back) {
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        ++generation;
        Copy& c = ws.queue[idx];
        c.cancelled = true;
        if (c.extra) --live_extra;
        TaskRecord& rec = track(c.task, w);
        rec.holders.erase(std::find(rec.holders.begin(), rec.holders.end(), w));
        if (take_back && idx > 0) {
            --rec.attempts;
            c.attempt_taken_back = true;
        }
        if (state(c.task) == TaskState::Running && rec.holders.empty()) return_to_pool(c.task);
        return Cancellation{ws.id, TaskId(c.task)};
    }

    /// Settles a task that is pending or running; every other live copy gets cancelled.
    void settle(std::uint64_t t, TaskState outcome, std::vector<Cancellation>* cancels) {
        const TaskState before = state(t);
        if (before == TaskState::Running) {
            --counts.running;
        } else {
            --counts.pending;
            returned.erase(t);  // a cancelled copy finished after its task went back
        }
        set_state(t, outcome);
        ++(outcome == TaskState::Done ? counts.done : counts.failed);
        if (!tracked(t)) {
            settled_untracked = t;
            return;
        }
        auto it = records.find(t);
        settled_records.push_back(t);
        if (it->second.holders.empty()) return;
        // cancel_copy edits the holders: walk a copy.
        const std::vector<std::int32_t> others(it->second.holders.begin(), it->second.holders.end());
        for (std::int32_t w : others) {
            cancels->push_back(cancel_copy(w, locate(w, t), true));
        }
    }

    /// A task already running must be tracked before a second copy is placed. The
    /// assignment goes to the end of `out`.
    Assignment& place_copy(std::int32_t w, std::uint64_t t, Seconds now, int attempt, bool speculative,
                           bool extra, std::vector<Assignment>& out) {
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        ++generation;
        if (tracked(t)) records.at(t).holders.push_back(w);
        if (state(t) == TaskState::Pending) {
            set_state(t, TaskState::Running);
            --counts.pending;
            ++counts.running;
        }
        Copy copy;
        copy.task = t;
        copy.dispatched = now;
        copy.attempt = attempt;
        copy.speculative = speculative;
        copy.extra = extra;
        ws.queue.push_back(copy);
        if (extra) ++live_extra;
        ++counts.in_flight;
        mark_level_stale(w);
        return out.emplace_back(Assignment{ws.id, TaskId(t), attempt, speculative, std::nullopt});
    }

    RemovedCopy remove_copy(std::int32_t w, std::size_t idx, Seconds now) {
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        ++generation;
        RemovedCopy removed{ws.queue[idx], std::nullopt};
        if (idx == 0) {
            removed.duration = std::max(0.0, now - front_start(ws));
            ws.front_since = now;  // the next copy starts when this one is answered
        }
        ws.queue.erase(idx);
        --counts.in_flight;
        // An untracked task's only copy: the caller tracks it if it needs a record.
        if (!removed.copy.cancelled && tracked(removed.copy.task)) {
            if (removed.copy.extra) --live_extra;
            auto& holders = records.at(removed.copy.task).holders;
            holders.erase(std::find(holders.begin(), holders.end(), w));
        }
        mark_level_stale(w);
        return removed;
    }

    void retire_worker(std::int32_t w, bool include_running, std::vector<Cancellation>& out) {
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        ++generation;
        if (!ws.retired) {
            ws.retired = true;
            ++counts.retired;
        }
        for (std::size_t i = include_running ? 0 : 1; i < ws.queue.size(); ++i) {
            if (!ws.queue[i].cancelled) out.push_back(cancel_copy(w, i, true));
        }
        refresh_free_level(w);
    }

    // ---- speculation --------------------------------------------------------------------

    /// The held task with the largest estimated time left that an idle worker may take: a
    /// copy queued behind others (moved), or a running copy overdue by speculate_after x
    /// median (duplicated, within the caps). A task's estimate is that of its best copy.
    /// `wake` gets the earliest time a running copy not yet overdue becomes overdue.
    std::optional<SpeculationChoice> best_speculation(Seconds now, Seconds& wake) const {
        wake = std::numeric_limits<Seconds>::infinity();
        const std::optional<Seconds> med = median();
        const double m = med.value_or(0.0);
        struct Best {
            double left;
            bool qualifies;
            std::int32_t queued_on;
            std::int32_t holder;
        };
        std::unordered_map<std::uint64_t, Best> best;
        for (std::size_t w = 0; w < workers.size(); ++w) {
            const WorkerState& ws = workers[w];
            double ahead = 0;  // seconds until the live copies ahead are done
            for (std::size_t i = 0; i < ws.queue.size(); ++i) {
                const Copy& c = ws.queue[i];
                if (c.cancelled) continue;  // stops at once
                Best here{};
                here.holder = static_cast<std::int32_t>(w);
                if (i == 0) {
                    const double elapsed = now - front_start(ws);
                    // An overdue task is expected to take as long again.
                    here.left = elapsed < m ? m - elapsed : elapsed;
                    here.qualifies = med.has_value() && elapsed > options.speculate_after * m;
                    here.queued_on = -1;
                    if (med && !here.qualifies) {
                        wake = std::min(wake, front_start(ws) + options.speculate_after * m);
                    }
                } else {
                    here.left = ahead + m;
                    here.qualifies = true;  // an idle worker can start it now
                    here.queued_on = static_cast<std::int32_t>(w);
                }
                ahead = here.left;
                auto [it, fresh] = best.try_emplace(c.task, here);
                if (!fresh && here.left < it->second.left) it->second = here;
            }
        }
        const auto max_live = static_cast<std::size_t>(options.max_copies) + 1;
        std::optional<SpeculationChoice> choice;
        for (const auto& [task, b] : best) {
            if (!b.qualifies) continue;
            if (b.queued_on < 0 && (live_extra >= speculative_cap || live_holders(task) >= max_live)) {
                continue;
            }
            if (!choice || b.left > choice->left || (b.left == choice->left && task < choice->task)) {
                choice = SpeculationChoice{task, b.left, b.queued_on, b.holder};
            }
        }
        return choice;
    }

    void speculate(std::int32_t idle, const SpeculationChoice& choice, Seconds now,
                   std::vector<Assignment>& out) {
        ++counts.speculative_started;
        // A second copy: the task needs its record (holders) from now on.
        TaskRecord& rec = track(choice.task, choice.holder);
        if (choice.queued_on < 0) {
            place_copy(idle, choice.task, now, ++rec.attempts, true, true, out);
            return;
        }
        const std::int32_t from = choice.queued_on;
        const std::size_t idx = locate(from, choice.task);
        const Copy original = workers[static_cast<std::size_t>(from)].queue[idx];
        // Place first, so the task never looks unheld in between.
        Assignment& a = place_copy(idle, choice.task, now, original.attempt, true, original.extra, out);
        cancel_copy(from, idx, false);
        a.moved_from = workers[static_cast<std::size_t>(from)].id;
    }

    // ---- deadline -----------------------------------------------------------------------

    /// Whether a copy given to worker `w` now is expected to finish by the deadline; sets
    /// deadline_reached when not even an idle worker could.
    bool fits_deadline(std::int32_t w, Seconds now) {
        if (!stop_by) return true;
        if (deadline_reached) return false;
        const std::optional<Seconds> expected = durations.max();
        if (!expected) return true;
        const WorkerState& ws = workers[static_cast<std::size_t>(w)];
        double ahead = 0;
        if (!ws.queue.empty()) {
            ahead = std::max(0.0, *expected - (now - front_start(ws))) +
                    static_cast<double>(ws.queue.size() - 1) * *expected;
        }
        if (now + ahead + *expected <= *stop_by) return true;
        if (now + *expected > *stop_by) deadline_reached = true;
        return false;
    }

    // ---- events -------------------------------------------------------------------------

    /// Breadth-first: every worker with k copies gets one before any gets k + 2, in worker
    /// order within a level. Levels are not updated during the walk: the workers given a copy
    /// at level k are carried to k + 1 and merged (by index) with those listed there.
    /// Gives worker `w`, holding `level` copies, one copy per level up to `stop` while tasks
    /// are pending; returns the level reached (below `stop` if it was skipped there).
    std::size_t fill_alone(std::int32_t w, std::size_t level, std::size_t stop, Seconds now,
                           std::vector<Assignment>& out) {
        for (; level < stop && counts.pending > 0; ++level) {
            if (!fits_deadline(w, now)) break;
            const std::optional<std::uint64_t> t = take_pending_for(w);
            if (!t) break;
            const int attempt = tracked(*t) ? ++records.at(*t).attempts : 1;
            place_copy(w, *t, now, attempt, false, false, out);
        }
        return level;
    }

    void fill_free_slots(Seconds now, std::vector<Assignment>& out) {
        const std::size_t end = level_count();
        carry.clear();
        for (std::size_t level = next_level(0); level < end && counts.pending > 0;) {
            if (carry.size() == 1 && next_level(level) > level) {
                // One worker carried up through levels where no other is listed (batching:
                // one worker refilled by hundreds of copies): it takes one per level, so
                // fill it up to the next listed level in one go.
                const std::size_t stop = next_level(level);
                level = fill_alone(carry[0], level, stop, now, out);
                if (deadline_reached) return;
                if (level < stop && counts.pending > 0) {
                    // Skipped at `level`: it stays there, and the walk goes on above.
                    carry.clear();
                    level = next_level(level + 1);
                }
                continue;
            }
            const WorkerSet& listed = free_by_load[level];
            carry_next.clear();
            std::size_t c = 0;
            std::int32_t l = listed.next(0);
            while (counts.pending > 0) {
                std::int32_t w;
                if (c < carry.size() && (l < 0 || carry[c] < l)) {
                    w = carry[c++];
                } else if (l >= 0) {
                    w = l;
                    l = listed.next(l + 1);
                } else {
                    break;
                }
                if (!fits_deadline(w, now)) {
                    if (deadline_reached) return;
                    continue;
                }
                const std::optional<std::uint64_t> t = take_pending_for(w);
                if (!t) continue;
                const int attempt = tracked(*t) ? ++records.at(*t).attempts : 1;
                place_copy(w, *t, now, attempt, false, false, out);
                if (level + 1 < end) carry_next.push_back(w);
            }
            carry.swap(carry_next);
            level = carry.empty() ? next_level(level + 1) : level + 1;
        }
    }

    /// The master polls assign() every turn. No free slot and no queue changed since the
    /// last call: nothing to fill, no idle worker to speculate or to hit the deadline with.
    bool nothing_to_assign() const { return listed_workers == 0 && stale_levels.empty(); }

    void assign(Seconds now, std::vector<Assignment>& out) {
        begin_event();
        if (nothing_to_assign()) return;
        if (draining || deadline_reached) {
            refresh_stale_levels();
            return;
        }
        const std::int32_t lone = stale_levels.size() == 1 ? stale_levels[0] : -1;
        const WorkerState* ws = lone >= 0 ? &workers[static_cast<std::size_t>(lone)] : nullptr;
        if (ws != nullptr && listed_workers == (ws->free_level >= 0 ? 1U : 0U) && !ws->retired &&
            ws->queue.size() <= static_cast<std::size_t>(options.prefetch)) {
            // One copy answered (one task per message) and no other worker has a free slot:
            // the walk below would give it copies up to its limit; do that directly.
            fill_alone(lone, ws->queue.size(), level_count(), now, out);
        } else {
            refresh_stale_levels();
            if (listed_workers > 0) fill_free_slots(now, out);
        }
        refresh_stale_levels();
        if (deadline_reached) return;
        const bool quiet = generation == quiet_generation && now < quiet_until;
        if (options.speculate && counts.pending == 0 && !free_by_load[0].empty() && !quiet) {
            const std::vector<std::int32_t> idle = free_by_load[0].members();
            for (std::int32_t w : idle) {
                if (!fits_deadline(w, now)) break;
                Seconds wake = 0;
                const std::optional<SpeculationChoice> choice = best_speculation(now, wake);
                if (!choice) {
                    quiet_generation = generation;
                    quiet_until = wake;
                    break;
                }
                speculate(w, *choice, now, out);
            }
            refresh_stale_levels();
        }
    }

    DoneOutcome on_done(WorkerId worker, TaskId task, Seconds now) {
        begin_event();
        const std::int32_t w = index_of(worker);
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        const std::uint64_t t = task.value();
        if (!ws.queue.empty() && ws.queue.front().task == t && !tracked(t) &&
            state(t) == TaskState::Running) {
            // The common case, O(1): the running copy of a task with no other copy and no
            // record (so it is live, not speculative). What the general path below does.
            ++generation;
            durations.add(std::max(0.0, now - front_start(ws)));
            ws.front_since = now;
            ws.queue.pop_front();
            --counts.in_flight;
            mark_level_stale(w);
            ws.consecutive_failures = 0;
            set_state(t, TaskState::Done);
            --counts.running;
            ++counts.done;
            settled_untracked = t;
            DoneOutcome out;
            out.accepted = true;
            return out;
        }
        const RemovedCopy removed = remove_copy(w, position_of(w, task, "done"), now);
        ws.consecutive_failures = 0;
        DoneOutcome out;
        if (is_settled(state(t))) {
            ++counts.duplicates;
            return out;
        }
        out.accepted = true;
        if (removed.duration) durations.add(*removed.duration);
        if (!tracked(t)) {
            // Its only copy (running, never cancelled, not speculative): nothing to cancel.
            set_state(t, TaskState::Done);
            --counts.running;
            ++counts.done;
            settled_untracked = t;
            return out;
        }
        if (removed.copy.attempt_taken_back) ++records.at(t).attempts;  // it did run
        if (removed.copy.speculative) ++counts.speculative_won;
        settle(t, TaskState::Done, &out.cancels);
        return out;
    }

    FailOutcome on_failed(WorkerId worker, TaskId task, Seconds now) {
        begin_event();
        const std::int32_t w = index_of(worker);
        const RemovedCopy removed = remove_copy(w, position_of(w, task, "failed"), now);
        FailOutcome out;
        const std::uint64_t t = task.value();
        // A copy told to stop may fail from being stopped: that says nothing about the task
        // or the worker.
        if (removed.copy.cancelled || is_settled(state(t))) {
            out.verdict = FailVerdict::Ignored;
            return out;
        }
        WorkerState& ws = workers[static_cast<std::size_t>(w)];
        ++ws.consecutive_failures;
        TaskRecord& rec = track(t, -1);  // untracked: its only copy was the one just removed
        ++rec.failures;
        if (!rec.holders.empty()) {
            out.verdict = FailVerdict::Waiting;
        } else if (rec.failures >= options.max_attempts) {
            out.verdict = FailVerdict::FailedForGood;
            settle(t, TaskState::Failed, &out.cancels);
        } else {
            out.verdict = FailVerdict::Retry;
            return_to_pool(t);
        }
        if (options.max_worker_errors > 0 && !ws.retired &&
            ws.consecutive_failures >= options.max_worker_errors) {
            retire_worker(w, false, out.cancels);
            out.worker_retired = true;
        }
        return out;
    }

    void on_cancelled(WorkerId worker, TaskId task, Seconds now) {
        begin_event();
        const std::int32_t w = index_of(worker);
        const RemovedCopy removed = remove_copy(w, position_of(w, task, "cancelled"), now);
        const std::uint64_t t = task.value();
        // A copy dropped without being asked is lost, not failed.
        if (!removed.copy.cancelled && state(t) == TaskState::Running && track(t, -1).holders.empty()) {
            return_to_pool(t);
        }
    }

    std::vector<Cancellation> retire(WorkerId worker) {
        begin_event();
        std::vector<Cancellation> out;
        retire_worker(index_of(worker), true, out);
        return out;
    }

    std::vector<Cancellation> drain() {
        begin_event();
        draining = true;
        std::vector<Cancellation> out;
        for (std::size_t w = 0; w < workers.size(); ++w) {
            for (std::size_t i = 0; i < workers[w].queue.size(); ++i) {
                if (!workers[w].queue[i].cancelled) {
                    out.push_back(cancel_copy(static_cast<std::int32_t>(w), i, true));
                }
            }
        }
        return out;
    }

    void set_prefetch(int prefetch) {
        if (prefetch < 0) {
            throw std::invalid_argument(
                concat("scheduler option prefetch must be at least 0, got ", prefetch));
        }
        if (prefetch == options.prefetch) return;
        // Empty the listed levels only, keeping every level's storage for reuse: the master
        // changes the depth as task durations shift.
        for (std::size_t level = next_level(0); level < level_count(); level = next_level(level + 1)) {
            free_by_load[level].clear();
        }
        for (WorkerState& ws : workers) {
            ws.free_level = -1;
            ws.level_stale = false;
        }
        listed_workers = 0;
        stale_levels.clear();
        options.prefetch = prefetch;
        max_prefetch_seen = std::max(max_prefetch_seen, prefetch);
        if (free_by_load.size() < level_count()) free_by_load.resize(level_count());
        level_bits.assign(free_by_load.size() / 64 + 1, 0);
        for (std::size_t w = 0; w < workers.size(); ++w) refresh_free_level(static_cast<std::int32_t>(w));
    }

    bool finished() const { return counts.done + counts.failed == n_tasks; }

    bool stalled() const {
        return !finished() && counts.running == 0 && (draining || deadline_reached || active_workers() == 0);
    }

    void check_invariants() const;
};

void Scheduler::Impl::check_invariants() const {
    // Tasks: counters match the bytes, and the pool is exactly the pending tasks below the
    // cursor.
    std::uint64_t by_state[4] = {0, 0, 0, 0};
    std::uint64_t pending_fresh = 0, pending_returned = 0;
    std::uint64_t n_tracked = 0;
    if (states.size() > n_tasks || (cursor > states.size())) {
        broken(concat("state bytes cover ", states.size(), " tasks of ", n_tasks, ", the cursor is at ",
                      cursor));
    }
    for (std::uint64_t t = 0; t < n_tasks; ++t) {
        const std::uint8_t raw = byte(t);
        if ((raw & ~(kStateMask | kTracked)) != 0) broken(concat("task ", t, " has state byte ", int(raw)));
        ++by_state[raw & kStateMask];
        const TaskState s = state(t);
        if (tracked(t)) {
            ++n_tracked;
            if (records.count(t) == 0) broken(concat("task ", t, " is marked tracked but has no record"));
        }
        if (s == TaskState::Pending) {
            if (t >= cursor) {
                ++pending_fresh;
            } else if (returned.count(t) == 0) {
                broken(concat("pending task ", t, " is below the cursor but not in the pool"));
            } else {
                ++pending_returned;
            }
        } else if (t >= cursor && s == TaskState::Running) {
            broken(concat("task ", t, " runs but the cursor (", cursor, ") never passed it"));
        }
        if (s == TaskState::Running && tracked(t) && records.at(t).holders.empty()) {
            broken(concat("task ", t, " is running but no worker holds a live copy"));
        }
    }
    if (n_tracked != records.size()) {
        broken(concat(records.size(), " task records, but ", n_tracked, " tasks marked tracked"));
    }
    if (pending_returned != returned.size()) {
        for (std::uint64_t t : returned) {
            if (t >= cursor || state(t) != TaskState::Pending) {
                broken(concat("the pool holds task ", t, ", which is not pending below the cursor"));
            }
        }
    }
    if (pending_fresh != fresh_pending) {
        broken(concat(pending_fresh, " fresh pending tasks, counter says ", fresh_pending));
    }
    const std::uint64_t pending = by_state[0], done = by_state[1], failed = by_state[2],
                        running = by_state[3];
    if (pending != counts.pending || done != counts.done || failed != counts.failed ||
        running != counts.running) {
        broken(concat("counts (pending ", counts.pending, ", running ", counts.running, ", done ",
                      counts.done, ", failed ", counts.failed, ") differ from task states (", pending, ", ",
                      running, ", ", done, ", ", failed, ")"));
    }
    if (counts.pending + counts.running + counts.done + counts.failed != counts.total ||
        counts.total != n_tasks) {
        broken(concat("counts do not add up to the ", n_tasks, " tasks"));
    }

    // Workers: queues within bounds, each live copy listed by its task's record; an
    // untracked task has one copy in all, live, and runs.
    std::unordered_map<std::uint64_t, std::size_t> live_copies;
    std::unordered_map<std::uint64_t, std::size_t> untracked_copies;
    std::uint64_t in_flight = 0;
    int extra = 0, retired = 0;
    const auto max_queue = static_cast<std::size_t>(max_prefetch_seen) + 1;
    for (std::size_t w = 0; w < workers.size(); ++w) {
        const WorkerState& ws = workers[w];
        in_flight += ws.queue.size();
        if (ws.retired) ++retired;
        if (ws.queue.size() > max_queue) {
            broken(concat("worker ", ws.id, " holds ", ws.queue.size(), " copies, at most ", max_queue,
                          " allowed"));
        }
        const int want_level = !ws.retired && static_cast<int>(ws.queue.size()) <= options.prefetch
                                   ? static_cast<int>(ws.queue.size())
                                   : -1;
        if (ws.level_stale) {
            if (std::find(stale_levels.begin(), stale_levels.end(), static_cast<std::int32_t>(w)) ==
                stale_levels.end()) {
                broken(concat("worker ", ws.id, " has a stale level but is not listed as such"));
            }
        } else if (ws.free_level != want_level ||
                   (want_level >= 0 && free_by_load[static_cast<std::size_t>(want_level)].count(
                                           static_cast<std::int32_t>(w)) == 0)) {
            broken(concat("worker ", ws.id, " is listed under the wrong number of free slots"));
        }
        for (std::size_t i = 0; i < ws.queue.size(); ++i) {
            const Copy& c = ws.queue[i];
            if (c.task >= n_tasks) broken(concat("worker ", ws.id, " holds unknown task ", c.task));
            for (std::size_t j = i + 1; j < ws.queue.size(); ++j) {
                if (ws.queue[j].task == c.task) {
                    broken(concat("worker ", ws.id, " holds two copies of task ", c.task));
                }
            }
            // Records of settled tasks go at the next event: their cancelled copies remain.
            if (!tracked(c.task) && !is_settled(state(c.task))) {
                if (c.cancelled || state(c.task) != TaskState::Running) {
                    broken(concat("untracked task ", c.task, " has a copy on worker ", ws.id,
                                  " that is cancelled, or it does not run"));
                }
                if (++untracked_copies[c.task] > 1) {
                    broken(concat("untracked task ", c.task, " has more than one copy"));
                }
            }
            if (c.cancelled) continue;
            if (draining) broken(concat("draining, but worker ", ws.id, " holds live task ", c.task));
            if (ws.retired && i > 0) {
                broken(concat("retired worker ", ws.id, " still has task ", c.task, " queued"));
            }
            if (state(c.task) != TaskState::Running) {
                broken(concat("worker ", ws.id, " holds a live copy of task ", c.task,
                              ", which is not running (state ", int(states[c.task]), ")"));
            }
            if (tracked(c.task)) {
                const auto& holders = records.at(c.task).holders;
                if (std::find(holders.begin(), holders.end(), static_cast<std::int32_t>(w)) ==
                    holders.end()) {
                    broken(concat("task ", c.task, " does not list worker ", ws.id, " as a holder"));
                }
            }
            ++live_copies[c.task];
            if (c.extra) ++extra;
        }
    }
    std::size_t listed = 0;
    for (std::size_t level = 0; level < free_by_load.size(); ++level) {
        listed += free_by_load[level].size();
        const bool bit = (level_bits[level / 64] >> (level % 64)) & 1U;
        if (bit == free_by_load[level].empty()) {
            broken(concat("the free-level bitmap is wrong at level ", level));
        }
        for (std::int32_t w : free_by_load[level].members()) {
            if (workers[static_cast<std::size_t>(w)].free_level != static_cast<int>(level)) {
                broken(concat("worker ", workers[static_cast<std::size_t>(w)].id, " is listed with ", level,
                              " copies by mistake"));
            }
        }
    }
    if (listed != listed_workers) {
        broken(concat(listed, " workers listed with free slots, counter says ", listed_workers));
    }
    if (in_flight != counts.in_flight) {
        broken(concat(in_flight, " copies held, counter says ", counts.in_flight));
    }
    if (retired != counts.retired) broken(concat(retired, " workers retired, counter says ", counts.retired));
    if (extra != live_extra) broken(concat(extra, " live duplicates, counter says ", live_extra));
    if (live_extra > speculative_cap) {
        broken(concat(live_extra, " speculative copies running, at most ", speculative_cap));
    }

    // Records: holders are exactly the live copies, within max_copies.
    const auto max_live = static_cast<std::size_t>(options.max_copies) + 1;
    for (const auto& [t, rec] : records) {
        const auto found = live_copies.find(t);
        const std::size_t live = found == live_copies.end() ? 0 : found->second;
        if (rec.holders.size() != live) {
            broken(concat("task ", t, " lists ", rec.holders.size(), " holders but ", live,
                          " live copies are held"));
        }
        if (live > max_live) {
            broken(concat("task ", t, " has ", live, " live copies, at most ", max_live));
        }
        if (rec.attempts < 0) broken(concat("task ", t, " has ", rec.attempts, " attempts"));
        const TaskState s = state(t);
        if (is_settled(s) &&
            std::find(settled_records.begin(), settled_records.end(), t) == settled_records.end()) {
            broken(concat("settled task ", t, " still has a record"));
        }
    }
    if (counts.running != 0) {
        // Every running task is held: tracked ones by their holders (checked above),
        // untracked ones by their one copy.
        std::uint64_t running_untracked = 0;
        for (std::uint64_t t = 0; t < n_tasks; ++t) {
            if (state(t) == TaskState::Running && !tracked(t)) ++running_untracked;
        }
        if (running_untracked != untracked_copies.size()) {
            broken(concat(running_untracked, " untracked tasks run, but ", untracked_copies.size(),
                          " untracked tasks are held"));
        }
    }
}

// ---- Scheduler: forwards to Impl ----------------------------------------------------------

Scheduler::Scheduler(std::uint64_t n_tasks, std::vector<WorkerId> workers, SchedulerOptions options,
                     const std::vector<TaskStatus>& initial, bool retry_failed)
    : impl_(std::make_unique<Impl>(n_tasks, std::move(workers), options, initial, retry_failed)) {}
Scheduler::~Scheduler() = default;
Scheduler::Scheduler(Scheduler&&) noexcept = default;
Scheduler& Scheduler::operator=(Scheduler&&) noexcept = default;

std::vector<Assignment> Scheduler::assign(Seconds now) {
    std::vector<Assignment> out;
    impl_->assign(now, out);
    return out;
}
void Scheduler::assign(Seconds now, std::vector<Assignment>& out) {
    Impl& s = *impl_;
    if (s.settled_records.empty() && s.nothing_to_assign()) {
        s.settled_untracked = Impl::kNoTask;  // what begin_event() would do here
        return;
    }
    s.assign(now, out);
}
DoneOutcome Scheduler::on_done(WorkerId worker, TaskId task, Seconds now) {
    return impl_->on_done(worker, task, now);
}
FailOutcome Scheduler::on_failed(WorkerId worker, TaskId task, Seconds now) {
    return impl_->on_failed(worker, task, now);
}
void Scheduler::on_cancelled(WorkerId worker, TaskId task, Seconds now) {
    impl_->on_cancelled(worker, task, now);
}
std::vector<Cancellation> Scheduler::retire(WorkerId worker) {
    return impl_->retire(worker);
}
std::vector<Cancellation> Scheduler::drain() {
    return impl_->drain();
}
void Scheduler::set_deadline(std::optional<Seconds> stop_by) {
    impl_->stop_by = stop_by;
    impl_->deadline_reached = false;
}
bool Scheduler::deadline_reached() const {
    return impl_->deadline_reached;
}
std::optional<Seconds> Scheduler::longest_duration() const {
    return impl_->durations.max();
}
void Scheduler::set_prefetch(int prefetch) {
    impl_->set_prefetch(prefetch);
}
int Scheduler::prefetch() const {
    return impl_->options.prefetch;
}
bool Scheduler::finished() const {
    return impl_->finished();
}
bool Scheduler::stalled() const {
    return impl_->stalled();
}
SchedulerCounts Scheduler::counts() const {
    return impl_->counts;
}

TaskStatus Scheduler::status(TaskId task) const {
    impl_->check_task(task);
    const TaskState s = impl_->state(task.value());
    return s == TaskState::Running ? TaskStatus::Pending : static_cast<TaskStatus>(s);
}

bool Scheduler::is_held(TaskId task) const {
    impl_->check_task(task);
    return impl_->state(task.value()) == TaskState::Running;
}

int Scheduler::attempts(TaskId task) const {
    impl_->check_task(task);
    const std::uint64_t t = task.value();
    if (impl_->tracked(t)) return impl_->records.at(t).attempts;
    switch (impl_->state(t)) {
        case TaskState::Running:
            return 1;  // one copy, placed once
        case TaskState::Done:
        case TaskState::Failed:
            return impl_->settled_untracked == t ? 1 : 0;
        default:
            return 0;
    }
}

std::optional<Seconds> Scheduler::median_duration() const {
    return impl_->median();
}

void Scheduler::check_invariants() const {
    impl_->check_invariants();
}

}  // namespace mpisweep
