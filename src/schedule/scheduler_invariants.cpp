// The scheduler's invariants, checked by tests after every event: task states against the
// counters and the pool, each held copy against its task's record, workers listed under the
// right number of free slots. O(tasks dispatched + settled runs + held copies + workers):
// a 10^15-task scheduler is checked as fast as a small one that dispatched as much.
#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "schedule/scheduler_impl.hpp"

namespace mpisweep {

using detail::concat;

void detail::invariant_broken(const std::string& what) {
    throw std::logic_error("scheduler invariant broken: " + what);
}

namespace {
[[noreturn]] void broken(const std::string& what) {
    detail::invariant_broken(what);
}
}  // namespace

struct Scheduler::Impl::Census {
    std::uint64_t by_state[4] = {0, 0, 0, 0};
    std::uint64_t pending_fresh = 0, pending_returned = 0, tracked = 0, running_untracked = 0;
    std::uint64_t paged = 0, paged_below_cursor = 0;                      // ids with a byte
    std::uint64_t settled_outside = 0, settled_outside_below_cursor = 0;  // ids without
    std::unordered_map<std::uint64_t, std::size_t> live_copies;           // per task
    std::unordered_map<std::uint64_t, std::size_t> untracked_copies;
    std::uint64_t in_flight = 0;
    int extra = 0, retired = 0;
};

void Scheduler::Impl::check_invariants() const {
    Census census;
    check_task_states(census);
    check_workers(census);
    check_levels();
    check_records(census);
}

/// Counters match the bytes, and the pool is exactly the pending tasks below the cursor.
void Scheduler::Impl::check_task_states(Census& census) const {
    if (tasks.cursor() > n_tasks()) broken(concat("the cursor is at ", tasks.cursor(), " of ", n_tasks()));
    count_pages(census);
    count_settled_runs(census);
    // Ids without a byte are settled before the run, or fresh: above the cursor.
    const std::uint64_t outside = n_tasks() - census.paged;
    const std::uint64_t outside_below_cursor = tasks.cursor() - census.paged_below_cursor;
    if (outside_below_cursor != census.settled_outside_below_cursor) {
        broken(concat(outside_below_cursor, " tasks below the cursor have no byte, but only ",
                      census.settled_outside_below_cursor, " of them were settled before the run"));
    }
    census.pending_fresh += outside - census.settled_outside;
    census.by_state[static_cast<int>(TaskState::Pending)] += outside - census.settled_outside;
    check_pool(census);
}

void Scheduler::Impl::count_pages(Census& census) const {
    const auto& pages = tasks.pages();
    const std::uint64_t cursor = tasks.cursor();
    for (std::size_t i = 0; i < pages.size(); ++i) {
        if (!pages[i]) continue;
        const std::uint64_t begin = (tasks.first_page() + i) << tasks.page_bits();
        const std::uint64_t end = std::min(n_tasks(), begin + (std::uint64_t{1} << tasks.page_bits()));
        census.paged += end - begin;
        census.paged_below_cursor += std::min(end, std::max(begin, cursor)) - begin;
        for (std::uint64_t t = begin; t < end; ++t) {
            const std::uint8_t raw = pages[i][t - begin];
            if ((raw & ~(kStateMask | kTracked)) != 0)
                broken(concat("task ", t, " has state byte ", int(raw)));
            const auto s = static_cast<TaskState>(raw & kStateMask);
            ++census.by_state[static_cast<int>(s)];
            const bool is_tracked = (raw & kTracked) != 0;
            if (is_tracked && records.count(t) == 0)
                broken(concat("task ", t, " is marked tracked but has no record"));
            census.tracked += is_tracked;
            if (s == TaskState::Pending) {
                if (t >= cursor) {
                    ++census.pending_fresh;
                } else if (returned.count(t) == 0) {
                    broken(concat("pending task ", t, " is below the cursor but not in the pool"));
                } else {
                    ++census.pending_returned;
                }
            } else if (s == TaskState::Running) {
                if (t >= cursor)
                    broken(concat("task ", t, " runs but the cursor (", cursor, ") never passed it"));
                if (is_tracked && records.at(t).holders.empty())
                    broken(concat("task ", t, " is running but no worker holds a live copy"));
                census.running_untracked += !is_tracked;
            }
        }
    }
}

/// Tasks settled before the run: those with a byte keep the run's status (counted with the
/// pages), the others are counted here.
void Scheduler::Impl::count_settled_runs(Census& census) const {
    const auto& pages = tasks.pages();
    const std::uint64_t first_page = tasks.first_page(), cursor = tasks.cursor();
    for (const SettledRun& run : tasks.settled_before().runs()) {
        std::uint64_t paged = 0, paged_below_cursor = 0;
        const unsigned bits = tasks.page_bits();
        const std::uint64_t last_page = (run.end() - 1) >> bits;
        std::uint64_t p = std::max(first_page, run.first >> bits);
        for (; p <= last_page && p - first_page < pages.size(); ++p) {
            const std::uint8_t* page = pages[static_cast<std::size_t>(p - first_page)].get();
            if (page == nullptr) continue;
            const std::uint64_t begin = std::max(run.first, p << bits);
            const std::uint64_t end = std::min(run.end(), (p + 1) << bits);
            for (std::uint64_t t = begin; t < end; ++t) {
                if (page[t - (p << bits)] != static_cast<std::uint8_t>(run.status))
                    broken(concat("task ", t, ", settled before the run, changed its state"));
            }
            paged += end - begin;
            paged_below_cursor += std::min(end, std::max(begin, cursor)) - begin;
        }
        const std::uint64_t outside = run.count - paged;
        census.settled_outside += outside;
        census.by_state[static_cast<int>(run.status)] += outside;
        const std::uint64_t below = std::min(run.end(), std::max(run.first, cursor)) - run.first;
        census.settled_outside_below_cursor += below - paged_below_cursor;
    }
}

void Scheduler::Impl::check_pool(const Census& census) const {
    if (census.tracked != records.size()) {
        broken(concat(records.size(), " task records, but ", census.tracked, " tasks marked tracked"));
    }
    if (census.pending_returned != returned.size()) {
        for (std::uint64_t t : returned) {
            if (t >= tasks.cursor() || state(t) != TaskState::Pending) {
                broken(concat("the pool holds task ", t, ", which is not pending below the cursor"));
            }
        }
    }
    if (census.pending_fresh != tasks.fresh_pending()) {
        broken(concat(census.pending_fresh, " fresh pending tasks, counter says ", tasks.fresh_pending()));
    }
    const std::uint64_t* by = census.by_state;
    const std::uint64_t pending = by[0], done = by[1], failed = by[2], running = by[3];
    if (pending != counts.pending || done != counts.done || failed != counts.failed ||
        running != counts.running) {
        broken(concat("counts (pending ", counts.pending, ", running ", counts.running, ", done ",
                      counts.done, ", failed ", counts.failed, ") differ from task states (", pending, ", ",
                      running, ", ", done, ", ", failed, ")"));
    }
    if (counts.pending + counts.running + counts.done + counts.failed != counts.total ||
        counts.total != n_tasks()) {
        broken(concat("counts do not add up to the ", n_tasks(), " tasks"));
    }
}

/// Queues within bounds, each live copy listed by its task's record; an untracked task has
/// one copy in all, live, and runs.
void Scheduler::Impl::check_workers(Census& census) const {
    for (std::size_t w = 0; w < workers.size(); ++w) check_queue(static_cast<std::int32_t>(w), census);
    if (census.in_flight != counts.in_flight)
        broken(concat(census.in_flight, " copies held, counter says ", counts.in_flight));
    if (census.retired != counts.retired)
        broken(concat(census.retired, " workers retired, counter says ", counts.retired));
    if (census.extra != live_extra)
        broken(concat(census.extra, " live duplicates, counter says ", live_extra));
    if (live_extra > speculative_cap)
        broken(concat(live_extra, " speculative copies running, at most ", speculative_cap));
    if (census.running_untracked != census.untracked_copies.size()) {
        broken(concat(census.running_untracked, " untracked tasks run, but ", census.untracked_copies.size(),
                      " untracked tasks are held"));
    }
}

void Scheduler::Impl::check_queue(std::int32_t w, Census& census) const {
    const WorkerState& ws = worker(w);
    census.in_flight += ws.queue.size();
    census.retired += ws.retired;
    const auto max_queue = static_cast<std::size_t>(max_prefetch_seen) + 1;
    if (ws.queue.size() > max_queue)
        broken(
            concat("worker ", ws.id, " holds ", ws.queue.size(), " copies, at most ", max_queue, " allowed"));
    for (std::size_t i = 0; i < ws.queue.size(); ++i) {
        const Copy& c = ws.queue[i];
        if (c.task >= n_tasks()) broken(concat("worker ", ws.id, " holds unknown task ", c.task));
        for (std::size_t j = i + 1; j < ws.queue.size(); ++j) {
            if (ws.queue[j].task == c.task)
                broken(concat("worker ", ws.id, " holds two copies of task ", c.task));
        }
        // A settled task has no record: its cancelled copies may remain.
        if (!tracked(c.task) && !is_settled(state(c.task))) {
            if (c.cancelled || state(c.task) != TaskState::Running) {
                broken(concat("untracked task ", c.task, " has a copy on worker ", ws.id,
                              " that is cancelled, or it does not run"));
            }
            if (++census.untracked_copies[c.task] > 1)
                broken(concat("untracked task ", c.task, " has more than one copy"));
        }
        if (c.cancelled) continue;
        if (draining) broken(concat("draining, but worker ", ws.id, " holds live task ", c.task));
        if (ws.retired && i > 0)
            broken(concat("retired worker ", ws.id, " still has task ", c.task, " queued"));
        if (state(c.task) != TaskState::Running) {
            broken(concat("worker ", ws.id, " holds a live copy of task ", c.task,
                          ", which is not running (state ", int(tasks.byte(c.task)), ")"));
        }
        if (tracked(c.task)) {
            const auto& holders = records.at(c.task).holders;
            if (std::find(holders.begin(), holders.end(), w) == holders.end())
                broken(concat("task ", c.task, " does not list worker ", ws.id, " as a holder"));
        }
        ++census.live_copies[c.task];
        census.extra += c.extra;
    }
}

/// Each active worker with a free slot is listed under its number of copies, unless marked
/// stale (relisted at the next assign()).
void Scheduler::Impl::check_levels() const {
    const auto& stale = free.stale_workers();
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const auto w = static_cast<std::int32_t>(i);
        const int want = wanted_level(w);
        if (free.is_stale(w)) {
            if (std::find(stale.begin(), stale.end(), w) == stale.end())
                broken(concat("worker ", workers[i].id, " has a stale level but is not listed as such"));
        } else if (free.level_of(w) != want ||
                   (want >= 0 && free.workers_at(static_cast<std::size_t>(want)).count(w) == 0)) {
            broken(concat("worker ", workers[i].id, " is listed under the wrong number of free slots"));
        }
    }
    std::size_t listed = 0;
    for (std::size_t level = 0; level < free.levels_allocated(); ++level) {
        const WorkerSet& set = free.workers_at(level);
        listed += set.size();
        if (free.level_bit(level) == set.empty())
            broken(concat("the free-level bitmap is wrong at level ", level));
        for (std::int32_t w : set.members()) {
            if (free.level_of(w) != static_cast<int>(level))
                broken(concat("worker ", worker(w).id, " is listed with ", level, " copies by mistake"));
        }
    }
    if (listed != free.listed())
        broken(concat(listed, " workers listed with free slots, counter says ", free.listed()));
}

/// Holders are exactly the live copies, within max_copies; settled tasks have no record.
void Scheduler::Impl::check_records(const Census& census) const {
    const auto max_live = static_cast<std::size_t>(options.max_copies) + 1;
    for (const auto& [t, rec] : records) {
        const auto found = census.live_copies.find(t);
        const std::size_t live = found == census.live_copies.end() ? 0 : found->second;
        if (rec.holders.size() != live) {
            broken(concat("task ", t, " lists ", rec.holders.size(), " holders but ", live,
                          " live copies are held"));
        }
        if (live > max_live) broken(concat("task ", t, " has ", live, " live copies, at most ", max_live));
        if (rec.attempts < 0) broken(concat("task ", t, " has ", rec.attempts, " attempts"));
        if (is_settled(state(t))) broken(concat("settled task ", t, " still has a record"));
    }
}

}  // namespace mpisweep
