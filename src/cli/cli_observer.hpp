#pragma once
// What `mpisweep run` shows on rank 0: the lines of StderrObserver and, with --log-tasks, one
// line per task start and finish ("[k/N] task 7 done in 3.2 s on node3 rank 5"). (The live
// view of `status --running` is the runtime's: runtime/master_live.cpp.)
#include <string>

#include "cli/running_copies.hpp"
#include "mpisweep/observer.hpp"

namespace mpisweep::cli {

struct CliObserverOptions {
    bool log_tasks = false;
};

class CliObserver : public StderrObserver {
public:
    explicit CliObserver(CliObserverOptions options);
    /// To `out` instead of std::cerr (tests).
    CliObserver(CliObserverOptions options, std::ostream& out, bool in_place);

    void on_start(const SweepCounts& counts) override;
    void on_progress(const SweepCounts& counts, double elapsed_s) override;
    /// Only --log-tasks prints a line per task (the counts it keeps are for those lines).
    bool wants_task_events() const override { return options_.log_tasks; }
    void on_task_started(const TaskEvent& event) override;
    void on_task_finished(const TaskEvent& event, TaskOutcome outcome) override;

    /// "[3/40] task 7 done in 3.2 s on node3 rank 5", "... started on node3 rank 5", ...
    static std::string start_line(const LiveCopy& copy, std::uint64_t settled, std::uint64_t total);
    static std::string finish_line(const TaskEvent& event, TaskOutcome outcome, std::uint64_t settled,
                                   std::uint64_t total);

private:
    CliObserverOptions options_;
    RunningCopies copies_;  ///< only with log_tasks: when a queued copy starts
    SweepCounts counts_;
};

}  // namespace mpisweep::cli
