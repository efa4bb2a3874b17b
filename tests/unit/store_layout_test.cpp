// The layout of a results file: root attributes, /params, what creation writes, as h5dump
// and h5py see it.
#include <cmath>
#include <cstdlib>
#include <gtest/gtest.h>
#include <map>
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
    EXPECT_EQ(file.int_attribute("format_version"), 2);
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
    {
        auto store = ResultStore::create(grid, options_for(dir.file("r.h5")));
        store.record(done(5));  // the grid is one chunk: all its params are written with it
    }
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

// /params are written a chunk at a time, a run of equal values at a time (value = id / stride
// % radix): zip groups, chunks that start inside a run, and axes too long for a table of
// their values (stride 1 and stride 2) must all give grid.at(id) at every row of a chunk that
// holds a settled task (here one task in every chunk).
TEST(Store, ParamsOfSettledChunksHoldEveryPointOfZippedAndLongAxes) {
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
        {
            auto store = ResultStore::create(*grid, options_for(dir.file("r.h5")));
            for (std::uint64_t id = 7; id < grid->size(); id += 65536) store.record(done(id));
        }
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

// The storage of every dataset of a results file, in bytes.
std::map<std::string, hsize_t> storage_of(const std::string& path) {
    std::map<std::string, hsize_t> sizes;
    h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    auto visit = [](hid_t object, const char* name, const H5O_info_t* info, void* out) -> herr_t {
        if (info->type != H5O_TYPE_DATASET) return 0;
        h5::Dataset dataset(H5Dopen2(object, name, H5P_DEFAULT));
        (*static_cast<std::map<std::string, hsize_t>*>(out))[name] = H5Dget_storage_size(dataset.get());
        return 0;
    };
    H5_CHECK(H5Ovisit, file.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &sizes);
    return sizes;
}

// One row of a 1-D int64 or float64 dataset, read alone.
template <class T>
T row_of(const std::string& path, const char* dataset_path, hsize_t row, hid_t type) {
    h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    h5::Dataset dataset(H5_CHECK(H5Dopen2, file.get(), dataset_path, H5P_DEFAULT));
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
    hsize_t one[1] = {1};
    H5_CHECK(H5Sselect_hyperslab, space.get(), H5S_SELECT_SET, &row, nullptr, one, nullptr);
    h5::Dataspace memory(H5_CHECK(H5Screate_simple, 1, one, nullptr));
    T value{};
    H5_CHECK(H5Dread, dataset.get(), type, memory.get(), space.get(), H5P_DEFAULT, &value);
    return value;
}

// A 10^15-point grid: creation stores nothing per row; settled tasks store the chunks they
// lie in (params, /tasks, /results), nothing else, and are read back where they are.
TEST(Store, AFileStoresOnlyTheChunksOfSettledRowsWhateverTheGridSize) {
    TempDir dir;
    Grid grid;
    grid.add(Axis::range("a", 0, 100000))
        .add(Axis::range("b", 0, 100000))
        .add(Axis::linspace("c", 0.0, 1.0, 100000));
    ASSERT_EQ(grid.size(), 1'000'000'000'000'000u);
    const std::string path = dir.file("r.h5");
    ResultStore::create(grid, options_for(path)).close();
    for (const auto& [name, bytes] : storage_of(path))
        EXPECT_EQ(bytes, 0u) << name << " stores rows at creation";
    EXPECT_LT(fs::file_size(path), 64u * 1024);

    const std::uint64_t far = 777'007'000'000'123;  // a = 77700, b = 70000, c index 123
    {
        auto store = ResultStore::open_for_resume(grid, options_for(path));
        for (std::uint64_t id = 0; id < 100; ++id) store.record(done(id, {{"loss", 0.5}}));
        store.record(done(far, {{"loss", 2.5}}));
    }
    // Two chunks of 65,536 rows per dataset: 1 MiB for an int64 column. A column whose rows
    // all hold its fill value (exit code 0) stores nothing.
    for (const auto& [name, bytes] : storage_of(path)) {
        if (name == "nodes" || name == "tasks/error") continue;
        if (name == "tasks/exit_code") {
            EXPECT_EQ(bytes, 0u) << name;
            continue;
        }
        EXPECT_GT(bytes, 0u) << name;
        EXPECT_LE(bytes, 2u * 65536 * 8) << name;
    }
    // 69 bytes a row (3 params, 9 task fields, 1 result) in 2 chunks of 65,536 rows: 9 MB.
    EXPECT_LT(fs::file_size(path), 10u * 1024 * 1024);
    EXPECT_EQ(row_of<std::int64_t>(path, "params/a", far, H5T_NATIVE_INT64), 77700);
    EXPECT_EQ(row_of<std::int64_t>(path, "params/b", far, H5T_NATIVE_INT64), 70000);
    EXPECT_DOUBLE_EQ(row_of<double>(path, "params/c", far, H5T_NATIVE_DOUBLE), 123.0 / 99999.0);
    EXPECT_EQ(row_of<double>(path, "results/loss", far, H5T_NATIVE_DOUBLE), 2.5);
    EXPECT_EQ(row_of<std::int32_t>(path, "tasks/exit_code", far, H5T_NATIVE_INT32), 0);
    EXPECT_TRUE(std::isnan(row_of<double>(path, "results/loss", far + 1, H5T_NATIVE_DOUBLE)));
    EXPECT_EQ(row_of<std::int64_t>(path, "params/a", 99, H5T_NATIVE_INT64), 0);
    EXPECT_EQ(row_of<std::int64_t>(path, "params/b", 99, H5T_NATIVE_INT64), 0);
    auto store = ResultStore::open_for_resume(grid, options_for(path));
    const SettledTasks settled = store.settled();
    ASSERT_EQ(settled.runs().size(), 2u);
    EXPECT_EQ(settled.runs()[0].first, 0u);
    EXPECT_EQ(settled.runs()[0].count, 100u);
    EXPECT_EQ(settled.runs()[1].first, far);
    EXPECT_EQ(settled.runs()[1].count, 1u);
    EXPECT_EQ(settled.done(), 101u);
}

TEST(Store, AFlushedRowHasItsParamsBeforeClose) {
    // /params are written a chunk at a time, with the first row of /tasks in the chunk: a row in
    // the file (what a kill leaves) has its params. The copy is taken while the store is open.
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
    const std::uint64_t chunk_start = row / 65536 * 65536;  // 1,441,792: i = 720, f index 1072
    EXPECT_EQ(i[chunk_start], 720);
    EXPECT_DOUBLE_EQ(f[chunk_start], 1072.0 / 2000.0);
    EXPECT_EQ(i.back(), 0) << "a chunk without a settled task is not stored (it reads 0)";
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
