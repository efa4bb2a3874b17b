// The grid: axes, zip groups, lazy decoding of task ids, typed access, canonical JSON.
#include "mpisweep/grid.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>

namespace mpisweep {
namespace {

// Whether `text` contains `part`, printing both when not.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

std::vector<Value> axis_values(const Axis& axis) {
    std::vector<Value> out;
    for (std::uint64_t i = 0; i < axis.size(); ++i) out.push_back(axis.at(i));
    return out;
}

// Calls `body` and returns the SpecError message (fails the test if none is thrown).
std::string spec_error(const std::function<void()>& body) {
    try {
        body();
    } catch (const SpecError& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected a SpecError";
    return {};
}

// An axis of `size` values that differ from every other axis's values, of varied kinds.
Axis test_axis(std::size_t index, std::uint64_t size) {
    std::string name = std::string(1, static_cast<char>('a' + index));
    switch (index % 3) {
        case 0:
            return Axis::range(name, static_cast<std::int64_t>(index) * 100,
                               static_cast<std::int64_t>(index * 100 + size));
        case 1: {
            std::vector<Value> values;
            for (std::uint64_t i = 0; i < size; ++i) values.emplace_back(name + std::to_string(i));
            return Axis::list(name, values);
        }
        default:
            return Axis::linspace(name, static_cast<double>(index), static_cast<double>(index) + 1, size);
    }
}

// Reference enumeration by nested loops, one loop per digit (an axis, or a zip group at the
// place of its first axis), the innermost fastest. Independent of the mixed-radix arithmetic.
void nested_loops(const std::vector<Axis>& axes, const std::vector<std::vector<std::size_t>>& digits,
                  std::size_t level, std::vector<std::uint64_t>& index,
                  std::vector<std::vector<Value>>& points) {
    if (level == digits.size()) {
        std::vector<Value> point;
        for (std::size_t k = 0; k < axes.size(); ++k) point.push_back(axes[k].at(index[k]));
        points.push_back(point);
        return;
    }
    const auto& members = digits[level];
    for (std::uint64_t i = 0; i < axes[members[0]].size(); ++i) {
        for (auto k : members) index[k] = i;
        nested_loops(axes, digits, level + 1, index, points);
    }
}

void expect_decoding_matches_loops(const std::vector<std::uint64_t>& sizes,
                                   const std::vector<std::vector<std::size_t>>& zips) {
    std::vector<Axis> axes;
    for (std::size_t k = 0; k < sizes.size(); ++k) axes.push_back(test_axis(k, sizes[k]));
    Grid grid;
    for (const auto& a : axes) grid.add(a);
    for (const auto& z : zips) {
        std::vector<std::string> names;
        for (auto k : z) names.push_back(axes[k].name());
        grid.zip(names);
    }
    // Digits in declaration order: a zip group sits where its first axis is.
    std::vector<std::vector<std::size_t>> digits;
    std::vector<bool> placed(axes.size(), false);
    for (std::size_t k = 0; k < axes.size(); ++k) {
        if (placed[k]) continue;
        std::vector<std::size_t> members{k};
        for (const auto& z : zips) {
            if (std::find(z.begin(), z.end(), k) != z.end()) members = z;
        }
        for (auto m : members) placed[m] = true;
        digits.push_back(members);
    }
    std::vector<std::vector<Value>> expected;
    std::vector<std::uint64_t> index(axes.size());
    nested_loops(axes, digits, 0, index, expected);

    std::string shape = ::testing::PrintToString(sizes) + " zips " + ::testing::PrintToString(zips);
    ASSERT_EQ(grid.size(), expected.size()) << shape;
    std::vector<Value> decoded;
    Point reused(nullptr, {});  // refilled in place, as a worker does
    for (std::uint64_t id = 0; id < grid.size(); ++id) {
        Point p = grid.at(TaskId{id});
        ASSERT_EQ(p.values(), expected[id]) << shape << " id " << id;
        grid.decode(TaskId{id}, decoded);
        ASSERT_EQ(decoded, expected[id]) << shape << " id " << id;
        grid.at(TaskId{id}, reused);
        ASSERT_EQ(reused.values(), expected[id]) << shape << " id " << id;
        ASSERT_EQ(reused.names(), grid.names()) << shape;
    }
}

TEST(GridDecoding, EveryPointMatchesNestedLoopsForAllShapesOfOneToFourAxesWithoutZip) {
    for (std::size_t n_axes = 1; n_axes <= 4; ++n_axes) {
        std::vector<std::uint64_t> sizes(n_axes, 1);
        while (true) {
            expect_decoding_matches_loops(sizes, {});
            if (::testing::Test::HasFatalFailure()) return;
            std::size_t k = 0;  // next shape: count in base 5 over sizes 1..5
            while (k < n_axes && sizes[k] == 5) sizes[k++] = 1;
            if (k == n_axes) break;
            ++sizes[k];
        }
    }
}

TEST(GridDecoding, EveryPointMatchesNestedLoopsWithZipGroupsInEveryPosition) {
    // Every pair, triple and pair-of-pairs of 2..4 axes zipped, the zipped axes of sizes 1..5
    // and the others of sizes 2 and 3.
    for (std::size_t n_axes = 2; n_axes <= 4; ++n_axes) {
        std::vector<std::vector<std::vector<std::size_t>>> zip_sets;
        for (std::size_t i = 0; i < n_axes; ++i) {
            for (std::size_t j = i + 1; j < n_axes; ++j) {
                zip_sets.push_back({{i, j}});
                for (std::size_t k = j + 1; k < n_axes; ++k) zip_sets.push_back({{i, j, k}});
            }
        }
        if (n_axes == 4) {
            zip_sets.push_back({{0, 1}, {2, 3}});
            zip_sets.push_back({{0, 2}, {1, 3}});
            zip_sets.push_back({{0, 3}, {1, 2}});
        }
        for (const auto& zips : zip_sets) {
            for (std::uint64_t zipped_size = 1; zipped_size <= 5; ++zipped_size) {
                for (std::uint64_t other_size : {2, 3}) {
                    std::vector<std::uint64_t> sizes(n_axes, other_size);
                    std::vector<std::uint64_t> group_size{zipped_size, zipped_size + 1};
                    for (std::size_t g = 0; g < zips.size(); ++g) {
                        for (auto k : zips[g]) sizes[k] = group_size[g];
                    }
                    expect_decoding_matches_loops(sizes, zips);
                    if (::testing::Test::HasFatalFailure()) return;
                }
            }
        }
    }
}

TEST(GridDecoding, APointRefilledInPlaceInAnyOrderIsTheDecodedPoint) {
    // Every kind of axis, typed ones too, and a zip: ids in order (the odometer steps, with
    // carries), repeated, backwards, jumping, and after a point of another grid.
    Grid grid;
    grid.add(Axis::range("r", -3, 9, 4));
    grid.add(Axis::linspace("l", 0, 1, 3));
    grid.add(Axis::logspace("g", -2, 0, 3).as_type(ValueType::String));
    grid.add(Axis::list("s", {Value(std::string("x")), Value(std::string("y"))}));
    grid.add(Axis::range("f", 0, 2).as_type(ValueType::Float));
    grid.zip({"s", "f"});
    Grid other;
    other.add(Axis::range("r", 100, 200));
    std::vector<std::uint64_t> order;
    for (std::uint64_t id = 0; id < grid.size(); ++id) order.push_back(id);
    for (std::uint64_t id : {5, 5, 4, 3, 17, 0, 53, 1, 2}) order.push_back(id);
    Point reused(nullptr, {});
    for (std::size_t k = 0; k < order.size(); ++k) {
        const TaskId id(order[k]);
        if (k == 20) other.at(TaskId(7), reused);  // the point of another grid in between
        grid.at(id, reused);
        ASSERT_EQ(reused.values(), grid.at(id).values()) << "id " << order[k] << " at step " << k;
        ASSERT_EQ(reused.names(), grid.names());
    }
    EXPECT_THROW(grid.at(TaskId(grid.size()), reused), std::out_of_range);
}

TEST(GridDecoding, HandWrittenLoopsWithZipOfSecondAndLastAxis) {
    // for a: for (b, d) in zip(b, d): for c  -- the point lists a, b, c, d.
    Grid grid;
    grid.add(Axis::range("a", 0, 2))
        .add(Axis::list("b", {Value("x"), Value("y"), Value("z")}))
        .add(Axis::list("c", {Value(true), Value(false)}))
        .add(Axis::list("d", {Value(1.5), Value(2.5), Value(3.5)}));
    grid.zip({"d", "b"});
    std::vector<std::string> b{"x", "y", "z"};
    std::vector<double> d{1.5, 2.5, 3.5};
    std::uint64_t id = 0;
    for (std::int64_t a = 0; a < 2; ++a) {
        for (std::size_t bd = 0; bd < 3; ++bd) {
            for (bool c : {true, false}) {
                Point p = grid.at(TaskId{id++});
                EXPECT_EQ(p.names(), (std::vector<std::string>{"a", "b", "c", "d"}));
                EXPECT_EQ(p.get<std::int64_t>("a"), a);
                EXPECT_EQ(p.get<std::string>("b"), b[bd]);
                EXPECT_EQ(p.get<bool>("c"), c);
                EXPECT_EQ(p.get<double>("d"), d[bd]);
            }
        }
    }
    EXPECT_EQ(grid.size(), id);
    EXPECT_EQ(grid.zip_groups(), (std::vector<std::vector<std::size_t>>{{1, 3}}));
}

TEST(GridDecoding, TaskIdAtOrBeyondSizeThrowsOutOfRange) {
    Grid grid;
    grid.add(Axis::range("a", 0, 3));
    EXPECT_NO_THROW(grid.at(TaskId{2}));
    EXPECT_THROW(grid.at(TaskId{3}), std::out_of_range);
    EXPECT_THROW(Grid().at(TaskId{0}), std::out_of_range);
    EXPECT_EQ(Grid().size(), 0u);
}

TEST(GridLarge, BillionPointGridDecodesFirstLastAndMiddleLazily) {
    Grid grid;
    grid.add(Axis::range("epoch", 0, 1000))
        .add(Axis::linspace("lr", 0.0, 1.0, 1000))
        .add(Axis::logspace("wd", -6, -3, 1000));
    ASSERT_EQ(grid.size(), 1000000000u);
    const auto& lr = grid.axes()[1];
    const auto& wd = grid.axes()[2];

    Point first = grid.at(TaskId{0});
    EXPECT_EQ(first.get<std::int64_t>("epoch"), 0);
    EXPECT_EQ(first.get<double>("lr"), 0.0);
    EXPECT_EQ(first.get<double>("wd"), 1e-6);

    Point last = grid.at(TaskId{grid.size() - 1});
    EXPECT_EQ(last.get<std::int64_t>("epoch"), 999);
    EXPECT_EQ(last.get<double>("lr"), 1.0);
    EXPECT_EQ(last.get<double>("wd"), 1e-3);

    // id = 123 * 10^6 + 456 * 10^3 + 789
    Point middle = grid.at(TaskId{123456789});
    EXPECT_EQ(middle.get<std::int64_t>("epoch"), 123);
    EXPECT_EQ(middle.get<double>("lr"), std::get<double>(lr.at(456)));
    EXPECT_NEAR(middle.get<double>("lr"), 456.0 / 999.0, 1e-15);
    EXPECT_EQ(middle.get<double>("wd"), std::get<double>(wd.at(789)));
    EXPECT_NEAR(middle.get<double>("wd"), std::pow(10.0, -6 + 3 * 789.0 / 999.0), 1e-18);
}

TEST(GridLarge, GridOfTwoToThe62PointsDecodesItsLastPointSoNothingIsMaterialized) {
    // No memory could hold 2^62 points: decoding must compute them.
    const std::int64_t n = std::int64_t{1} << 31;
    Grid grid;
    grid.add(Axis::range("i", 0, n)).add(Axis::range("j", -n, 0)).add(Axis::linspace("x", 0, 1, 2));
    ASSERT_EQ(grid.size(), std::uint64_t{1} << 63);
    Point last = grid.at(TaskId{grid.size() - 1});
    EXPECT_EQ(last.get<std::int64_t>("i"), n - 1);
    EXPECT_EQ(last.get<std::int64_t>("j"), -1);
    EXPECT_EQ(last.get<double>("x"), 1.0);
    Point p = grid.at(TaskId{(std::uint64_t{5} << 32) + 2 * 7 + 1});  // i=5, j index 7, x index 1
    EXPECT_EQ(p.get<std::int64_t>("i"), 5);
    EXPECT_EQ(p.get<std::int64_t>("j"), -n + 7);
    EXPECT_EQ(p.get<double>("x"), 1.0);
}

TEST(GridLarge, SizeOverflowing64BitsIsASpecErrorNamingTheAxesAndLeavesTheGridUnchanged) {
    const std::int64_t n = std::int64_t{1} << 32;
    Grid grid;
    grid.add(Axis::range("a", 0, n));
    auto message = spec_error([&] { grid.add(Axis::range("b", 0, n)); });
    EXPECT_TRUE(contains(message, "overflows 64 bits"));
    EXPECT_TRUE(contains(message, "b=4294967296"));
    EXPECT_EQ(grid.size(), std::uint64_t(n));
    EXPECT_EQ(grid.names(), std::vector<std::string>{"a"});
    // 2^32 - 1 more fits: (2^32) * (2^32 - 1) < 2^64.
    grid.add(Axis::range("c", 1, n));
    EXPECT_EQ(grid.size(), std::uint64_t(n) * std::uint64_t(n - 1));
}

TEST(GridLarge, ConstructorChecksTheSizeAfterZipsSoZippedHugeAxesFit) {
    const std::int64_t n = std::int64_t{1} << 40;
    Grid grid({Axis::range("a", 0, n), Axis::range("b", n, 2 * n)}, {{"a", "b"}});
    EXPECT_EQ(grid.size(), std::uint64_t(n));
    Point p = grid.at(TaskId{12345});
    EXPECT_EQ(p.get<std::int64_t>("a"), 12345);
    EXPECT_EQ(p.get<std::int64_t>("b"), n + 12345);
    EXPECT_THROW(Grid({Axis::range("a", 0, n), Axis::range("b", 0, n)}, {}), SpecError);
}

// ---- generated axes ----

TEST(AxisRange, StopIsExclusiveAndStepMayBeNegative) {
    EXPECT_EQ(axis_values(Axis::range("n", 0, 10, 3)),
              (std::vector<Value>{std::int64_t{0}, std::int64_t{3}, std::int64_t{6}, std::int64_t{9}}));
    EXPECT_EQ(axis_values(Axis::range("n", 0, 9, 3)),
              (std::vector<Value>{std::int64_t{0}, std::int64_t{3}, std::int64_t{6}}));
    EXPECT_EQ(axis_values(Axis::range("n", 5, -5, -3)),
              (std::vector<Value>{std::int64_t{5}, std::int64_t{2}, std::int64_t{-1}, std::int64_t{-4}}));
    EXPECT_EQ(Axis::range("n", 2, 3).type(), ValueType::Int);
    EXPECT_EQ(Axis::range("n", 2, 3).kind(), Axis::Kind::Range);
}

TEST(AxisRange, SpansTheWholeInt64RangeWithoutOverflow) {
    constexpr auto lo = std::numeric_limits<std::int64_t>::min();
    constexpr auto hi = std::numeric_limits<std::int64_t>::max();
    Axis all = Axis::range("n", lo, hi, std::int64_t{1} << 62);  // lo, -2^62, 0, 2^62
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all.at(0), Value(lo));
    EXPECT_EQ(all.at(3), Value(std::int64_t{1} << 62));
    Axis down = Axis::range("n", hi, lo, -(std::int64_t{1} << 62));
    ASSERT_EQ(down.size(), 4u);
    EXPECT_EQ(down.at(3), Value(-(std::int64_t{1} << 62) - 1));  // hi - 3 * 2^62
    EXPECT_EQ(Axis::range("n", hi - 1, hi).size(), 1u);
}

TEST(AxisRange, StepZeroAndEmptyRangesAreSpecErrorsNamingTheAxis) {
    EXPECT_TRUE(contains(spec_error([] { Axis::range("n", 0, 10, 0); }), "param 'n': step must not be 0"));
    EXPECT_TRUE(contains(spec_error([] { Axis::range("n", 5, 0); }), "param 'n': range(5,0,1) is empty"));
    EXPECT_TRUE(contains(spec_error([] { Axis::range("n", 0, 5, -1); }), "range(0,5,-1) is empty"));
}

TEST(AxisLinspace, EndpointsAreExactAndValuesEvenlySpaced) {
    struct Case {
        double a, b;
        std::uint64_t n;
    };
    for (auto c : {Case{0, 1, 7}, Case{0.1, 0.7, 3}, Case{-3.3, 1e10, 11}, Case{2, -2, 5},
                   Case{0.1, 0.3, 1000}, Case{-7.3, 6.9, 4}}) {  // -7.3 + (6.9 - -7.3) != 6.9 in doubles
        Axis axis = Axis::linspace("x", c.a, c.b, c.n);
        ASSERT_EQ(axis.size(), c.n);
        EXPECT_EQ(std::get<double>(axis.at(0)), c.a);
        EXPECT_EQ(std::get<double>(axis.at(c.n - 1)), c.b) << c.a << " " << c.b << " " << c.n;
        for (std::uint64_t i = 0; i < c.n; ++i) {
            long double exact = c.a + (static_cast<long double>(c.b) - c.a) * i / (c.n - 1);
            EXPECT_NEAR(
                std::get<double>(axis.at(i)), static_cast<double>(exact),
                4 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(c.a), std::fabs(c.b)));
        }
    }
    // Integral steps come out exact.
    EXPECT_EQ(axis_values(Axis::linspace("x", 0, 10, 6)),
              (std::vector<Value>{0.0, 2.0, 4.0, 6.0, 8.0, 10.0}));
    EXPECT_EQ(axis_values(Axis::linspace("x", 0.5, 9, 1)), std::vector<Value>{0.5});
}

TEST(AxisLinspace, ZeroPointsAndNonFiniteBoundsAreSpecErrors) {
    EXPECT_TRUE(
        contains(spec_error([] { Axis::linspace("lr", 0, 1, 0); }), "param 'lr': n must be at least 1"));
    EXPECT_TRUE(contains(spec_error([] { Axis::linspace("lr", 0, INFINITY, 3); }), "param 'lr'"));
    EXPECT_TRUE(contains(spec_error([] { Axis::linspace("lr", -1e308, 1e308, 3); }), "overflows"));
}

double ulp_distance(double x, double y) {
    return std::fabs(x - y) / (std::nextafter(std::fabs(y), INFINITY) - std::fabs(y));
}

TEST(AxisLogspace, PowersOfTenFromTenToTheAToTenToTheB) {
    Axis axis = Axis::logspace("lr", -4, -1, 4);
    std::vector<double> expected{1e-4, 1e-3, 1e-2, 1e-1};
    ASSERT_EQ(axis.size(), 4u);
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_LE(ulp_distance(std::get<double>(axis.at(i)), expected[i]), 1.0) << i;
    }
    EXPECT_EQ(axis_values(Axis::logspace("x", 0, 3, 4)), (std::vector<Value>{1.0, 10.0, 100.0, 1000.0}));
    EXPECT_NEAR(std::get<double>(Axis::logspace("x", 0, 1, 3).at(1)), std::sqrt(10.0), 1e-15);
    EXPECT_EQ(axis_values(Axis::logspace("x", 2, 0, 3)), (std::vector<Value>{100.0, 10.0, 1.0}));
    EXPECT_TRUE(contains(spec_error([] { Axis::logspace("x", 0, 1, 0); }), "n must be at least 1"));
    EXPECT_TRUE(contains(spec_error([] { Axis::logspace("x", 0, 400, 2); }), "overflows"));
}

// ---- lists and types ----

TEST(AxisList, IntsMixedWithFloatsBecomeFloatsOtherMixesAreErrors) {
    Axis mixed = Axis::list("x", {Value(std::int64_t{1}), Value(2.5)});
    EXPECT_EQ(mixed.type(), ValueType::Float);
    EXPECT_EQ(axis_values(mixed), (std::vector<Value>{1.0, 2.5}));
    EXPECT_TRUE(contains(spec_error([] {
                             Axis::list("x", {Value(std::int64_t{1}), Value("a")});
                         }),
                         "param 'x': mixed value types int and str"));
    EXPECT_TRUE(contains(spec_error([] { Axis::list("x", {}); }), "param 'x': empty axis"));
    EXPECT_TRUE(contains(spec_error([] { Axis::list("x", {Value(NAN)}); }), "not a finite number"));
}

TEST(AxisNames, OnlyLettersDigitsAndUnderscoreNotStartingWithADigit) {
    for (std::string good : {"lr", "_x", "L2_reg", "a1"}) EXPECT_TRUE(is_valid_name(good)) << good;
    for (std::string bad : {"", "1x", "l-r", "a b", "a.b", "a/b", "é"}) {
        EXPECT_FALSE(is_valid_name(bad)) << bad;
        EXPECT_TRUE(contains(spec_error([&] { Axis::range(bad, 0, 1); }), "invalid name"));
    }
}

TEST(AxisAsType, ListsConvertEachValueAndNameTheOneThatDoesNot) {
    Axis ints = Axis::list("n", {Value(std::int64_t{1}), Value(std::int64_t{20})});
    EXPECT_EQ(axis_values(ints.as_type(ValueType::String)), (std::vector<Value>{"1", "20"}));
    EXPECT_EQ(axis_values(ints.as_type(ValueType::Float)), (std::vector<Value>{1.0, 20.0}));
    EXPECT_TRUE(contains(spec_error([&] { ints.as_type(ValueType::Bool); }),
                         "param 'n': value '20' does not convert to bool"));
    Axis floats = Axis::list("x", {Value(2.0), Value(0.5)});
    EXPECT_TRUE(contains(spec_error([&] { floats.as_type(ValueType::Int); }),
                         "param 'x': value '0.5' does not convert to int"));
    Axis texts = Axis::list("s", {Value("3"), Value("1e2")});
    EXPECT_EQ(axis_values(texts.as_type(ValueType::Int)),
              (std::vector<Value>{std::int64_t{3}, std::int64_t{100}}));
    EXPECT_EQ(ints.type(), ValueType::Int);  // as_type returns a copy
}

TEST(AxisAsType, GeneratedAxesStayLazyAndCheckTheirValues) {
    Axis r = Axis::range("n", 0, std::int64_t{1} << 40).as_type(ValueType::Float);
    EXPECT_EQ(r.kind(), Axis::Kind::Range);
    EXPECT_EQ(r.type(), ValueType::Float);
    EXPECT_EQ(r.at(7), Value(7.0));
    EXPECT_EQ(Axis::range("n", 5, 7).as_type(ValueType::String).at(1), Value("6"));
    EXPECT_EQ(Axis::range("b", 0, 2).as_type(ValueType::Bool).at(1), Value(true));
    EXPECT_TRUE(contains(spec_error([] { Axis::range("b", 0, 3).as_type(ValueType::Bool); }),
                         "param 'b': value '2' does not convert to bool"));
    EXPECT_TRUE(contains(
        spec_error([] { Axis::range("n", 0, (std::int64_t{1} << 53) + 2).as_type(ValueType::Float); }),
        "param 'n': value '9007199254740993' does not convert to float"));
    EXPECT_EQ(axis_values(Axis::linspace("k", 0, 10, 3).as_type(ValueType::Int)),
              (std::vector<Value>{std::int64_t{0}, std::int64_t{5}, std::int64_t{10}}));
    EXPECT_TRUE(contains(spec_error([] { Axis::linspace("k", 0, 1, 3).as_type(ValueType::Int); }),
                         "param 'k': value '0.5' does not convert to int"));
    EXPECT_EQ(Axis::logspace("s", -1, 0, 2).as_type(ValueType::String).at(0), Value("0.1"));
}

// ---- Point ----

TEST(PointGet, TypedAccessConvertsIntToDoubleOnlyAndNamesParamAndTypesOnMismatch) {
    Grid grid;
    grid.add(Axis::range("n", 3, 4))
        .add(Axis::list("s", {Value("hi")}))
        .add(Axis::list("b", {Value(true)}))
        .add(Axis::range("big", std::int64_t{1} << 40, (std::int64_t{1} << 40) + 1));
    Point p = grid.at(TaskId{0});
    EXPECT_EQ(p.get<std::int64_t>("n"), 3);
    EXPECT_EQ(p.get<int>("n"), 3);
    EXPECT_EQ(p.get<double>("n"), 3.0);
    EXPECT_EQ(p.get<std::string>("s"), "hi");
    EXPECT_EQ(p.get<bool>("b"), true);
    EXPECT_EQ(p["s"], Value("hi"));
    try {
        p.get<double>("s");
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_TRUE(contains(std::string(e.what()), "'s'"));
        EXPECT_TRUE(contains(std::string(e.what()), "str"));
        EXPECT_TRUE(contains(std::string(e.what()), "float"));
    }
    EXPECT_THROW(p.get<std::string>("n"), std::invalid_argument);
    EXPECT_THROW(p.get<std::int64_t>("b"), std::invalid_argument);
    EXPECT_THROW(p.get<bool>("n"), std::invalid_argument);
    EXPECT_THROW(p.get<int>("big"), std::out_of_range);
    try {
        p["missing"];
        FAIL() << "expected std::out_of_range";
    } catch (const std::out_of_range& e) {
        EXPECT_TRUE(contains(std::string(e.what()), "'missing'"));
    }
}

TEST(GridCopies, AddingToACopyLeavesTheOriginalAndItsPointsUnchanged) {
    Grid original;
    original.add(Axis::range("a", 0, 2));
    Point before = original.at(TaskId{1});
    Grid copy = original;
    copy.add(Axis::range("b", 0, 3));
    EXPECT_EQ(original.names(), std::vector<std::string>{"a"});
    EXPECT_EQ(original.size(), 2u);
    EXPECT_EQ(before.names(), std::vector<std::string>{"a"});
    EXPECT_EQ(copy.size(), 6u);
}

// ---- grid errors ----

TEST(GridErrors, DuplicateNameIsASpecError) {
    Grid grid;
    grid.add(Axis::range("lr", 0, 2));
    EXPECT_TRUE(
        contains(spec_error([&] { grid.add(Axis::list("lr", {Value(1.0)})); }), "param 'lr' is given twice"));
    EXPECT_EQ(grid.axes().size(), 1u);
}

TEST(GridErrors, ZipErrorsNameTheParamsAndLeaveTheGridUnchanged) {
    Grid grid;
    grid.add(Axis::range("a", 0, 3))
        .add(Axis::range("b", 0, 3))
        .add(Axis::range("c", 0, 4))
        .add(Axis::range("d", 0, 3));
    EXPECT_TRUE(contains(spec_error([&] { grid.zip({"a", "zz"}); }), "unknown param 'zz'"));
    EXPECT_TRUE(contains(spec_error([&] { grid.zip({"a"}); }), "zip a: a zip needs at least two params"));
    EXPECT_TRUE(contains(spec_error([&] { grid.zip({"a", "a"}); }), "param 'a' is listed twice"));
    auto unequal = spec_error([&] { grid.zip({"a", "c"}); });
    EXPECT_TRUE(contains(unequal, "a has 3"));
    EXPECT_TRUE(contains(unequal, "c has 4"));
    grid.zip({"a", "b"});
    EXPECT_TRUE(contains(spec_error([&] { grid.zip({"d", "b"}); }), "param 'b' is already zipped (zip a,b)"));
    EXPECT_EQ(grid.zip_groups(), (std::vector<std::vector<std::size_t>>{{0, 1}}));
    EXPECT_EQ(grid.size(), 36u);  // zip(a,b)=3 x c=4 x d=3
}

// ---- canonical JSON ----

Grid sample_grid() {
    Grid grid;
    grid.add(Axis::list("lr", {Value(0.1), Value(1.0 / 3), Value(1e-300)}))
        .add(Axis::range("seed", 0, 10, 3))
        .add(Axis::linspace("x", 0, 1, 3))
        .add(Axis::logspace("y", -2, 0, 3))
        .add(Axis::list("name", {Value("a"), Value("b"), Value("c")}));
    grid.zip({"name", "x"});
    return grid;
}

TEST(GridJson, EqualGridsGiveTheSameStringAndEveryDifferenceChangesIt) {
    const Grid sample = sample_grid();
    const std::string canonical = sample.to_json();
    EXPECT_EQ(canonical, sample_grid().to_json());

    Grid zip_reversed;
    for (const auto& a : sample.axes()) zip_reversed.add(a);
    zip_reversed.zip({"x", "name"});
    EXPECT_EQ(zip_reversed.to_json(), canonical);

    // Same points, written differently: range(0,10,3) == range(0,12,3) == 0,3,6,9.
    Grid same_range;
    for (const auto& a : sample.axes()) {
        same_range.add(a.name() == "seed" ? Axis::range("seed", 0, 12, 3) : a);
    }
    same_range.zip({"x", "name"});
    EXPECT_EQ(same_range.to_json(), canonical);

    auto variant = [&sample](const std::string& replaced, Axis replacement, bool zip = true) {
        Grid g;
        for (const auto& a : sample.axes()) g.add(a.name() == replaced ? replacement : a);
        if (zip) g.zip({"name", "x"});
        return g.to_json();
    };
    EXPECT_NE(variant("lr", Axis::list("lr", {Value(0.1), Value(1.0 / 3), Value(2e-300)})), canonical);
    EXPECT_NE(variant("seed", Axis::range("seed", 0, 10, 2)), canonical);
    EXPECT_NE(variant("seed", Axis::range("seed", 0, 10, 3).as_type(ValueType::Float)), canonical);
    EXPECT_NE(variant("seed", Axis::list("seed", {Value(std::int64_t{0}), Value(std::int64_t{3}),
                                                  Value(std::int64_t{6}), Value(std::int64_t{9})})),
              canonical);
    EXPECT_NE(variant("x", Axis::linspace("x", 0, 2, 3)), canonical);
    EXPECT_NE(variant("y", Axis::linspace("y", -2, 0, 3)), canonical);
    EXPECT_NE(variant("name", Axis::list("name", {Value("a"), Value("b"), Value("d")})), canonical);
    EXPECT_NE(variant("", Axis::range("unused", 0, 1), false), canonical);

    Grid reordered;
    for (auto name : {"seed", "lr", "x", "y", "name"}) {
        for (const auto& a : sample.axes()) {
            if (a.name() == name) reordered.add(a);
        }
    }
    reordered.zip({"name", "x"});
    EXPECT_NE(reordered.to_json(), canonical);
}

TEST(GridJson, DoublesRoundTripExactlyThroughTheCanonicalForm) {
    std::vector<double> values{0.1,
                               1.0 / 3,
                               1e-300,
                               std::nextafter(1.0, 2.0),
                               -0.0,
                               123456789.123456789,
                               std::numeric_limits<double>::max(),
                               std::numeric_limits<double>::denorm_min()};
    std::vector<Value> list(values.begin(), values.end());
    Grid grid;
    grid.add(Axis::list("x", list)).add(Axis::linspace("l", 0.1, 1.0 / 7, 2));
    auto j = nlohmann::json::parse(grid.to_json());
    const auto& written = j["axes"][0]["values"];
    ASSERT_EQ(written.size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        double back = written[i].get<double>();
        EXPECT_EQ(std::memcmp(&back, &values[i], sizeof back), 0) << i << ": " << written[i].dump();
    }
    EXPECT_EQ(j["axes"][1]["b"].get<double>(), 1.0 / 7);
    EXPECT_EQ(j["axes"][0]["kind"], "list");
    EXPECT_EQ(j["axes"][0]["type"], "float");
    EXPECT_EQ(j["axes"][1]["kind"], "linspace");
    EXPECT_EQ(j["axes"][1]["size"], 2);
}

}  // namespace
}  // namespace mpisweep
