#include "schedule/free_levels.hpp"

namespace mpisweep {

const WorkerSet FreeLevels::kNone;

void FreeLevels::set_level(std::int32_t w, int want) {
    int& have = level_[static_cast<std::size_t>(w)];
    if (want == have) return;
    if (have >= 0) {
        --listed_;
        erase(static_cast<std::size_t>(have), w);
    }
    if (want >= 0) {
        ++listed_;
        insert(static_cast<std::size_t>(want), w);
    }
    have = want;
}

void FreeLevels::insert(std::size_t level, std::int32_t w) {
    std::int32_t& slot = slot_of_[level];
    if (slot < 0) {
        if (spare_.empty()) {
            slot = static_cast<std::int32_t>(pool_.size());
            pool_.emplace_back();
        } else {
            slot = spare_.back();
            spare_.pop_back();
        }
        bits_[level / 64] |= std::uint64_t{1} << (level % 64);
    }
    pool_[static_cast<std::size_t>(slot)].insert(w);
}

void FreeLevels::erase(std::size_t level, std::int32_t w) {
    WorkerSet& set = pool_[static_cast<std::size_t>(slot_of_[level])];
    set.erase(w);
    if (!set.empty()) return;
    release(level);
    bits_[level / 64] &= ~(std::uint64_t{1} << (level % 64));
}

void FreeLevels::release(std::size_t level) {
    std::int32_t& slot = slot_of_[level];
    pool_[static_cast<std::size_t>(slot)].clear();  // keeps its storage for the next level that takes it
    spare_.push_back(slot);
    slot = -1;
}

void FreeLevels::reset(int prefetch) {
    for (std::size_t level = next_level(0); level < count_; level = next_level(level + 1)) release(level);
    for (int& level : level_) level = -1;
    for (std::uint8_t& s : stale_) s = 0;
    stale_list_.clear();
    listed_ = 0;
    count_ = static_cast<std::size_t>(prefetch) + 1;
    if (slot_of_.size() < count_) slot_of_.resize(count_, -1);
    bits_.assign(slot_of_.size() / 64 + 1, 0);
}

}  // namespace mpisweep
