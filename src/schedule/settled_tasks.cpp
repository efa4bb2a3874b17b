#include "schedule/settled_tasks.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mpisweep {
namespace {

bool is_valid(TaskStatus s) {
    return s == TaskStatus::Pending || s == TaskStatus::Done || s == TaskStatus::Failed;
}

[[noreturn]] void bad_status(std::uint64_t task, TaskStatus s) {
    throw std::invalid_argument("settled tasks: status of task " + std::to_string(task) + " is " +
                                std::to_string(static_cast<int>(s)) +
                                ", expected pending (0), done (1) or failed (2)");
}

}  // namespace

void SettledTasks::add(std::uint64_t first, std::uint64_t count, TaskStatus status) {
    if (status != TaskStatus::Done && status != TaskStatus::Failed) {
        throw std::invalid_argument("settled tasks: a run of task " + std::to_string(first) +
                                    " must be done or failed, got status " +
                                    std::to_string(static_cast<int>(status)));
    }
    if (count == 0 || first + count < first) {
        throw std::invalid_argument("settled tasks: a run from task " + std::to_string(first) + " of " +
                                    std::to_string(count) + " tasks");
    }
    if (!runs_.empty() && first < runs_.back().end()) {
        throw std::invalid_argument("settled tasks: task " + std::to_string(first) + " comes after task " +
                                    std::to_string(runs_.back().end() - 1) +
                                    "; runs must be added in increasing id order");
    }
    (status == TaskStatus::Done ? done_ : failed_) += count;
    if (!runs_.empty() && runs_.back().end() == first && runs_.back().status == status) {
        runs_.back().count += count;
        return;
    }
    runs_.push_back(SettledRun{first, count, status});
}

SettledTasks SettledTasks::from_pairs(std::vector<std::pair<TaskId, TaskStatus>> pairs) {
    for (const auto& [task, status] : pairs) {
        if (!is_valid(status)) bad_status(task.value(), status);
    }
    // Stable: among pairs of one id, the last one given stays last.
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    SettledTasks out;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        if (i + 1 < pairs.size() && pairs[i + 1].first == pairs[i].first) continue;  // a later one wins
        if (pairs[i].second != TaskStatus::Pending) out.add(pairs[i].first, pairs[i].second);
    }
    return out;
}

SettledTasks SettledTasks::from_statuses(const std::vector<TaskStatus>& statuses) {
    SettledTasks out;
    for (std::uint64_t t = 0; t < statuses.size(); ++t) {
        const TaskStatus s = statuses[t];
        if (!is_valid(s)) bad_status(t, s);
        if (s != TaskStatus::Pending) out.add(t, 1, s);
    }
    return out;
}

SettledTasks SettledTasks::without_failed() const {
    SettledTasks out;
    for (const SettledRun& run : runs_) {
        if (run.status == TaskStatus::Done) out.add(run.first, run.count, run.status);
    }
    return out;
}

std::size_t SettledTasks::run_after(std::uint64_t task) const {
    const auto it = std::upper_bound(runs_.begin(), runs_.end(), task,
                                     [](std::uint64_t t, const SettledRun& run) { return t < run.end(); });
    return static_cast<std::size_t>(it - runs_.begin());
}

TaskStatus SettledTasks::status(std::uint64_t task) const {
    const std::size_t i = run_after(task);
    if (i < runs_.size() && runs_[i].first <= task) return runs_[i].status;
    return TaskStatus::Pending;
}

}  // namespace mpisweep
