#pragma once
// Durations of finished tasks in log-spaced buckets: O(1) memory however many tasks finish,
// with a median good to about 3 %. The scheduler needs only "how long does a task take",
// never the individual durations, so 10^8 tasks cost 8 KiB here, not 800 MB.
#include <array>
#include <cstdint>
#include <optional>

namespace mpisweep {

class DurationHistogram {
public:
    /// Buckets grow by 2^(1/24) (about 2.9 %) from 1 microsecond to about 200 days;
    /// shorter durations (and negative ones from a clock jump) count as 0, longer ones as
    /// the upper limit.
    static constexpr double kSmallest = 1e-6;
    static constexpr int kBucketsPerOctave = 24;
    static constexpr int kOctaves = 44;

    void add(double seconds);
    std::uint64_t count() const { return total_; }
    /// The lower median (the value at rank ceil(n/2)) as its bucket's geometric centre;
    /// nullopt when empty.
    std::optional<double> median() const;
    /// The upper edge of the highest non-empty bucket: never below the longest duration
    /// added (within the range), at most 2.9 % above it; nullopt when empty.
    std::optional<double> max() const;

private:
    static constexpr int kLogBuckets = kOctaves * kBucketsPerOctave;
    // [0]: below kSmallest, [1..kLogBuckets]: log buckets, [kLogBuckets + 1]: beyond range.
    std::array<std::uint64_t, kLogBuckets + 2> counts_{};
    std::uint64_t total_ = 0;
};

}  // namespace mpisweep
