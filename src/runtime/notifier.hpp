#pragma once
// Calls the Observer of Options::observer, or nothing when there is none, and swallows what
// an observer throws (observer.hpp promises run() carries on). Cheap when unused: the
// per-task calls are one test and one virtual call.
#include <memory>
#include <string>
#include <string_view>

#include "mpisweep/observer.hpp"

namespace mpisweep {

class Notifier {
public:
    explicit Notifier(std::shared_ptr<Observer> observer)
        : observer_(std::move(observer)),
          wants_results_(observer_ && asks(*observer_, &Observer::wants_results)),
          wants_task_events_(observer_ && asks(*observer_, &Observer::wants_task_events)) {}

    bool active() const { return observer_ != nullptr; }
    /// Asked once: whether on_result is wanted (and parameters must be decoded for it).
    bool wants_results() const { return wants_results_; }
    /// Asked once: whether on_task_started/on_task_finished are wanted (an event per copy).
    bool wants_task_events() const { return wants_task_events_; }

    void message(MessageLevel level, std::string_view text) const noexcept {
        call([&](Observer& o) { o.on_message(level, text); });
    }
    void start(const SweepCounts& counts) const noexcept {
        call([&](Observer& o) { o.on_start(counts); });
    }
    void progress(const SweepCounts& counts, double elapsed_s) const noexcept {
        call([&](Observer& o) { o.on_progress(counts, elapsed_s); });
    }
    void task_started(const TaskEvent& event) const noexcept {
        call([&](Observer& o) { o.on_task_started(event); });
    }
    void task_finished(const TaskEvent& event, TaskOutcome outcome) const noexcept {
        call([&](Observer& o) { o.on_task_finished(event, outcome); });
    }
    void worker_retired(int rank, std::string_view host, std::string_view why) const noexcept {
        call([&](Observer& o) { o.on_worker_retired(rank, host, why); });
    }
    void worker_lost(int rank, std::string_view host, double silent_s) const noexcept {
        call([&](Observer& o) { o.on_worker_lost(rank, host, silent_s); });
    }
    void result(TaskId task, const Point& params, const TaskResult& result) const noexcept {
        call([&](Observer& o) { o.on_result(task, params, result); });
    }
    void end(const SweepCounts& counts, int exit_code) const noexcept {
        call([&](Observer& o) { o.on_end(counts, exit_code); });
    }

private:
    template <class Call>
    void call(Call&& f) const noexcept {
        if (!observer_) return;
        try {
            f(*observer_);
        } catch (...) {  // an observer must not throw; the sweep goes on regardless
        }
    }
    static bool asks(const Observer& o, bool (Observer::*question)() const) noexcept {
        try {
            return (o.*question)();
        } catch (...) {
            return false;
        }
    }

    std::shared_ptr<Observer> observer_;
    bool wants_results_;
    bool wants_task_events_;
};

}  // namespace mpisweep
