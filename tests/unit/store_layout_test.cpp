// The layout of a results file: root attributes, /params, what creation writes, as h5dump
// and h5py see it.
#include <cstdlib>
#include <gtest/gtest.h>
#include <regex>

#include "unit/store_support.hpp"

namespace mpisweep {
namespace {

using namespace store_test;

TEST(Store, RootAttributesDescribeTheSweep) {
    TempDir dir;
    Grid grid = small_grid();
    ResultStore::create(grid, options_for(dir.file("r.h5"))).close();
    Reader file(dir.file("r.h5"));
    EXPECT_EQ(file.string_attribute("format"), "mpisweep");
    EXPECT_EQ(file.int_attribute("format_version"), 1);
    EXPECT_FALSE(file.string_attribute("mpisweep_version").empty());
    EXPECT_EQ(file.string_attribute("spec"), grid.to_json());
    EXPECT_EQ(file.string_attribute("command"), "mpisweep a=range(0,4) b=x,y,z -- ./task");
    EXPECT_EQ(file.int_attribute("n_tasks"), 12);
    EXPECT_EQ(file.int_attribute("mpi_size"), 5);
    EXPECT_TRUE(
        std::regex_match(file.string_attribute("created"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << file.string_attribute("created");
}

TEST(Store, ParamsHoldEveryPointInTaskIdOrder) {
    TempDir dir;
    Grid grid = small_grid();
    ResultStore::create(grid, options_for(dir.file("r.h5"))).close();
    Reader file(dir.file("r.h5"));
    auto a = file.int64s("params/a");
    auto b = file.strings("params/b");
    ASSERT_EQ(a.size(), 12u);
    ASSERT_EQ(b.size(), 12u);
    for (std::uint64_t id = 0; id < 12; ++id) {
        Point point = grid.at(TaskId(id));
        EXPECT_EQ(a[id], point.get<std::int64_t>("a")) << "task " << id;
        EXPECT_EQ(b[id], point.get<std::string>("b")) << "task " << id;
    }
}

// Numeric /params are written a run of equal values at a time (value = id / stride % radix):
// zip groups, blocks that start inside a run, and axes too long for a table of their values
// (stride 1 and stride 2) must all give grid.at(id) at every row.
TEST(Store, LazyParamsHoldEveryPointOfZippedAndLongAxes) {
    Grid zipped;
    zipped.add(Axis::range("a", 7, 10))
        .add(Axis::linspace("b", 0.0, 1.0, 5))
        .add(Axis::list("flag", {Value(true), Value(false)}))
        .add(Axis::range("c", 10, 15))
        .add(Axis::logspace("e", -2.0, 1.0, 3001))
        .zip({"b", "c"});
    Grid long_fast;  // the fastest axis has more values than a table holds
    long_fast.add(Axis::list("flag", {Value(false), Value(true)})).add(Axis::range("y", 0, 140000, 2));
    Grid long_slow;  // the same axis varying second
    long_slow.add(Axis::range("y", 0, 140000, 2)).add(Axis::list("z", {Value(0.5), Value(1.5)}));
    Grid long_floats;  // not a range: decoded a row at a time
    long_floats.add(Axis::linspace("w", -1.0, 1.0, 70001));
    for (const Grid* grid : {&zipped, &long_fast, &long_slow, &long_floats}) {
        TempDir dir;
        ResultStore::create(*grid, options_for(dir.file("r.h5"))).close();
        Reader file(dir.file("r.h5"));
        for (const Axis& axis : grid->axes()) {
            SCOPED_TRACE("axis " + axis.name());
            const std::string path = "params/" + axis.name();
            std::vector<double> floats;
            std::vector<std::int64_t> ints;
            std::vector<bool> bools;
            if (axis.type() == ValueType::Float) floats = file.doubles(path.c_str());
            if (axis.type() == ValueType::Int) ints = file.int64s(path.c_str());
            if (axis.type() == ValueType::Bool) bools = file.bools(path.c_str());
            std::size_t wrong = 0;
            for (std::uint64_t id = 0; id < grid->size(); ++id) {
                const Value expected = grid->at(TaskId(id))[axis.name()];
                bool same = false;
                if (axis.type() == ValueType::Float) same = floats.at(id) == std::get<double>(expected);
                if (axis.type() == ValueType::Int) same = ints.at(id) == std::get<std::int64_t>(expected);
                if (axis.type() == ValueType::Bool) same = bools.at(id) == std::get<bool>(expected);
                if (!same && wrong++ < 3) ADD_FAILURE() << "task " << id << " differs";
            }
            EXPECT_EQ(wrong, 0u);
        }
    }
}

TEST(Store, SingleTaskGrid) {
    TempDir dir;
    Grid grid;
    grid.add(Axis::list("only", {Value(true)}));
    {
        auto store = ResultStore::create(grid, options_for(dir.file("r.h5")));
        store.record(done(0, {{"loss", 1.0}}));
    }
    Reader file(dir.file("r.h5"));
    EXPECT_EQ(file.bools("params/only"), std::vector<bool>{true});
    EXPECT_EQ(file.doubles("results/loss"), std::vector<double>{1.0});
}

TEST(Store, CreationWritesNoTaskRowsForALargeGrid) {
    // 2M tasks: the params (16 MB) must be written, the 9 /tasks columns (~60 MB if written)
    // must not: fill values stand for pending rows.
    TempDir dir;
    Grid grid;
    grid.add(Axis::range("i", 0, 2'000'000));
    ResultStore::create(grid, options_for(dir.file("r.h5"))).close();
    const auto size = fs::file_size(dir.file("r.h5"));
    EXPECT_GT(size, 16'000'000u);
    EXPECT_LT(size, 17'000'000u);
    Reader file(dir.file("r.h5"));
    auto i = file.int64s("params/i");
    EXPECT_EQ(i[1'234'567], 1'234'567);
    EXPECT_EQ(file.statuses()[1'999'999], TaskStatus::Pending);
}

TEST(Store, AFlushedRowHasItsParamsBeforeClose) {
    // /params of a numeric grid are written lazily; a row in the file (what a kill leaves)
    // must already have its params. The copy is taken while the store is still open.
    TempDir dir;
    Grid grid;
    grid.add(Axis::range("i", 0, 1000)).add(Axis::linspace("f", 0.0, 1.0, 2001));
    auto store = ResultStore::create(grid, options_for(dir.file("r.h5")));
    const std::uint64_t row = 1'500'007;  // i = 749, f = 1258 / 2000 (749 * 2001 + 1258)
    store.record(done(row, {{"loss", 1.5}}));
    store.flush();
    fs::copy_file(dir.file("r.h5"), dir.file("copy.h5"));
    {
        Reader copy(dir.file("copy.h5"));
        EXPECT_EQ(copy.int64s("params/i")[row], 749);
        EXPECT_DOUBLE_EQ(copy.doubles("params/f")[row], 1258.0 / 2000.0);
        EXPECT_EQ(copy.statuses()[row], TaskStatus::Done);
    }
    store.close();
    Reader file(dir.file("r.h5"));
    auto i = file.int64s("params/i");
    auto f = file.doubles("params/f");
    EXPECT_EQ(i.back(), 999);
    EXPECT_DOUBLE_EQ(f.back(), 1.0);
    EXPECT_EQ(i[2001], 1);
    EXPECT_DOUBLE_EQ(f[2001], 0.0);
}

TEST(Store, H5dumpShowsTheLayout) {
    if (std::system("command -v h5dump > /dev/null 2>&1") != 0) GTEST_SKIP() << "h5dump not installed";
    TempDir dir;
    {
        auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
        store.record(done(0, {{"loss", 1.0}}));
    }
    std::string command = "h5dump -H '" + dir.file("r.h5") + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << output;
    for (const char* expected :
         {"GROUP \"params\"", "GROUP \"results\"", "GROUP \"tasks\"", "DATASET \"loss\"",
          "DATASET \"status\"", "DATASET \"nodes\"", "ATTRIBUTE \"spec\""})
        EXPECT_NE(output.find(expected), std::string::npos) << expected << " not in\n" << output;
}

TEST(Store, H5pyReadsAllParamTypesIntoPandas) {
    if (std::system("/usr/bin/python3 -c 'import h5py, pandas' > /dev/null 2>&1") != 0)
        GTEST_SKIP() << "/usr/bin/python3 with h5py and pandas not installed";
    TempDir dir;
    Grid grid;
    grid.add(Axis::range("n", 10, 13));
    grid.add(Axis::list("lr", {Value(0.1), Value(0.01)}));
    grid.add(Axis::list("opt", {Value(std::string("sgd")), Value(std::string("adam"))}));
    grid.add(Axis::list("warm", {Value(true), Value(false)}));
    // Radixes 3, 2, 2, 2, last axis fastest: 13 = 1*8 + 1*4 + 0*2 + 1 -> n=11, lr=0.01, opt=sgd, warm=false.
    const std::uint64_t id = 13;
    {
        auto store = ResultStore::create(grid, options_for(dir.file("r.h5")));
        store.record(done(id, {{"loss", 0.75}, {"tag", std::string("best")}}));
        store.record(done(2, {{"loss", 0.5}}));
    }
    const std::string script = R"(
import sys, h5py, numpy as np, pandas as pd
with h5py.File(sys.argv[1], "r") as f:
    df = pd.DataFrame({k: f["params"][k][:] for k in f["params"]})
    df["loss"] = f["results/loss"][:]
    df["tag"] = f["results/tag"].asstr()[:]
    df["status"] = f["tasks/status"][:]
    assert list(df.columns[:4]) == ["n", "lr", "opt", "warm"], list(df.columns)
    assert df["warm"].dtype == np.bool_, df["warm"].dtype
    assert df["n"].dtype == np.int64 and df["lr"].dtype == np.float64
    assert f.attrs["format"] == "mpisweep" and f.attrs["n_tasks"] == 24
    df["opt"] = df["opt"].str.decode("utf-8")
    row = df.iloc[13]
    assert (row["n"], row["lr"], row["opt"], row["warm"]) == (11, 0.01, "sgd", False), row
    assert row["loss"] == 0.75 and row["tag"] == "best" and row["status"] == 1, row
    assert np.isnan(df["loss"][0]) and df["tag"][0] == "" and df["status"][0] == 0
    best = df.loc[df["loss"].idxmin()]
    assert best["n"] == 10 and best["warm"] == True, best
print("ok")
)";
    std::ofstream(dir.file("check.py")) << script;
    std::string command = "/usr/bin/python3 '" + dir.file("check.py") + "' '" + dir.file("r.h5") + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << output;
    EXPECT_EQ(output, "ok\n");
}

}  // namespace
}  // namespace mpisweep
