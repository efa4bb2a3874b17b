// The duration histogram behind the scheduler's median: O(1) memory, about 3 % resolution.
#include "schedule/scheduler_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace mpisweep {
namespace {

TEST(DurationHistogram, EmptyHasNoMedian) {
    DurationHistogram h;
    EXPECT_FALSE(h.median().has_value());
    EXPECT_EQ(h.count(), 0u);
}

TEST(DurationHistogram, MedianIsWithinThreePercentOfTheExactOne) {
    std::mt19937_64 rng(42);
    for (double sigma : {0.1, 1.0, 3.0}) {
        std::lognormal_distribution<double> dist(0.0, sigma);
        DurationHistogram h;
        std::vector<double> samples(10001);
        for (double& x : samples) {
            x = dist(rng);
            h.add(x);
        }
        std::nth_element(samples.begin(), samples.begin() + 5000, samples.end());
        const double exact = samples[5000];
        ASSERT_TRUE(h.median().has_value());
        EXPECT_NEAR(*h.median(), exact, exact * 0.03) << "sigma " << sigma;
        EXPECT_EQ(h.count(), 10001u);
    }
}

TEST(DurationHistogram, SingleValuesAcrossTheRangeComeBackWithinThreePercent) {
    for (double x : {2e-6, 0.001, 0.37, 1.0, 42.0, 3600.0, 1e6}) {
        DurationHistogram h;
        h.add(x);
        EXPECT_NEAR(*h.median(), x, x * 0.03) << x;
    }
}

TEST(DurationHistogram, TinyNegativeAndHugeDurationsAreClamped) {
    DurationHistogram zero;
    zero.add(-5.0);  // a clock jump
    zero.add(0.0);
    zero.add(1e-9);
    EXPECT_EQ(*zero.median(), 0.0);

    DurationHistogram huge;
    huge.add(1e30);
    const double limit =
        DurationHistogram::kSmallest * std::exp2(DurationHistogram::kOctaves);  // about 200 days
    EXPECT_NEAR(*huge.median(), limit, limit * 1e-9);
}

TEST(DurationHistogram, TheLowerMedianOfAnEvenCount) {
    DurationHistogram h;
    for (double x : {1.0, 2.0, 100.0, 200.0}) h.add(x);
    EXPECT_NEAR(*h.median(), 2.0, 2.0 * 0.03);
}

}  // namespace
TEST(DurationHistogram, MaxIsTheUpperEdgeOfTheLongestBucket) {
    DurationHistogram h;
    EXPECT_FALSE(h.max().has_value());
    h.add(0.5);
    h.add(2.0);
    h.add(1.0);
    ASSERT_TRUE(h.max().has_value());
    EXPECT_GE(*h.max(), 2.0);
    EXPECT_LE(*h.max(), 2.0 * 1.03);
}

}  // namespace mpisweep

namespace mpisweep {
namespace {

// The bucket comes from the exponent bits and a table, not from log2: every value must still
// land in the bucket whose range holds it, bucket edges included, or max() would be below
// the value or more than one bucket above it.
TEST(DurationHistogram, EveryValueLandsInTheBucketThatHoldsIt) {
    const double width = std::exp2(1.0 / DurationHistogram::kBucketsPerOctave);
    std::vector<double> values;
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> exponent(0.0, 40.0);
    for (int i = 0; i < 100000; ++i)
        values.push_back(DurationHistogram::kSmallest * std::exp2(exponent(rng)));
    for (int k = 0; k < 24 * 40; ++k) {  // the edges, and just either side of them
        const double edge = DurationHistogram::kSmallest * std::exp2(k / 24.0);
        values.push_back(edge);
        values.push_back(std::nextafter(edge, 0.0));
        values.push_back(std::nextafter(edge, 1e300));
    }
    for (double x : values) {
        if (x < DurationHistogram::kSmallest) continue;
        DurationHistogram h;
        h.add(x);
        ASSERT_GE(*h.max(), x * (1 - 1e-12)) << x;
        ASSERT_LE(*h.max(), x * width * (1 + 1e-12)) << x;
    }
}

}  // namespace
}  // namespace mpisweep
