#include "schedule/free_levels.hpp"

namespace mpisweep {

void FreeLevels::set_level(std::int32_t w, int want) {
    int& have = level_[static_cast<std::size_t>(w)];
    if (want == have) return;
    if (have >= 0) {
        const auto level = static_cast<std::size_t>(have);
        --listed_;
        sets_[level].erase(w);
        if (sets_[level].empty()) bits_[level / 64] &= ~(std::uint64_t{1} << (level % 64));
    }
    if (want >= 0) {
        const auto level = static_cast<std::size_t>(want);
        ++listed_;
        sets_[level].insert(w);
        bits_[level / 64] |= std::uint64_t{1} << (level % 64);
    }
    have = want;
}

void FreeLevels::reset(int prefetch) {
    for (std::size_t level = next_level(0); level < count_; level = next_level(level + 1)) {
        sets_[level].clear();
    }
    for (int& level : level_) level = -1;
    for (std::uint8_t& s : stale_) s = 0;
    stale_list_.clear();
    listed_ = 0;
    count_ = static_cast<std::size_t>(prefetch) + 1;
    if (sets_.size() < count_) sets_.resize(count_);
    bits_.assign(sets_.size() / 64 + 1, 0);
}

}  // namespace mpisweep
