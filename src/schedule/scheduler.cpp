// The scheduler's set up, its small helpers, and the public calls forwarded to Impl.
#include "schedule/scheduler.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "schedule/scheduler_impl.hpp"

namespace mpisweep {
namespace {

using detail::concat;

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

/// The settled tasks the scheduler keeps: checked against n, the failed ones dropped when
/// they run again.
SettledTasks checked(std::uint64_t n, const SettledTasks& settled, bool retry_failed) {
    if (settled.end() > n) {
        throw std::invalid_argument(
            concat("scheduler: settled task ", settled.end() - 1, " out of range (", n, " tasks)"));
    }
    return retry_failed && settled.failed() > 0 ? settled.without_failed() : settled;
}

}  // namespace

Scheduler::Impl::Impl(std::uint64_t n, std::vector<WorkerId> worker_ids, SchedulerOptions o,
                      const SettledTasks& settled, bool retry_failed)
    : options(o), tasks((validate(o), n), checked(n, settled, retry_failed)), free(o.prefetch) {
    counts.total = n;
    counts.done = tasks.settled_before().done();
    counts.failed = tasks.settled_before().failed();
    counts.pending = n - counts.done - counts.failed;
    max_prefetch_seen = options.prefetch;
    add_workers(worker_ids);
    counts.workers = static_cast<int>(workers.size());
    speculative_cap = options.max_speculative > 0 ? options.max_speculative
                                                  : std::max(1, static_cast<int>(workers.size()) / 2);
}

void Scheduler::Impl::add_workers(const std::vector<WorkerId>& ids) {
    workers.reserve(ids.size());
    const std::size_t dense_limit = 4 * ids.size() + 64;
    for (WorkerId id : ids) {
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
        free.add_worker();
        refresh_free_level(index);
    }
}

// ---- small helpers ------------------------------------------------------------------------

TaskRecord& Scheduler::Impl::track(std::uint64_t t, std::int32_t holder) {
    if (tracked(t)) return records.at(t);
    TaskRecord& rec = records[t];
    if (state(t) == TaskState::Running) {
        rec.attempts = 1;
        if (holder >= 0) rec.holders.push_back(holder);
    }
    tasks.set_tracked(t, true);
    return rec;
}

void Scheduler::Impl::forget(std::uint64_t t) {
    records.erase(t);
    tasks.set_tracked(t, false);
}

void Scheduler::Impl::check_task(TaskId task) const {
    if (task.value() >= n_tasks()) {
        throw std::invalid_argument(
            concat("scheduler: task ", task, " out of range (", n_tasks(), " tasks)"));
    }
}

std::int32_t Scheduler::Impl::index_of_sparse(WorkerId worker) const {
    auto it = worker_index.find(worker.value());
    if (it == worker_index.end()) throw std::invalid_argument(concat("scheduler: unknown worker ", worker));
    return it->second;
}

std::size_t Scheduler::Impl::position_of(std::int32_t w, TaskId task, const char* reply) const {
    const WorkerState& ws = worker(w);
    // Reports come in the order the worker runs its copies: the front one, nearly always.
    for (std::size_t i = 0; i < ws.queue.size(); ++i) {
        if (ws.queue[i].task == task.value()) return i;
    }
    throw std::invalid_argument(concat("scheduler: worker ", ws.id, " answered ", reply, " for task ", task,
                                       ", which it does not hold"));
}

std::size_t Scheduler::Impl::locate(std::int32_t w, std::uint64_t task) const {
    const auto& queue = worker(w).queue;
    for (std::size_t i = 0; i < queue.size(); ++i) {
        if (queue[i].task == task) return i;
    }
    detail::invariant_broken(concat("task ", task, " lists worker ", worker(w).id,
                                    " as a holder, but that worker does not hold it"));
}

bool Scheduler::Impl::holds(std::int32_t w, std::uint64_t task) const {
    const auto& queue = worker(w).queue;
    for (std::size_t i = 0; i < queue.size(); ++i) {
        if (queue[i].task == task) return true;
    }
    return false;
}

std::optional<Seconds> Scheduler::Impl::median() const {
    if (durations.count() < static_cast<std::uint64_t>(options.min_samples)) return {};
    return durations.median();
}

int Scheduler::Impl::attempts(std::uint64_t t) const {
    if (tracked(t)) return records.at(t).attempts;
    return state(t) == TaskState::Running ? 1 : 0;  // untracked and running: one copy, placed once
}

// ---- Scheduler: forwards to Impl ----------------------------------------------------------

Scheduler::Scheduler(std::uint64_t n_tasks, std::vector<WorkerId> workers, SchedulerOptions options,
                     const SettledTasks& settled, bool retry_failed)
    : impl_(std::make_unique<Impl>(n_tasks, std::move(workers), options, settled, retry_failed)) {}
Scheduler::~Scheduler() = default;
Scheduler::Scheduler(Scheduler&&) noexcept = default;
Scheduler& Scheduler::operator=(Scheduler&&) noexcept = default;

FailOutcome Scheduler::on_failed(WorkerId worker, TaskId task, Seconds now) {
    return impl_->on_failed(worker, task, now);
}
void Scheduler::on_cancelled(WorkerId worker, TaskId task, Seconds now) {
    impl_->on_cancelled(worker, task, now);
}
std::vector<Cancellation> Scheduler::retire(WorkerId worker) {
    std::vector<Cancellation> out;
    impl_->retire_worker(impl_->index_of(worker), true, out);
    return out;
}
std::size_t Scheduler::lose(WorkerId worker, Seconds now) {
    const std::int32_t w = impl_->index_of(worker);
    std::vector<Cancellation> unsent;  // it would not answer them
    impl_->retire_worker(w, true, unsent);
    // Every copy it holds, live or already being cancelled, is answered here in its place.
    std::size_t copies = 0;
    for (; !impl_->worker(w).queue.empty(); ++copies)
        impl_->on_cancelled(worker, TaskId(impl_->worker(w).queue.front().task), now);
    return copies;
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
Seconds Scheduler::next_assign_time() const {
    // speculate_on_idle leaves quiet_until (the first running copy to turn overdue) for the
    // state it last looked at; any event since bumps the generation. A copy is overdue once
    // its elapsed time is over the threshold, not at it: a microsecond later.
    return impl_->generation == impl_->quiet_generation ? impl_->quiet_until + 1e-6
                                                        : std::numeric_limits<Seconds>::infinity();
}

int Scheduler::prefetch() const {
    return impl_->options.prefetch;
}
Scheduler::HeldCopies Scheduler::held_copies() const {
    HeldCopies out;
    for (const WorkerState& ws : impl_->workers) {
        if (ws.queue.empty()) continue;
        const Copy& front = ws.queue.front();
        out.running.push_back(HeldCopy{ws.id, front.task, front.attempt, front.speculative, front.dispatched,
                                       impl_->front_start(ws)});
        for (std::size_t i = 1; i < ws.queue.size(); ++i)
            out.queued += !ws.queue[i].cancelled;  // else never runs
    }
    return out;
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
    return impl_->attempts(task.value());
}
std::optional<Seconds> Scheduler::median_duration() const {
    return impl_->median();
}
void Scheduler::check_invariants() const {
    impl_->check_invariants();
}
std::uint64_t Scheduler::task_state_bytes() const {
    return impl_->tasks.bytes_held();
}

}  // namespace mpisweep
