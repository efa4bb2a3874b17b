#pragma once
// Plays scheduler events the way the master loop would, keeps its own picture of what each
// worker holds, and checks after every event that the scheduler's decisions make sense from
// the outside (no copy sent to a retired worker or twice to one worker, cancellations only
// for copies held, every task settled at most once) and that its own invariants hold.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "schedule/scheduler.hpp"

namespace mpisweep::testing {

/// A copy as the worker sees it.
struct HeldCopy {
    std::uint64_t task = 0;
    bool cancel_sent = false;
};

class SchedulerDriver {
public:
    /// Workers are ranks 1..n_workers (rank 0 is the master), so a mix-up between worker
    /// index and rank shows.
    SchedulerDriver(std::uint64_t n_tasks, int n_workers, SchedulerOptions options,
                    const std::vector<TaskStatus>& initial = {}, bool retry_failed = false)
        : options_(options),
          scheduler_(n_tasks, ranks(n_workers), options, SettledTasks::from_statuses(initial), retry_failed),
          n_tasks_(n_tasks),
          accepted_(n_tasks, 0),
          failed_for_good_(n_tasks, 0),
          live_failures_(n_tasks, 0),
          settled_(n_tasks, false) {
        for (int w = 1; w <= n_workers; ++w) held_[w];
        for (std::uint64_t t = 0; t < n_tasks; ++t) {
            settled_[t] = scheduler_.status(TaskId(t)) != TaskStatus::Pending;
        }
        scheduler_.check_invariants();
    }

    Scheduler& scheduler() { return scheduler_; }
    const Scheduler& scheduler() const { return scheduler_; }

    Assignments assign(Seconds now) {
        Assignments out = scheduler_.assign(now);
        for (const Assignment& a : out) {
            const int w = a.worker.value();
            auto found = held_.find(w);
            if (found == held_.end()) violation("assignment to unknown worker " + std::to_string(w));
            if (retired_.count(w) != 0) violation("assignment to retired worker " + std::to_string(w));
            for (const HeldCopy& c : found->second) {
                if (c.task == a.task.value()) {
                    violation("worker " + std::to_string(w) + " got a second copy of task " +
                              std::to_string(c.task));
                }
            }
            if (a.attempt < 1) violation("attempt numbers start at 1");
            if (settled_[a.task.value()]) {
                violation("settled task " + std::to_string(a.task.value()) + " dispatched again");
            }
            found->second.push_back(HeldCopy{a.task.value(), false});
            if (found->second.size() > static_cast<std::size_t>(max_prefetch_) + 1) {
                violation("worker " + std::to_string(w) + " holds more than 1 + prefetch copies");
            }
            if (a.moved_from) {
                if (!a.speculative) violation("a moved copy must be reported as speculative");
                mark_cancelled(Cancellation{*a.moved_from, a.task});
            }
        }
        after_event();
        if (!drained_ && !deadline_) check_no_slot_left_free();
        return out;
    }

    DoneOutcome done(int worker, std::uint64_t task, Seconds now) {
        const bool was_settled = settled_[task];
        take(worker, task);
        DoneOutcome out = scheduler_.on_done(WorkerId(worker), TaskId(task), now);
        if (out.accepted == was_settled) {
            violation("a result for task " + std::to_string(task) +
                      (was_settled ? " was accepted after it settled" : " was dropped before it settled"));
        }
        if (out.accepted) {
            settled_[task] = true;
            if (++accepted_[task] > 1) violation("task " + std::to_string(task) + " accepted twice");
            if (failed_for_good_[task] != 0) {
                violation("task " + std::to_string(task) + " accepted after failing for good");
            }
            if (scheduler_.status(TaskId(task)) != TaskStatus::Done) violation("accepted but not done");
            if (out.attempts < 1)
                violation("task " + std::to_string(task) + " done, but its attempts read 0");
        } else {
            ++duplicates_;
        }
        for (const Cancellation& c : out.cancels) mark_cancelled(c);
        after_event();
        return out;
    }

    FailOutcome fail(int worker, std::uint64_t task, Seconds now) {
        const bool cancel_sent = take(worker, task);
        const bool counts = !cancel_sent && !settled_[task];  // a failure that counts
        if (counts) ++live_failures_[task];
        FailOutcome out = scheduler_.on_failed(WorkerId(worker), TaskId(task), now);
        if ((out.verdict == FailVerdict::Ignored) == counts) {
            violation("failure of task " + std::to_string(task) +
                      (counts ? " ignored" : " counted though cancelled or settled"));
        }
        const bool at_limit = live_failures_[task] >= options_.max_attempts;
        if ((out.verdict == FailVerdict::FailedForGood && !at_limit) ||
            (out.verdict == FailVerdict::Retry && at_limit)) {
            violation("task " + std::to_string(task) + " has failed " + std::to_string(live_failures_[task]) +
                      " times: wrong verdict");
        }
        if (out.verdict != FailVerdict::Ignored && out.attempts < live_failures_[task]) {
            violation("task " + std::to_string(task) + " failed " + std::to_string(live_failures_[task]) +
                      " times in " + std::to_string(out.attempts) + " attempts");
        }
        if (out.verdict == FailVerdict::FailedForGood) {
            settled_[task] = true;
            if (++failed_for_good_[task] > 1) violation("task " + std::to_string(task) + " failed twice");
            if (accepted_[task] != 0) violation("task " + std::to_string(task) + " failed after done");
            if (scheduler_.status(TaskId(task)) != TaskStatus::Failed) violation("failed but not failed");
        }
        if (out.worker_retired) {
            if (!retired_.insert(worker).second) violation("worker retired twice");
        }
        for (const Cancellation& c : out.cancels) mark_cancelled(c);
        after_event();
        return out;
    }

    void cancelled(int worker, std::uint64_t task, Seconds now) {
        take(worker, task);
        scheduler_.on_cancelled(WorkerId(worker), TaskId(task), now);
        after_event();
    }

    std::vector<Cancellation> retire(int worker) {
        std::vector<Cancellation> out = scheduler_.retire(WorkerId(worker));
        retired_.insert(worker);
        for (const Cancellation& c : out) mark_cancelled(c);
        after_event();
        return out;
    }

    std::vector<Cancellation> drain() {
        std::vector<Cancellation> out = scheduler_.drain();
        drained_ = true;
        for (const Cancellation& c : out) mark_cancelled(c);
        after_event();
        return out;
    }

    /// Queues above the new depth keep their copies; a worker gets more once below it.
    void set_prefetch(int prefetch) {
        scheduler_.set_prefetch(prefetch);
        options_.prefetch = prefetch;
        max_prefetch_ = std::max(max_prefetch_, prefetch);
        after_event();
    }

    /// A deadline leaves slots free on purpose: the free-slot check is off from now on.
    void set_deadline(Seconds stop_by) {
        deadline_ = true;
        scheduler_.set_deadline(stop_by);
        after_event();
    }

    /// What the worker holds, in the order it runs them.
    const std::deque<HeldCopy>& held(int worker) const { return held_.at(worker); }
    std::vector<std::uint64_t> held_tasks(int worker) const {
        std::vector<std::uint64_t> tasks;
        for (const HeldCopy& c : held_.at(worker)) tasks.push_back(c.task);
        return tasks;
    }
    std::size_t copies_held() const {
        std::size_t n = 0;
        for (const auto& entry : held_) n += entry.second.size();
        return n;
    }
    bool is_retired(int worker) const { return retired_.count(worker) != 0; }
    int accepted(std::uint64_t task) const { return accepted_[task]; }
    int failed_for_good(std::uint64_t task) const { return failed_for_good_[task]; }
    std::uint64_t duplicates() const { return duplicates_; }

private:
    static std::vector<WorkerId> ranks(int n) {
        std::vector<WorkerId> ids;
        for (int w = 1; w <= n; ++w) ids.emplace_back(w);
        return ids;
    }

    [[noreturn]] static void violation(const std::string& what) {
        throw std::runtime_error("scheduler driver: " + what);
    }

    /// Removes the copy the worker answers; returns whether it had been told to cancel it.
    bool take(int worker, std::uint64_t task) {
        auto& queue = held_.at(worker);
        for (auto it = queue.begin(); it != queue.end(); ++it) {
            if (it->task == task) {
                const bool cancel_sent = it->cancel_sent;
                queue.erase(it);
                return cancel_sent;
            }
        }
        violation("test bug: worker " + std::to_string(worker) + " does not hold task " +
                  std::to_string(task));
    }

    /// After assign, no active worker has a free slot while a pending task it does not hold
    /// waits.
    void check_no_slot_left_free() const {
        for (const auto& [w, queue] : held_) {
            if (retired_.count(w) != 0 || queue.size() > static_cast<std::size_t>(options_.prefetch)) {
                continue;
            }
            for (std::uint64_t t = 0; t < n_tasks_; ++t) {
                if (settled_[t] || scheduler_.is_held(TaskId(t))) continue;
                bool holds = false;
                for (const HeldCopy& c : queue) holds = holds || c.task == t;
                if (!holds) {
                    violation("worker " + std::to_string(w) + " has a free slot but pending task " +
                              std::to_string(t) + " was not given to it");
                }
            }
        }
    }

    void mark_cancelled(const Cancellation& c) {
        auto found = held_.find(c.worker.value());
        if (found != held_.end()) {
            for (HeldCopy& copy : found->second) {
                if (copy.task != c.task.value()) continue;
                if (copy.cancel_sent) {
                    violation("task " + std::to_string(copy.task) + " cancelled twice on worker " +
                              std::to_string(c.worker.value()));
                }
                copy.cancel_sent = true;
                return;
            }
        }
        violation("cancellation for task " + std::to_string(c.task.value()) + " that worker " +
                  std::to_string(c.worker.value()) + " does not hold");
    }

    void after_event() {
        scheduler_.check_invariants();
        // A task is held exactly when some worker holds a copy not told to cancel.
        std::vector<bool> live(n_tasks_, false);
        for (const auto& entry : held_) {
            for (const HeldCopy& c : entry.second) live[c.task] = live[c.task] || !c.cancel_sent;
        }
        for (std::uint64_t t = 0; t < n_tasks_; ++t) {
            if (scheduler_.is_held(TaskId(t)) != live[t]) {
                violation("task " + std::to_string(t) +
                          (live[t] ? " has a live copy but is not held" : " is held without a live copy"));
            }
            const bool settled = scheduler_.status(TaskId(t)) != TaskStatus::Pending;
            if (settled != settled_[t]) violation("task " + std::to_string(t) + " settled unseen");
        }
        const SchedulerCounts c = scheduler_.counts();
        if (c.in_flight != copies_held()) {
            violation("scheduler counts " + std::to_string(c.in_flight) + " copies in flight, workers hold " +
                      std::to_string(copies_held()));
        }
        if (c.pending + c.running + c.done + c.failed != c.total) violation("counts do not add up");
    }

    SchedulerOptions options_;
    int max_prefetch_ = options_.prefetch;  // queues may hold 1 + this after a lowering
    Scheduler scheduler_;
    std::uint64_t n_tasks_;
    std::map<int, std::deque<HeldCopy>> held_;
    std::set<int> retired_;
    std::vector<int> accepted_, failed_for_good_;
    std::vector<int> live_failures_;  // failures that count, per task
    std::vector<bool> settled_;       // as seen from outside: initial, accepted, failed for good
    std::uint64_t duplicates_ = 0;
    bool drained_ = false;
    bool deadline_ = false;
};

}  // namespace mpisweep::testing
