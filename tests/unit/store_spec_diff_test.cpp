// Telling the user what differs between the grid of a results file and the grid given now.
#include <gtest/gtest.h>

#include "store/spec_diff.hpp"

namespace mpisweep::store {
namespace {

const std::string kSpec =
    R"({"axes":[{"name":"lr","kind":"list","type":"float","size":2,"values":[0.1,0.2]},)"
    R"({"name":"seed","kind":"range","type":"int","size":3,"start":0,"step":1}],"zip":[]})";

std::string with(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
}

TEST(SpecDiff, SameSpecHasNoDifference) {
    EXPECT_EQ(describe_spec_difference(kSpec, kSpec), "");
    // Same JSON, other spacing and key order: still the same grid.
    std::string reordered = with(kSpec, R"("zip":[])", R"("zip" : [] )");
    EXPECT_EQ(describe_spec_difference(kSpec, reordered), "");
}

TEST(SpecDiff, NamesTheAxisAndTheValueThatDiffers) {
    EXPECT_EQ(describe_spec_difference(kSpec, with(kSpec, "0.2]", "0.3]")),
              "axis 'lr' differs: values[1] is 0.2 in the file, 0.3 in this grid");
}

TEST(SpecDiff, KindIsReportedBeforeTheParametersItExplains) {
    std::string linspace = with(kSpec, R"("kind":"range","type":"int","size":3,"start":0,"step":1)",
                                R"("kind":"linspace","type":"float","size":3,"a":0,"b":2)");
    EXPECT_EQ(describe_spec_difference(kSpec, linspace),
              R"(axis 'seed' differs: kind is "range" in the file, "linspace" in this grid)");
}

TEST(SpecDiff, AxisMissingOnEitherSide) {
    std::string renamed = with(kSpec, R"("name":"seed")", R"("name":"run")");
    EXPECT_EQ(describe_spec_difference(kSpec, renamed), "axis 'run' is in this grid but not in the file");
    std::string one_axis =
        R"({"axes":[{"name":"lr","kind":"list","type":"float","size":2,"values":[0.1,0.2]}],"zip":[]})";
    EXPECT_EQ(describe_spec_difference(kSpec, one_axis), "axis 'seed' is in the file but not in this grid");
}

TEST(SpecDiff, AxesInAnotherOrder) {
    std::string swapped =
        R"({"axes":[{"name":"seed","kind":"range","type":"int","size":3,"start":0,"step":1},)"
        R"({"name":"lr","kind":"list","type":"float","size":2,"values":[0.1,0.2]}],"zip":[]})";
    EXPECT_EQ(describe_spec_difference(kSpec, swapped),
              "the axes are in another order: lr,seed in the file, seed,lr in this grid");
}

TEST(SpecDiff, ZipGroups) {
    std::string zipped = with(kSpec, R"("zip":[])", R"("zip":[["lr","seed"]])");
    EXPECT_EQ(describe_spec_difference(zipped, kSpec),
              R"(the zip groups are [["lr","seed"]] in the file, [] in this grid)");
}

TEST(SpecDiff, UnparsableSpecIsSaidSo) {
    EXPECT_EQ(describe_spec_difference("{not json", kSpec), "the file's grid spec is not valid JSON");
}

}  // namespace
}  // namespace mpisweep::store
