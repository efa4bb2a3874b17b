#pragma once
// The copies a worker holds, in the order it runs them: the front one runs, the others wait
// in its queue (prefetch).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "platform/huge_pages.hpp"

namespace mpisweep {

/// Seconds on a monotonic clock chosen by the caller (tests pass a fake one).
using Seconds = double;

struct Copy {
    std::uint64_t task = 0;
    Seconds dispatched = 0;
    int attempt = 1;
    bool speculative = false;         // reported as speculative: a duplicate or a move
    bool extra = false;               // a duplicate: counts against max_speculative while live
    bool cancelled = false;           // told to stop; keeps its slot until the worker answers
    bool attempt_taken_back = false;  // cancelled while queued: not counted in attempts
};

/// A worker's copies in the order it runs them, in a ring buffer: placing and answering a copy
/// is an index update (a std::deque costs several times that, and its size() a division).
class CopyQueue {
public:
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    Copy& operator[](std::size_t i) { return ring_[(head_ + i) & mask_]; }
    const Copy& operator[](std::size_t i) const { return ring_[(head_ + i) & mask_]; }
    Copy& front() { return ring_[head_]; }
    const Copy& front() const { return ring_[head_]; }
    void push_back(const Copy& c) {
        if (size_ == ring_.size()) grow();
        ring_[(head_ + size_) & mask_] = c;
        ++size_;
    }
    void pop_front() {
        head_ = (head_ + 1) & mask_;
        --size_;
    }
    /// Removes copy i, keeping the order of the others.
    void erase(std::size_t i) {
        if (i == 0) {
            pop_front();
            return;
        }
        for (; i + 1 < size_; ++i) (*this)[i] = (*this)[i + 1];
        --size_;
    }

private:
    void grow() {
        HugePageVector<Copy> bigger(std::max<std::size_t>(4, ring_.size() * 2));
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
        ring_.swap(bigger);
        head_ = 0;
        mask_ = ring_.size() - 1;
    }
    HugePageVector<Copy> ring_;  // a power of 2 long
    std::size_t head_ = 0, size_ = 0, mask_ = 0;
};

}  // namespace mpisweep
