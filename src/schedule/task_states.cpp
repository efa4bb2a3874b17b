#include "schedule/task_states.hpp"

#include <algorithm>
#include <cstring>

namespace mpisweep {

TaskStates::TaskStates(std::uint64_t n_tasks, SettledTasks settled, unsigned page_bits)
    : n_tasks_(n_tasks),
      settled_(std::move(settled)),
      page_bits_(page_bits),
      page_mask_((std::uint64_t{1} << page_bits) - 1) {
    fresh_pending_ = n_tasks_ - settled_.done() - settled_.failed();
    next_settled_ = settled_.empty() ? n_tasks_ : settled_.runs().front().first;
}

std::uint8_t TaskStates::byte_from_runs(std::uint64_t t) const {
    return static_cast<std::uint8_t>(settled_.status(t));
}

void TaskStates::skip_settled() {
    const std::vector<SettledRun>& runs = settled_.runs();
    while (next_run_ < runs.size() && runs[next_run_].first <= cursor_) {
        cursor_ = std::max(cursor_, runs[next_run_].end());
        ++next_run_;
    }
    next_settled_ = next_run_ < runs.size() ? runs[next_run_].first : n_tasks_;
}

void TaskStates::add_page() {
    const std::uint64_t number = cursor_ >> page_bits_;
    if (pages_.empty()) first_page_ = number;
    // Pages the cursor jumped over (settled runs) stay null: their bytes come from the runs.
    pages_.resize(static_cast<std::size_t>(number - first_page_));
    const std::uint64_t begin = number << page_bits_;
    const std::uint64_t end = std::min(n_tasks_, begin + page_mask_ + 1);
    auto page = std::make_unique<std::uint8_t[]>(static_cast<std::size_t>(end - begin));  // zero: pending
    const std::vector<SettledRun>& runs = settled_.runs();
    for (std::size_t r = settled_.run_after(begin); r < runs.size() && runs[r].first < end; ++r) {
        const std::uint64_t from = std::max(begin, runs[r].first);
        const std::uint64_t to = std::min(end, runs[r].end());
        std::memset(page.get() + (from - begin), static_cast<int>(runs[r].status),
                    static_cast<std::size_t>(to - from));
    }
    pages_.push_back(std::move(page));
    paged_end_ = end;
}

std::uint64_t TaskStates::bytes_held() const {
    std::uint64_t bytes =
        pages_.capacity() * sizeof(pages_[0]) + settled_.runs().capacity() * sizeof(SettledRun);
    for (std::size_t i = 0; i < pages_.size(); ++i) {
        if (pages_[i]) bytes += std::min(page_mask_ + 1, n_tasks_ - ((first_page_ + i) << page_bits_));
    }
    return bytes;
}

}  // namespace mpisweep
