// Speculation: when nothing is pending, an idle worker takes a copy of the held task with the
// largest estimated time left: a copy queued behind others on a busy worker (moved), or a
// running copy overdue by speculate_after x the median duration (duplicated, within caps).
#include <algorithm>
#include <limits>

#include "schedule/scheduler_impl.hpp"

namespace mpisweep {

void Scheduler::Impl::speculate_on_idle(Seconds now, Assignments& out) {
    const bool quiet = generation == quiet_generation && now < quiet_until;
    if (!options.speculate || counts.pending != 0 || free.workers_at(0).empty() || quiet) return;
    const std::vector<std::int32_t> idle = free.workers_at(0).members();
    for (std::int32_t w : idle) {
        if (!fits_deadline(w, now)) break;
        Seconds wake = 0;
        const std::optional<SpeculationChoice> choice = best_speculation(now, wake);
        if (!choice) {
            quiet_generation = generation;
            quiet_until = wake;
            break;
        }
        if (!admit(w, choice->task, true, now)) continue;  // no room for it there: try the next idle worker
        speculate(w, *choice, now, out);
    }
    refresh_stale_levels();
}

/// A task's estimate is that of its best copy. `wake` gets the earliest time a running copy
/// not yet overdue becomes overdue. Called for each idle worker at a sweep's tail, over every
/// copy held: a task with one copy (no record) is offered as it is met, and only tasks with a
/// record, which may have several, go through a map (a map entry per copy held was most of
/// the master's time at the tail of a sweep of tiny tasks).
std::optional<SpeculationChoice> Scheduler::Impl::best_speculation(Seconds now, Seconds& wake) const {
    wake = std::numeric_limits<Seconds>::infinity();
    const std::optional<Seconds> med = median();
    const double m = med.value_or(0.0);
    const auto max_live = static_cast<std::size_t>(options.max_copies) + 1;
    std::optional<SpeculationChoice> choice;
    const auto offer = [&](std::uint64_t task, const SpeculationChoice& c, bool qualifies) {
        if (!qualifies) return;
        if (c.queued_on < 0 && (live_extra >= speculative_cap || live_holders(task) >= max_live)) return;
        if (!choice || c.left > choice->left || (c.left == choice->left && task < choice->task)) choice = c;
    };
    struct Best {
        SpeculationChoice copy;
        bool qualifies;
    };
    std::unordered_map<std::uint64_t, Best> several;  // tasks with a record: their best copy so far
    for (std::size_t w = 0; w < workers.size(); ++w) {
        const WorkerState& ws = workers[w];
        double ahead = 0;  // seconds until the live copies ahead are done
        for (std::size_t i = 0; i < ws.queue.size(); ++i) {
            const Copy& c = ws.queue[i];
            if (c.cancelled) continue;  // stops at once
            Best here{SpeculationChoice{c.task, 0, -1, static_cast<std::int32_t>(w)}, true};
            if (i == 0) {
                const double elapsed = now - front_start(ws);
                // An overdue task is expected to take as long again.
                here.copy.left = elapsed < m ? m - elapsed : elapsed;
                here.qualifies = med.has_value() && elapsed > options.speculate_after * m;
                if (med && !here.qualifies)
                    wake = std::min(wake, front_start(ws) + options.speculate_after * m);
            } else {
                here.copy.left = ahead + m;  // an idle worker can start it now
                here.copy.queued_on = static_cast<std::int32_t>(w);
            }
            ahead = here.copy.left;
            if (!tracked(c.task)) {
                offer(c.task, here.copy, here.qualifies);
                continue;
            }
            auto [it, fresh] = several.try_emplace(c.task, here);
            if (!fresh && here.copy.left < it->second.copy.left) it->second = here;
        }
    }
    for (const auto& [task, b] : several) offer(task, b.copy, b.qualifies);
    return choice;
}

void Scheduler::Impl::speculate(std::int32_t idle, const SpeculationChoice& choice, Seconds now,
                                Assignments& out) {
    ++counts.speculative_started;
    // A second copy: the task needs its record (holders) from now on.
    TaskRecord& rec = track(choice.task, choice.holder);
    if (choice.queued_on < 0) {
        place_copy(idle, choice.task, now, ++rec.attempts, true, true, out);
        return;
    }
    const std::int32_t from = choice.queued_on;
    const std::size_t idx = locate(from, choice.task);
    const Copy original = worker(from).queue[idx];
    // Place first, so the task never looks unheld in between.
    Assignment& a = place_copy(idle, choice.task, now, original.attempt, true, original.extra, out);
    cancel_copy(from, idx, false);
    a.moved_from = worker(from).id;
}

}  // namespace mpisweep
