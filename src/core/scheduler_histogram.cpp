#include "core/scheduler_histogram.hpp"

#include <cmath>
#include <algorithm>
#include <cstddef>

namespace mpisweep {

void DurationHistogram::add(double seconds) {
    std::size_t bucket = 0;
    if (seconds >= kSmallest) {  // false for NaN too
        const double position = std::log2(seconds / kSmallest) * kBucketsPerOctave;
        bucket = position >= kLogBuckets ? static_cast<std::size_t>(kLogBuckets) + 1
                                         : static_cast<std::size_t>(position) + 1;
    }
    ++counts_[bucket];
    ++total_;
}

std::optional<double> DurationHistogram::median() const {
    if (total_ == 0) return std::nullopt;
    const std::uint64_t rank = (total_ + 1) / 2;
    std::uint64_t seen = 0;
    std::size_t bucket = 0;
    for (; bucket < counts_.size(); ++bucket) {
        seen += counts_[bucket];
        if (seen >= rank) break;
    }
    if (bucket == 0) return 0.0;
    const double exponent = bucket > static_cast<std::size_t>(kLogBuckets)
                                ? static_cast<double>(kLogBuckets)
                                : (static_cast<double>(bucket) - 0.5);  // centre of bucket `bucket`
    return kSmallest * std::exp2(exponent / kBucketsPerOctave);
}

std::optional<double> DurationHistogram::max() const {
    if (total_ == 0) return std::nullopt;
    std::size_t bucket = counts_.size() - 1;
    while (counts_[bucket] == 0) --bucket;
    if (bucket == 0) return kSmallest;
    const double exponent = static_cast<double>(std::min<std::size_t>(bucket, kLogBuckets));
    return kSmallest * std::exp2(exponent / kBucketsPerOctave);
}

}  // namespace mpisweep
