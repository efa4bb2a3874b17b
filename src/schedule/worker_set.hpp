#pragma once
// A set of worker indexes as a bitmap (allocated on first insert), iterated in index order,
// with a summary bit per word so that a walk over 10^4 workers skips empty words fast.
// Moving a worker between levels then costs two bit flips, where a std::set costs two tree
// updates with an allocation each, on every placed and answered copy.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mpisweep {

class WorkerSet {
public:
    void insert(std::int32_t w) {
        const auto word = static_cast<std::size_t>(w) / 64;
        if (word >= words_.size()) {
            words_.resize(word + 1, 0);
            summary_.resize(word / 64 + 1, 0);
        }
        const std::uint64_t bit = std::uint64_t{1} << (static_cast<unsigned>(w) % 64);
        if ((words_[word] & bit) == 0) ++size_;
        words_[word] |= bit;
        summary_[word / 64] |= std::uint64_t{1} << (word % 64);
    }
    void erase(std::int32_t w) {
        const auto word = static_cast<std::size_t>(w) / 64;
        if (word >= words_.size()) return;
        const std::uint64_t bit = std::uint64_t{1} << (static_cast<unsigned>(w) % 64);
        if ((words_[word] & bit) != 0) --size_;
        words_[word] &= ~bit;
        if (words_[word] == 0) summary_[word / 64] &= ~(std::uint64_t{1} << (word % 64));
    }
    std::size_t count(std::int32_t w) const {
        const auto word = static_cast<std::size_t>(w) / 64;
        return word < words_.size() && ((words_[word] >> (static_cast<unsigned>(w) % 64)) & 1U) ? 1 : 0;
    }
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    void clear() {
        words_.clear();
        summary_.clear();
        size_ = 0;
    }
    /// The lowest member >= `from`, or -1.
    std::int32_t next(std::int32_t from) const {
        const auto first = static_cast<std::size_t>(from) / 64;
        if (first >= words_.size()) return -1;
        const std::uint64_t here = words_[first] & (~std::uint64_t{0} << (static_cast<unsigned>(from) % 64));
        if (here != 0) return at(first, here);
        // The next non-empty word, from the summary.
        const std::size_t after = first + 1;
        for (std::size_t s = after / 64; s < summary_.size(); ++s) {
            std::uint64_t bits = summary_[s];
            if (s == after / 64)
                bits &= after % 64 == 0 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (after % 64);
            if (bits != 0) {
                const std::size_t word = s * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
                return at(word, words_[word]);
            }
        }
        return -1;
    }
    std::vector<std::int32_t> members() const {
        std::vector<std::int32_t> out;
        for (std::int32_t w = next(0); w >= 0; w = next(w + 1)) out.push_back(w);
        return out;
    }

private:
    static std::int32_t at(std::size_t word, std::uint64_t bits) {
        return static_cast<std::int32_t>(word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
    }
    std::vector<std::uint64_t> words_;
    std::vector<std::uint64_t> summary_;  // bit i: words_[i] != 0
    std::size_t size_ = 0;
};

}  // namespace mpisweep
