#include "schedule/scheduler_histogram.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mpisweep {
namespace {

constexpr int kSteps = DurationHistogram::kBucketsPerOctave;

/// Where bucket k of an octave starts, as a multiple of the octave's start: 2^(k / 24);
/// [24] = 2 ends the octave.
const std::array<double, kSteps + 1> kStepStart = [] {
    std::array<double, kSteps + 1> start{};
    for (int k = 0; k <= kSteps; ++k)
        start[static_cast<std::size_t>(k)] = std::exp2(static_cast<double>(k) / kSteps);
    return start;
}();

/// The octave [1, 2) cut into 128 equal cells, narrower than any bucket (the narrowest is
/// 2^(1/24) - 1 = 2.9 % wide): a cell holds at most one bucket start, so the bucket of a
/// value is its cell's first bucket, or the next one.
constexpr int kCellBits = 7;
const std::array<std::uint8_t, 1 << kCellBits> kCellBucket = [] {
    std::array<std::uint8_t, 1 << kCellBits> first{};
    int k = 0;
    for (int cell = 0; cell < (1 << kCellBits); ++cell) {
        const double start = 1.0 + static_cast<double>(cell) / (1 << kCellBits);
        while (k + 1 < kSteps && kStepStart[static_cast<std::size_t>(k + 1)] <= start) ++k;
        first[static_cast<std::size_t>(cell)] = static_cast<std::uint8_t>(k);
    }
    return first;
}();

}  // namespace

void DurationHistogram::add(double seconds) {
    // floor(24 log2(seconds / kSmallest)) + 1, from the exponent bits and a table on the top
    // mantissa bits: called once per finished task, where std::log2 cost about as much as
    // all the scheduler's other work on it.
    std::size_t bucket = 0;
    if (seconds >= kSmallest) {                     // false for NaN too
        const double scaled = seconds / kSmallest;  // >= 1
        std::uint64_t bits = 0;
        std::memcpy(&bits, &scaled, sizeof bits);
        const auto octave = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
        if (octave >= kOctaves) {
            bucket = static_cast<std::size_t>(kLogBuckets) + 1;
        } else {
            const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
            const std::uint64_t one_to_two = fraction | (std::uint64_t{1023} << 52);
            double mantissa = 0;
            std::memcpy(&mantissa, &one_to_two, sizeof mantissa);
            std::size_t step = kCellBucket[static_cast<std::size_t>(fraction >> (52 - kCellBits))];
            if (mantissa >= kStepStart[step + 1]) ++step;  // kStepStart[24] = 2: never
            bucket = static_cast<std::size_t>(octave) * kBucketsPerOctave + step + 1;
        }
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
