#pragma once
// The scheduler's state of every task, in memory that grows with the tasks dispatched and
// the tasks settled before the run, never with the grid. Ids are taken in increasing order
// by a dispatch cursor; a task gets a byte once the cursor reaches its page (pages of 2^16
// ids by default, allocated as the cursor enters them). Tasks above the cursor are pending unless the
// results file settled them (SettledTasks, kept as runs), and the cursor jumps over a
// settled run at once: a 10^15-task grid resumed with 10^6 settled ids scattered costs
// memory for those 10^6 runs and for the pages of the tasks dispatched.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "schedule/settled_tasks.hpp"

namespace mpisweep {

/// A task's state in the low two bits of its byte. Running: at least one live (not
/// cancelled) copy is held somewhere.
enum class TaskState : std::uint8_t { Pending = 0, Done = 1, Failed = 2, Running = 3 };
constexpr std::uint8_t kStateMask = 3;
/// The task has a TaskRecord. Without one: pending means never tried (no copy anywhere),
/// running means attempt 1 and a single live copy, settled means settled by that copy.
constexpr std::uint8_t kTracked = 4;

inline bool is_settled(TaskState s) {
    return s == TaskState::Done || s == TaskState::Failed;
}

class TaskStates {
public:
    static constexpr unsigned kDefaultPageBits = 16;

    /// `settled` must end at or below n_tasks (checked by the caller). Pages hold
    /// 2^page_bits ids (tests use small pages to cross many page edges).
    TaskStates(std::uint64_t n_tasks, SettledTasks settled, unsigned page_bits = kDefaultPageBits);

    std::uint64_t size() const { return n_tasks_; }
    /// Ids at or above the cursor were never dispatched in this run.
    std::uint64_t cursor() const { return cursor_; }
    /// Pending tasks at or above the cursor.
    std::uint64_t fresh_pending() const { return fresh_pending_; }
    const SettledTasks& settled_before() const { return settled_; }

    /// The byte of any task: O(1) for ids on a page, O(log runs) for the others.
    std::uint8_t byte(std::uint64_t t) const {
        if (const std::uint8_t* page = page_of(t)) return page[t & page_mask_];
        return byte_from_runs(t);
    }
    TaskState state(std::uint64_t t) const { return static_cast<TaskState>(byte(t) & kStateMask); }
    bool tracked(std::uint64_t t) const { return (byte(t) & kTracked) != 0; }

    /// The byte of a task the cursor has passed (dispatched in this run): O(1).
    std::uint8_t& at(std::uint64_t t) {
        return pages_[static_cast<std::size_t>((t >> page_bits_) - first_page_)][t & page_mask_];
    }
    void set_state(std::uint64_t t, TaskState s) {
        std::uint8_t& b = at(t);
        b = static_cast<std::uint8_t>((b & kTracked) | static_cast<std::uint8_t>(s));
    }
    void set_tracked(std::uint64_t t, bool on) {
        std::uint8_t& b = at(t);
        b = static_cast<std::uint8_t>(on ? (b | kTracked) : (b & kStateMask));
    }

    /// The lowest pending id at or above the cursor, which the cursor then passes; nullopt
    /// when none is left. Amortized O(1): a settled run is skipped in one step.
    std::optional<std::uint64_t> take_fresh() {
        if (cursor_ >= next_settled_) skip_settled();
        if (cursor_ >= n_tasks_) return std::nullopt;
        if (cursor_ >= paged_end_) add_page();
        --fresh_pending_;
        return cursor_++;
    }

    /// Takes up to `want` (>= 1) consecutive pending ids from the cursor on, all on one page
    /// and none settled: sets `first` and returns how many (0: none left). Their bytes are
    /// then set at once with mark_running().
    std::uint64_t take_fresh_run(std::uint64_t want, std::uint64_t& first) {
        if (cursor_ >= next_settled_) skip_settled();
        if (cursor_ >= n_tasks_) return 0;
        if (cursor_ >= paged_end_) add_page();
        std::uint64_t k = want;
        if (next_settled_ - cursor_ < k) k = next_settled_ - cursor_;  // next_settled_ <= n_tasks_
        if (paged_end_ - cursor_ < k) k = paged_end_ - cursor_;
        first = cursor_;
        cursor_ += k;
        fresh_pending_ -= k;
        return k;
    }
    /// Sets tasks first .. first + count - 1, taken by one take_fresh_run(), to Running.
    void mark_running(std::uint64_t first, std::uint64_t count) {
        std::uint8_t* bytes = &at(first);
        if (count == 1) {
            *bytes = static_cast<std::uint8_t>(TaskState::Running);
        } else {
            std::memset(bytes, static_cast<int>(TaskState::Running), static_cast<std::size_t>(count));
        }
    }

    /// Pages, the first one numbered first_page(), null where the cursor jumped over a whole
    /// page: for the invariant check.
    unsigned page_bits() const { return page_bits_; }
    std::uint64_t first_page() const { return first_page_; }
    const std::vector<std::unique_ptr<std::uint8_t[]>>& pages() const { return pages_; }
    /// Bytes held, page directory included (for tests of the memory bound).
    std::uint64_t bytes_held() const;

private:
    const std::uint8_t* page_of(std::uint64_t t) const {
        const std::uint64_t index = (t >> page_bits_) - first_page_;  // wraps below the first
        return index < pages_.size() ? pages_[static_cast<std::size_t>(index)].get() : nullptr;
    }
    std::uint8_t byte_from_runs(std::uint64_t t) const;
    void skip_settled();
    void add_page();

    std::uint64_t n_tasks_ = 0;
    SettledTasks settled_;
    unsigned page_bits_;
    std::uint64_t page_mask_;
    std::uint64_t cursor_ = 0;
    std::uint64_t fresh_pending_ = 0;
    std::size_t next_run_ = 0;        // the first settled run that ends above the cursor
    std::uint64_t next_settled_ = 0;  // where that run starts (n_tasks_ if none)
    std::uint64_t first_page_ = 0;    // the page number of pages_[0]
    std::uint64_t paged_end_ = 0;     // one past the last id of the last page
    std::vector<std::unique_ptr<std::uint8_t[]>> pages_;
};

}  // namespace mpisweep
