#include "cli/running_copies.hpp"

#include <algorithm>

namespace mpisweep::cli {

std::optional<LiveCopy> RunningCopies::sent(const TaskEvent& e, double now) {
    std::deque<LiveCopy>& queue = queues_[e.worker];
    LiveCopy copy;
    copy.task = e.task.value();
    copy.attempt = e.attempt;
    copy.worker = e.worker;
    copy.host = std::string(e.host);
    copy.device = e.device;
    copy.speculative = e.speculative;
    copy.sent = now;
    if (queue.empty()) copy.started = now;
    queue.push_back(copy);
    if (copy.started > 0) return copy;
    return std::nullopt;
}

std::optional<LiveCopy> RunningCopies::answered(const TaskEvent& e, double now) {
    last_started_ = 0;
    auto found = queues_.find(e.worker);
    if (found == queues_.end()) return std::nullopt;
    std::deque<LiveCopy>& queue = found->second;
    const auto it = std::find_if(queue.begin(), queue.end(), [&](const LiveCopy& c) {
        return c.task == e.task.value() && c.attempt == e.attempt;
    });
    if (it == queue.end()) return std::nullopt;
    const bool was_running = it == queue.begin();
    last_started_ = it->started;
    queue.erase(it);
    if (!was_running || queue.empty() || queue.front().started > 0) return std::nullopt;
    queue.front().started = now;
    return queue.front();
}

std::vector<LiveCopy> RunningCopies::all() const {
    std::vector<LiveCopy> out;
    for (const auto& [rank, queue] : queues_) out.insert(out.end(), queue.begin(), queue.end());
    return out;
}

}  // namespace mpisweep::cli
