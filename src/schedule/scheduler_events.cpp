// What happens to tasks and copies on replies, retirements and a drain: the state
// transitions of a task (pending, running, done, failed) and of its copies.
#include <algorithm>
#include <stdexcept>

#include "schedule/scheduler_impl.hpp"

namespace mpisweep {

/// A task whose failures reached max_attempts while another copy ran, and whose last copy
/// was then lost (cancelled, its worker retired), comes back here too: losing a copy is not
/// a failure, and its next failure fails it for good.
void Scheduler::Impl::return_to_pool(std::uint64_t t) {
    tasks.set_state(t, TaskState::Pending);
    --counts.running;
    ++counts.pending;
    returned.insert(t);
}

/// Marks a live copy cancelled and returns the cancellation to send. A queued copy never
/// started, so with `take_back` it leaves the attempt count.
Cancellation Scheduler::Impl::cancel_copy(std::int32_t w, std::size_t idx, bool take_back) {
    WorkerState& ws = worker(w);
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

/// Settles a tracked task that is pending or running; every other live copy gets cancelled,
/// and its record goes (cancelled copies answering later need none).
void Scheduler::Impl::settle(std::uint64_t t, TaskState outcome, std::vector<Cancellation>* cancels) {
    if (state(t) == TaskState::Running) {
        --counts.running;
    } else {
        --counts.pending;
        returned.erase(t);  // a cancelled copy finished after its task went back
    }
    tasks.set_state(t, outcome);
    ++(outcome == TaskState::Done ? counts.done : counts.failed);
    auto it = records.find(t);
    if (!it->second.holders.empty()) {
        // cancel_copy edits the holders: walk a copy.
        const std::vector<std::int32_t> others(it->second.holders.begin(), it->second.holders.end());
        for (std::int32_t w : others) cancels->push_back(cancel_copy(w, locate(w, t), true));
    }
    forget(t);
}

RemovedCopy Scheduler::Impl::remove_copy(std::int32_t w, std::size_t idx, Seconds now) {
    WorkerState& ws = worker(w);
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
    free.mark_stale(w);
    return removed;
}

void Scheduler::Impl::retire_worker(std::int32_t w, bool include_running, std::vector<Cancellation>& out) {
    WorkerState& ws = worker(w);
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

DoneOutcome Scheduler::Impl::on_done(WorkerId worker_id, TaskId task, Seconds now) {
    const std::int32_t w = index_of(worker_id);
    WorkerState& ws = worker(w);
    const std::uint64_t t = task.value();
    if (!ws.queue.empty() && ws.queue.front().task == t) {
        std::uint8_t& byte = tasks.at(t);  // held, so dispatched
        if (byte == static_cast<std::uint8_t>(TaskState::Running)) {
            // The common case, O(1): the running copy of a task with no other copy and no
            // record (so it is live, not speculative, attempt 1). What on_done_general does.
            ++generation;
            durations.add(std::max(0.0, now - front_start(ws)));
            ws.front_since = now;
            ws.queue.pop_front();
            --counts.in_flight;
            free.mark_stale(w);
            ws.consecutive_failures = 0;
            byte = static_cast<std::uint8_t>(TaskState::Done);
            --counts.running;
            ++counts.done;
            DoneOutcome out;
            out.accepted = true;
            out.attempts = 1;
            return out;
        }
    }
    return on_done_general(w, t, now);
}

DoneOutcome Scheduler::on_done(WorkerId worker, TaskId task, Seconds now) {
    return impl_->on_done(worker, task, now);
}

DoneOutcome Scheduler::Impl::on_done_general(std::int32_t w, std::uint64_t t, Seconds now) {
    const RemovedCopy removed = remove_copy(w, position_of(w, TaskId(t), "done"), now);
    worker(w).consecutive_failures = 0;
    DoneOutcome out;
    if (is_settled(state(t))) {
        ++counts.duplicates;
        return out;
    }
    out.accepted = true;
    if (removed.duration) durations.add(*removed.duration);
    if (!tracked(t)) {
        // Its only copy (running, never cancelled, not speculative): nothing to cancel.
        tasks.set_state(t, TaskState::Done);
        --counts.running;
        ++counts.done;
        out.attempts = std::max(1, removed.copy.attempt);
        return out;
    }
    TaskRecord& rec = records.at(t);
    if (removed.copy.attempt_taken_back) ++rec.attempts;  // it did run
    out.attempts = std::max(rec.attempts, removed.copy.attempt);
    if (removed.copy.speculative) ++counts.speculative_won;
    settle(t, TaskState::Done, &out.cancels);
    return out;
}

FailOutcome Scheduler::Impl::on_failed(WorkerId worker_id, TaskId task, Seconds now) {
    const std::int32_t w = index_of(worker_id);
    const RemovedCopy removed = remove_copy(w, position_of(w, task, "failed"), now);
    FailOutcome out;
    const std::uint64_t t = task.value();
    // A copy told to stop may fail from being stopped: that says nothing about the task or
    // the worker.
    if (removed.copy.cancelled || is_settled(state(t))) {
        out.verdict = FailVerdict::Ignored;
        return out;
    }
    WorkerState& ws = worker(w);
    ++ws.consecutive_failures;
    TaskRecord& rec = track(t, -1);  // untracked: its only copy was the one just removed
    ++rec.failures;
    out.attempts = std::max(rec.attempts, removed.copy.attempt);
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

void Scheduler::Impl::on_cancelled(WorkerId worker_id, TaskId task, Seconds now) {
    const std::int32_t w = index_of(worker_id);
    const RemovedCopy removed = remove_copy(w, position_of(w, task, "cancelled"), now);
    const std::uint64_t t = task.value();
    // A copy dropped without being asked is lost, not failed.
    if (!removed.copy.cancelled && state(t) == TaskState::Running && track(t, -1).holders.empty()) {
        return_to_pool(t);
    }
}

std::vector<Cancellation> Scheduler::Impl::drain() {
    draining = true;
    std::vector<Cancellation> out;
    for (std::size_t w = 0; w < workers.size(); ++w) {
        for (std::size_t i = 0; i < workers[w].queue.size(); ++i) {
            if (!workers[w].queue[i].cancelled)
                out.push_back(cancel_copy(static_cast<std::int32_t>(w), i, true));
        }
    }
    return out;
}

}  // namespace mpisweep
