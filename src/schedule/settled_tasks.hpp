#pragma once
// The tasks a results file already settled, as sorted runs of consecutive ids with one
// status: what a resume hands the scheduler. Its size follows the settled tasks (a prefix
// of 10^9 done tasks is one run), never the grid, so that a 10^15-point grid resumed with
// 10^6 settled tasks costs ~10^6.
#include <cstdint>
#include <utility>
#include <vector>

#include "mpisweep/ids.hpp"
#include "schedule/task_status.hpp"

namespace mpisweep {

/// Tasks first .. first + count - 1, all done or all failed.
struct SettledRun {
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    TaskStatus status = TaskStatus::Done;

    std::uint64_t end() const { return first + count; }
};

class SettledTasks {
public:
    /// Appends `count` tasks from `first` on with `status` (Done or Failed). Runs must come in
    /// increasing id order without overlap; a run that continues the last one with the same
    /// status extends it. Throws std::invalid_argument otherwise, or for a count of 0.
    void add(std::uint64_t first, std::uint64_t count, TaskStatus status);
    void add(TaskId task, TaskStatus status) { add(task.value(), 1, status); }

    /// From (id, status) pairs in any order, Pending ones skipped; when an id comes twice, the
    /// last pair wins (a journal replayed over the file). Throws std::invalid_argument for a
    /// status that is not pending, done or failed.
    static SettledTasks from_pairs(std::vector<std::pair<TaskId, TaskStatus>> pairs);
    /// From one status per task (the results file's /tasks/status column): task i has
    /// statuses[i]. Throws std::invalid_argument for a status that is not 0, 1 or 2.
    static SettledTasks from_statuses(const std::vector<TaskStatus>& statuses);

    /// The same tasks less the failed ones (a resume with retry_failed runs them again).
    SettledTasks without_failed() const;

    const std::vector<SettledRun>& runs() const { return runs_; }
    bool empty() const { return runs_.empty(); }
    std::uint64_t done() const { return done_; }
    std::uint64_t failed() const { return failed_; }
    /// One past the highest settled id; 0 when empty.
    std::uint64_t end() const { return runs_.empty() ? 0 : runs_.back().end(); }
    /// Done, Failed, or Pending when not listed: O(log runs).
    TaskStatus status(std::uint64_t task) const;
    /// The index of the first run that ends after `task` (runs().size() if none): the run
    /// holding `task`, or the next one above it.
    std::size_t run_after(std::uint64_t task) const;

private:
    std::vector<SettledRun> runs_;
    std::uint64_t done_ = 0, failed_ = 0;
};

}  // namespace mpisweep
