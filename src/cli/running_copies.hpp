#pragma once
// Which copies of tasks the workers hold and which of them runs, as rank 0 sees it from the
// observer's events (for --log-tasks: when a queued copy starts). A worker runs the copies it holds one after the other, in the order it
// got them: the oldest it holds is the one running, since it got it (when the worker was
// idle) or since the copy before it was answered. Answers come back within a few
// milliseconds (report batching), so that is when a copy starts, to within that.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mpisweep/observer.hpp"
#include "store/live_view.hpp"

namespace mpisweep::cli {

using store::LiveCopy;

class RunningCopies {
public:
    /// A copy handed to a worker at `now` (unix seconds). Returns it when it starts at once.
    std::optional<LiveCopy> sent(const TaskEvent& event, double now);
    /// A copy answered at `now`; returns the worker's next copy, which starts now, if any.
    std::optional<LiveCopy> answered(const TaskEvent& event, double now);
    /// When the answered copy began to run (0 when unknown: it never reached the front).
    double started_of_last_answered() const { return last_started_; }

    /// Every copy held, running ones (started > 0) and queued ones.
    std::vector<LiveCopy> all() const;

private:
    std::map<int, std::deque<LiveCopy>> queues_;  ///< by worker rank
    double last_started_ = 0;
};

}  // namespace mpisweep::cli
