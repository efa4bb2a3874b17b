#pragma once
// What the scheduler keeps of a task once more than "one copy placed, then answered done"
// happened to it: a second copy, a cancellation, a failure, a lost copy.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mpisweep {

/// The workers holding live copies of one task: one or two almost always (max_copies is
/// small), kept inline so that dispatching a task allocates nothing for them.
class Holders {
public:
    std::int32_t* begin() { return on_heap_ ? heap_.data() : inline_.data(); }
    std::int32_t* end() { return begin() + size_; }
    const std::int32_t* begin() const { return on_heap_ ? heap_.data() : inline_.data(); }
    const std::int32_t* end() const { return begin() + size_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void push_back(std::int32_t w) {
        if (!on_heap_ && size_ == inline_.size()) {
            heap_.assign(inline_.begin(), inline_.end());
            on_heap_ = true;
        }
        if (on_heap_) {
            heap_.push_back(w);
        } else {
            inline_[size_] = w;
        }
        ++size_;
    }
    void erase(std::int32_t* at) {
        std::copy(at + 1, end(), at);
        --size_;
        if (on_heap_) heap_.pop_back();
    }

private:
    std::array<std::int32_t, 2> inline_{};
    std::vector<std::int32_t> heap_;
    std::size_t size_ = 0;
    bool on_heap_ = false;
};

struct TaskRecord {
    int attempts = 0;  // copies started in this run
    int failures = 0;
    Holders holders;  // workers holding a live copy
};

}  // namespace mpisweep
