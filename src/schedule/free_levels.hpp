#pragma once
// Active workers with a free slot, listed by how many copies they hold (their level, 0 ..
// prefetch), so that assign() fills the emptiest workers first without looking at full
// ones. A worker whose queue changed is marked stale and relisted once, in assign(): a batch
// of reports from one worker, or a batch of copies placed on it, then moves it between
// levels once, not once per copy. Only levels that list a worker hold a set (from a pool):
// prefetch runs to tens of thousands for tiny tasks, and a set per level cost the master
// megabytes of fresh memory each time the depth grew.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "schedule/worker_set.hpp"

namespace mpisweep {

class FreeLevels {
public:
    explicit FreeLevels(int prefetch) { reset(prefetch); }

    /// Adds worker index `w` (the next one), not listed.
    void add_worker() {
        level_.push_back(-1);
        stale_.push_back(0);
    }

    /// The level listing worker `w`; -1: not listed (full or retired).
    int level_of(std::int32_t w) const { return level_[static_cast<std::size_t>(w)]; }
    bool is_stale(std::int32_t w) const { return stale_[static_cast<std::size_t>(w)] != 0; }
    const std::vector<std::int32_t>& stale_workers() const { return stale_list_; }
    void mark_stale(std::int32_t w) {
        std::uint8_t& s = stale_[static_cast<std::size_t>(w)];
        if (s != 0) return;
        s = 1;
        stale_list_.push_back(w);
    }
    /// Relists every stale worker at want(w) (-1: unlisted).
    template <class Want>
    void refresh_stale(Want want) {
        for (std::int32_t w : stale_list_) {
            stale_[static_cast<std::size_t>(w)] = 0;
            set_level(w, want(w));
        }
        stale_list_.clear();
    }
    /// Lists worker `w` at `want` copies (-1: unlisted; want <= prefetch).
    void set_level(std::int32_t w, int want);

    /// Levels 0 .. prefetch.
    std::size_t level_count() const { return count_; }
    const WorkerSet& workers_at(std::size_t level) const {
        const std::int32_t slot = slot_of_[level];
        return slot < 0 ? kNone : pool_[static_cast<std::size_t>(slot)];
    }
    /// Workers listed at any level: none means nobody has a free slot.
    std::size_t listed() const { return listed_; }
    /// The lowest level >= `from` with a worker listed, or level_count().
    std::size_t next_level(std::size_t from) const {
        for (std::size_t word = from / 64; word < bits_.size(); ++word) {
            std::uint64_t bits = bits_[word];
            if (word == from / 64) bits &= ~std::uint64_t{0} << (from % 64);
            if (bits != 0) {
                const std::size_t level = word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
                return level < count_ ? level : count_;
            }
        }
        return count_;
    }
    bool level_bit(std::size_t level) const { return ((bits_[level / 64] >> (level % 64)) & 1U) != 0; }
    /// Unlists every worker and sets the levels to 0 .. prefetch. Levels above (left from a
    /// deeper prefetch) keep their storage: the master changes the depth as durations shift.
    void reset(int prefetch);
    /// Every level allocated so far, listed or not (for the invariant check).
    std::size_t levels_allocated() const { return slot_of_.size(); }

private:
    static const WorkerSet kNone;
    void insert(std::size_t level, std::int32_t w);
    void erase(std::size_t level, std::int32_t w);
    // Returns level's set to the pool (its bit is the caller's to clear).
    void release(std::size_t level);

    std::vector<std::int32_t> slot_of_;  // slot_of_[k]: pool_ index of the workers holding k copies, or -1
    std::vector<WorkerSet> pool_;        // sets in use, and emptied ones kept for reuse
    std::vector<std::int32_t> spare_;    // pool_ indexes not in use
    std::vector<std::uint64_t> bits_;    // bit k: level k lists a worker
    std::vector<int> level_;             // per worker index
    std::vector<std::uint8_t> stale_;    // per worker index: in stale_list_
    std::vector<std::int32_t> stale_list_;
    std::size_t count_ = 0;
    std::size_t listed_ = 0;
};

}  // namespace mpisweep
