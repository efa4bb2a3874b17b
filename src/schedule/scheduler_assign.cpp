// Filling free slots: idle workers first, the lowest pending id first, then breadth-first up
// to the prefetch depth; then speculation for workers still idle.
#include <algorithm>
#include <stdexcept>

#include "schedule/scheduler_impl.hpp"

namespace mpisweep {

/// The lowest pending task that worker `w` holds no copy of (a cancelled copy may still sit
/// there), taken out of the pool.
std::optional<std::uint64_t> Scheduler::Impl::take_pending_for(std::int32_t w) {
    for (auto it = returned.begin(); it != returned.end(); ++it) {
        if (!holds(w, *it)) {
            const std::uint64_t t = *it;
            returned.erase(it);
            return t;
        }
    }
    return tasks.take_fresh();
}

bool Scheduler::Impl::admit(std::int32_t w, std::uint64_t t, bool speculative, Seconds now) {
    if (gate == nullptr || gate->admit(worker(w).id, TaskId(t), speculative, now)) return true;
    if (!speculative) returned.insert(t);  // still pending, first in line
    return false;
}

Assignment& Scheduler::Impl::place_copy(std::int32_t w, std::uint64_t t, Seconds now, int attempt,
                                        bool speculative, bool extra, Assignments& out) {
    WorkerState& ws = worker(w);
    ++generation;
    if (tracked(t)) records.at(t).holders.push_back(w);
    if (state(t) == TaskState::Pending) {
        tasks.set_state(t, TaskState::Running);
        --counts.pending;
        ++counts.running;
    }
    Copy copy;
    copy.task = t;
    copy.dispatched = now;
    copy.attempt = attempt;
    copy.speculative = speculative;
    copy.extra = extra;
    ws.queue.push_back(copy);
    if (extra) ++live_extra;
    ++counts.in_flight;
    free.mark_stale(w);
    return out.emplace_back(Assignment{ws.id, TaskId(t), attempt, speculative, std::nullopt});
}

/// A pending task taken from the pool, as a first copy or a retry.
void Scheduler::Impl::place_pending(std::int32_t w, std::uint64_t t, Seconds now, Assignments& out) {
    const int attempt = tracked(t) ? ++records.at(t).attempts : 1;
    place_copy(w, t, now, attempt, false, false, out);
}

std::size_t Scheduler::Impl::place_fresh(std::int32_t w, std::size_t want, Seconds now, Assignments& out) {
    WorkerState& ws = worker(w);
    Copy copy;
    copy.dispatched = now;
    std::size_t placed = 0;
    while (placed < want) {
        std::uint64_t first = 0;
        const std::uint64_t k = tasks.take_fresh_run(want - placed, first);
        if (k == 0) break;
        tasks.mark_running(first, k);
        counts.pending -= k;
        counts.running += k;
        counts.in_flight += k;
        for (std::uint64_t t = first; t < first + k; ++t) {
            copy.task = t;
            ws.queue.push_back(copy);
            out.push_back(Assignment{ws.id, TaskId(t), 1, false, std::nullopt});
        }
        placed += static_cast<std::size_t>(k);
    }
    if (placed > 0) {
        ++generation;
        free.mark_stale(w);
    }
    return placed;
}

/// Gives worker `w`, holding `level` copies, one copy per level up to `stop` while tasks are
/// pending; returns the level reached (below `stop` if it was skipped there).
std::size_t Scheduler::Impl::fill_alone(std::int32_t w, std::size_t level, std::size_t stop, Seconds now,
                                        Assignments& out) {
    if (level < stop && returned.empty() && !stop_by && gate == nullptr) {
        // The common case: fresh ids in a row, no deadline to check copy by copy.
        return level + place_fresh(w, stop - level, now, out);
    }
    for (; level < stop && counts.pending > 0; ++level) {
        if (!fits_deadline(w, now)) break;
        const std::optional<std::uint64_t> t = take_pending_for(w);
        if (!t || !admit(w, *t, false, now)) break;
        place_pending(w, *t, now, out);
    }
    return level;
}

void Scheduler::Impl::fill_level(std::size_t level, Seconds now, Assignments& out) {
    const WorkerSet& listed = free.workers_at(level);
    const bool carry_up = level + 1 < free.level_count();
    carry_next.clear();
    std::size_t c = 0;
    std::int32_t l = listed.next(0);
    while (counts.pending > 0) {
        // The carried workers and the listed ones, merged by index.
        std::int32_t w;
        if (c < carry.size() && (l < 0 || carry[c] < l)) {
            w = carry[c++];
        } else if (l >= 0) {
            w = l;
            l = listed.next(l + 1);
        } else {
            break;
        }
        if (!fits_deadline(w, now)) {
            if (deadline_reached) return;
            continue;
        }
        const std::optional<std::uint64_t> t = take_pending_for(w);
        if (!t || !admit(w, *t, false, now)) continue;
        place_pending(w, *t, now, out);
        if (carry_up) carry_next.push_back(w);
    }
    carry.swap(carry_next);
}

/// The breadth-first walk below, for fresh tasks only, by counts: every listed worker is raised
/// to a common level (the lowest first; what does not divide evenly goes one more to the first
/// in worker order), and each takes its share as runs of consecutive ids, not one id per visit.
/// Interleaved ids would make each batch a message of 12 bytes a copy instead of a few runs
/// (transport/run_column.hpp), and the file's rows scattered points instead of hyperslabs.
/// Only where workers hold many copies (automatic batching of short tasks): with a few each,
/// runs would be a few ids long anyway, and the walk hands the lowest pending ids out first,
/// one per idle worker, so that a sweep stopped early has settled the lowest ids.
bool Scheduler::Impl::fill_fresh_evenly(Seconds now, Assignments& out) {
    const std::size_t top = free.level_count();  // a worker there holds all it may
    if (top < kEvenFillSlots || !returned.empty() || stop_by || gate != nullptr) return false;
    std::vector<std::pair<std::size_t, std::int32_t>>& listed = listed_scratch;
    listed.clear();
    for (std::size_t level = free.next_level(0); level < top; level = free.next_level(level + 1)) {
        const WorkerSet& at = free.workers_at(level);
        for (std::int32_t w = at.next(0); w >= 0; w = at.next(w + 1)) listed.emplace_back(level, w);
    }
    if (listed.empty()) return true;
    // The water level: the n lowest workers raised from `level` to the next one up, while
    // the pending tasks last.
    std::uint64_t left = counts.pending;
    std::size_t level = listed.front().first, n = 0, extra = 0;
    for (;;) {
        while (n < listed.size() && listed[n].first <= level) ++n;
        const std::size_t next = n < listed.size() ? listed[n].first : top;
        const std::uint64_t cost = static_cast<std::uint64_t>(next - level) * n;
        if (cost >= left) {
            level += static_cast<std::size_t>(left / n);
            extra = static_cast<std::size_t>(left % n);
            break;
        }
        left -= cost;
        level = next;
        if (level == top) break;
    }
    std::sort(listed.begin(), listed.begin() + static_cast<std::ptrdiff_t>(n),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    for (std::size_t i = 0; i < n && counts.pending > 0; ++i) {
        const auto [at, w] = listed[i];
        place_fresh(w, level - at + (i < extra ? 1 : 0), now, out);
    }
    return true;
}

/// Breadth-first: every worker with k copies gets one before any gets k + 2, in worker order
/// within a level. Levels are not updated during the walk: the workers given a copy at level
/// k are carried to k + 1 and merged (by index) with those listed there.
void Scheduler::Impl::fill_free_slots(Seconds now, Assignments& out) {
    if (fill_fresh_evenly(now, out)) return;
    const std::size_t end = free.level_count();
    carry.clear();
    for (std::size_t level = free.next_level(0); level < end && counts.pending > 0;) {
        if (carry.size() == 1 && free.next_level(level) > level) {
            // One worker carried up through levels where no other is listed (batching: one
            // worker refilled by hundreds of copies): it takes one per level, so fill it up
            // to the next listed level in one go.
            const std::size_t stop = free.next_level(level);
            level = fill_alone(carry[0], level, stop, now, out);
            if (deadline_reached) return;
            if (level < stop && counts.pending > 0) {
                // Skipped at `level`: it stays there, and the walk goes on above.
                carry.clear();
                level = free.next_level(level + 1);
            }
            continue;
        }
        fill_level(level, now, out);
        if (deadline_reached) return;
        level = carry.empty() ? free.next_level(level + 1) : level + 1;
    }
}

Assignments Scheduler::assign(Seconds now) {
    Assignments out;
    impl_->assign(now, out);
    return out;
}

void Scheduler::assign(Seconds now, Assignments& out) {
    if (impl_->nothing_to_assign()) return;  // the master's poll, when nothing changed
    impl_->assign(now, out);
}

void Scheduler::Impl::assign(Seconds now, Assignments& out) {
    if (nothing_to_assign() || gate_unchanged()) return;
    if (draining || deadline_reached) {
        refresh_stale_levels();
        return;
    }
    const std::vector<std::int32_t>& stale = free.stale_workers();
    const std::int32_t lone = stale.size() == 1 ? stale[0] : -1;
    const WorkerState* ws = lone >= 0 ? &worker(lone) : nullptr;
    if (ws != nullptr && free.listed() == (free.level_of(lone) >= 0 ? 1U : 0U) && !ws->retired &&
        ws->queue.size() <= static_cast<std::size_t>(options.prefetch)) {
        // One copy answered (one task per message) and no other worker has a free slot: the
        // walk below would give it copies up to its limit; do that directly.
        fill_alone(lone, ws->queue.size(), free.level_count(), now, out);
    } else {
        refresh_stale_levels();
        if (free.listed() > 0) fill_free_slots(now, out);
    }
    refresh_stale_levels();
    if (deadline_reached) return;
    if (options.speculate && counts.pending == 0) speculate_on_idle(now, out);
    if (gate != nullptr) {
        gate_seen = true;
        gate_seen_version = gate->version();
        gate_seen_generation = generation;
    }
}

void Scheduler::set_gate(AdmissionGate* gate) {
    impl_->gate = gate;
    impl_->gate_seen = false;
}

void Scheduler::Impl::set_prefetch(int prefetch) {
    if (prefetch < 0) {
        throw std::invalid_argument(
            detail::concat("scheduler option prefetch must be at least 0, got ", prefetch));
    }
    if (prefetch == options.prefetch) return;
    options.prefetch = prefetch;
    max_prefetch_seen = std::max(max_prefetch_seen, prefetch);
    free.reset(prefetch);
    for (std::size_t w = 0; w < workers.size(); ++w) refresh_free_level(static_cast<std::int32_t>(w));
}

}  // namespace mpisweep
