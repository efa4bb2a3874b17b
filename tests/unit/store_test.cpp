// The HDF5 result store: files are read back with the HDF5 C API (and h5dump, h5py where
// installed), so each test checks what a user analysing the file would see.
#include <hdf5.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <regex>
#include <thread>

#include "store/h5_check.hpp"
#include "store/h5_types.hpp"
#include "store/pending_file.hpp"
#include "store/result_store.hpp"

namespace mpisweep {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A fresh folder per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "store_test.XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
        fs::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(path_))
            names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    fs::path path_;
};

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- reading a file back with the C API -----------------------------------------------------

class Reader {
public:
    explicit Reader(const std::string& path)
        : file_(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {}

    bool exists(const char* path) const { return h5::link_exists(file_.get(), path); }

    template <class T>
    std::vector<T> read(const char* path, hid_t memory_type) const {
        h5::Dataset dataset(H5_CHECK(H5Dopen2, file_.get(), path, H5P_DEFAULT));
        h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
        std::vector<T> values(static_cast<std::size_t>(H5_CHECK(H5Sget_simple_extent_npoints, space.get())));
        if (!values.empty())
            H5_CHECK(H5Dread, dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        return values;
    }
    std::vector<double> doubles(const char* path) const { return read<double>(path, H5T_NATIVE_DOUBLE); }
    std::vector<std::int64_t> int64s(const char* path) const {
        return read<std::int64_t>(path, H5T_NATIVE_INT64);
    }
    std::vector<std::int32_t> int32s(const char* path) const {
        return read<std::int32_t>(path, H5T_NATIVE_INT32);
    }
    std::vector<TaskStatus> statuses() const {
        h5::Datatype type = h5::status_enum();
        return read<TaskStatus>("tasks/status", type.get());
    }
    std::vector<bool> bools(const char* path) const {
        h5::Datatype type = h5::bool_enum();
        std::vector<std::int8_t> raw = read<std::int8_t>(path, type.get());
        return {raw.begin(), raw.end()};
    }
    std::vector<std::string> strings(const char* path) const {
        h5::Datatype type = h5::vlen_utf8_string();
        std::vector<char*> raw = read<char*>(path, type.get());
        std::vector<std::string> values;
        for (char* s : raw) {
            values.emplace_back(s ? s : "");
            H5free_memory(s);
        }
        return values;
    }
    std::vector<hsize_t> shape(const char* path) const {
        h5::Dataset dataset(H5_CHECK(H5Dopen2, file_.get(), path, H5P_DEFAULT));
        h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
        std::vector<hsize_t> dims(
            static_cast<std::size_t>(H5_CHECK(H5Sget_simple_extent_ndims, space.get())));
        H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims.data(), nullptr);
        return dims;
    }
    std::string string_attribute(const char* name) const {
        return h5::read_string_attribute(file_.get(), name);
    }
    std::int64_t int_attribute(const char* name) const { return h5::read_int64_attribute(file_.get(), name); }

private:
    h5::File file_;
};

// Reads what is on disk now, bypassing the writer's caches: a byte copy opened anew.
Reader on_disk(const std::string& path, const TempDir& dir) {
    std::string copy = dir.file("on-disk-copy.h5");
    fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
    return Reader(copy);
}

// ---- grids and records -------------------------------------------------------------------

// 4 x 3 = 12 tasks: a in 0..3 (int), b in x, y, z (string). Task id = 3 * a + b.
Grid small_grid() {
    Grid grid;
    grid.add(Axis::range("a", 0, 4));
    grid.add(Axis::list("b", {Value(std::string("x")), Value(std::string("y")), Value(std::string("z"))}));
    return grid;
}

StoreOptions options_for(const std::string& path) {
    StoreOptions options;
    options.path = path;
    options.command = "mpisweep a=range(0,4) b=x,y,z -- ./task";
    options.mpi_size = 5;
    return options;
}

TaskRecord done(std::uint64_t id, TaskResult results = {}) {
    TaskRecord record;
    record.id = TaskId(id);
    record.status = TaskStatus::Done;
    record.attempts = 1;
    record.worker = static_cast<int>(1 + id % 4);
    record.device = static_cast<int>(id % 2) - 1;
    record.node = id % 3 == 0 ? "node-a" : "node-b";
    record.start = 1.7e9 + static_cast<double>(id);
    record.wall_s = 0.25 * static_cast<double>(id);
    record.results = std::move(results);
    return record;
}

TaskRecord failed(std::uint64_t id, int attempts, std::string error, int exit_code = 3) {
    TaskRecord record = done(id);
    record.status = TaskStatus::Failed;
    record.attempts = attempts;
    record.error = std::move(error);
    record.exit_code = exit_code;
    return record;
}

template <class F>
std::string error_of(F&& action) {
    try {
        action();
    } catch (const StoreError& e) {
        return e.what();
    }
    return "(no StoreError)";
}

// ---- tests -------------------------------------------------------------------------------

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

TEST(Store, RecordsOutOfOrderLandInTheirTaskRows) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    // Completion order differs from id order; 2, 5 and 11 stay pending; 7 fails.
    for (std::uint64_t id : {9, 0, 4, 10, 1, 8, 3, 6})
        store.record(done(id, {{"loss", 0.5 * static_cast<double>(id)}, {"count", std::int64_t(3 * id)}}));
    store.record(failed(7, 3, "task 7 crashed", -11));
    store.close();

    Reader file(dir.file("r.h5"));
    auto status = file.statuses();
    auto loss = file.doubles("results/loss");
    auto count = file.int64s("results/count");
    auto attempts = file.int32s("tasks/attempts");
    auto worker = file.int32s("tasks/worker");
    auto device = file.int32s("tasks/device");
    auto node = file.int32s("tasks/node");
    auto start = file.doubles("tasks/start");
    auto wall = file.doubles("tasks/wall_s");
    auto exit_code = file.int32s("tasks/exit_code");
    auto error = file.strings("tasks/error");
    auto nodes = file.strings("nodes");
    ASSERT_EQ(loss.size(), 12u);
    for (std::uint64_t id = 0; id < 12; ++id) {
        SCOPED_TRACE("task " + std::to_string(id));
        const bool pending = id == 2 || id == 5 || id == 11;
        if (pending) {
            EXPECT_EQ(status[id], TaskStatus::Pending);
            EXPECT_EQ(attempts[id], 0);
            EXPECT_EQ(worker[id], -1);
            EXPECT_EQ(device[id], -1);
            EXPECT_EQ(node[id], -1);
            EXPECT_TRUE(std::isnan(start[id]));
            EXPECT_TRUE(std::isnan(wall[id]));
            EXPECT_TRUE(std::isnan(loss[id]));
            EXPECT_EQ(count[id], 0);
            continue;
        }
        TaskRecord expected = id == 7 ? failed(7, 3, "task 7 crashed", -11) : done(id);
        EXPECT_EQ(status[id], expected.status);
        EXPECT_EQ(attempts[id], expected.attempts);
        EXPECT_EQ(worker[id], expected.worker);
        EXPECT_EQ(device[id], expected.device);
        ASSERT_GE(node[id], 0);
        EXPECT_EQ(nodes.at(static_cast<std::size_t>(node[id])), expected.node);
        EXPECT_EQ(start[id], expected.start);
        EXPECT_EQ(wall[id], expected.wall_s);
        EXPECT_EQ(exit_code[id], expected.exit_code);
        EXPECT_EQ(error[id], expected.error);
        if (id == 7) {
            EXPECT_TRUE(std::isnan(loss[id]));  // a failure has no results
        } else {
            EXPECT_EQ(loss[id], 0.5 * static_cast<double>(id));
            EXPECT_EQ(count[id], static_cast<std::int64_t>(3 * id));
        }
    }
    EXPECT_EQ(nodes.size(), 2u);  // each host once, however many tasks it ran
}

// One batch, ids out of order, two records for one id: the later record is the row, its
// results included (the earlier one's results for that id are not written).
TEST(Store, TheLastRecordOfAnIdInABatchIsItsRow) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    store.record(done(
        5, {{"loss", 5.0}, {"label", std::string("five, first")}, {"curve", std::vector<double>{1, 2}}}));
    store.record(done(2, {{"loss", 2.0}, {"curve", std::vector<double>{2, 20}}}));
    store.record(failed(3, 1, "task 3 crashed"));
    store.record(done(3, {{"label", std::string("three")}}));
    store.record(done(5, {{"loss", std::int64_t(50)}}));
    store.record(failed(8, 2, "task 8 crashed"));
    EXPECT_EQ(store.statuses()[5], TaskStatus::Done);
    EXPECT_EQ(store.statuses()[3], TaskStatus::Done);
    store.close();

    Reader file(dir.file("r.h5"));
    auto status = file.statuses();
    auto loss = file.doubles("results/loss");
    auto label = file.strings("results/label");
    auto curve = file.doubles("results/curve");
    auto error = file.strings("tasks/error");
    EXPECT_EQ(status[5], TaskStatus::Done);
    EXPECT_EQ(loss[5], 50.0);
    EXPECT_EQ(label[5], "");
    EXPECT_TRUE(std::isnan(curve[10]) && std::isnan(curve[11]));
    EXPECT_EQ(status[3], TaskStatus::Done);
    EXPECT_EQ(error[3], "");
    EXPECT_EQ(label[3], "three");
    EXPECT_TRUE(std::isnan(loss[3]));
    EXPECT_EQ(loss[2], 2.0);
    EXPECT_EQ(curve[4], 2.0);
    EXPECT_EQ(curve[5], 20.0);
    EXPECT_EQ(status[8], TaskStatus::Failed);
    EXPECT_EQ(error[8], "task 8 crashed");
    EXPECT_EQ(file.int32s("tasks/attempts")[8], 2);
    EXPECT_EQ(status[0], TaskStatus::Pending);
}

// A batch larger than its first allocation, ids descending, every id twice: each row holds
// its id's second record.
TEST(Store, ALargeBatchInReverseOrderKeepsTheLastRecordOfEachId) {
    TempDir dir;
    Grid grid;
    grid.add(Axis::range("i", 0, 3000));
    StoreOptions options = options_for(dir.file("r.h5"));
    options.flush_rows = 100000;
    auto store = ResultStore::create(grid, options);
    for (int round = 0; round < 2; ++round)
        for (std::uint64_t id = 3000; id-- > 0;)
            store.record(done(id, {{"loss", static_cast<double>(id) + round}}));
    store.close();
    Reader file(dir.file("r.h5"));
    auto loss = file.doubles("results/loss");
    auto status = file.statuses();
    auto wall = file.doubles("tasks/wall_s");
    ASSERT_EQ(loss.size(), 3000u);
    for (std::uint64_t id = 0; id < 3000; ++id) {
        ASSERT_EQ(loss[id], static_cast<double>(id) + 1) << "task " << id;
        ASSERT_EQ(status[id], TaskStatus::Done) << "task " << id;
        ASSERT_EQ(wall[id], 0.25 * static_cast<double>(id)) << "task " << id;
    }
}

TEST(Store, StringAndArrayResultsHaveTheirOwnShapes) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    store.record(done(4, {{"label", std::string("four")}, {"curve", std::vector<double>{4, 40, 400}}}));
    store.record(done(1, {{"label", std::string("ünïcödé")}, {"curve", std::vector<double>{1, 10, 100}}}));
    store.close();

    Reader file(dir.file("r.h5"));
    EXPECT_EQ(file.shape("results/curve"), (std::vector<hsize_t>{12, 3}));
    auto curve = file.doubles("results/curve");
    EXPECT_EQ(std::vector<double>(curve.begin() + 12, curve.begin() + 15), (std::vector<double>{4, 40, 400}));
    EXPECT_EQ(std::vector<double>(curve.begin() + 3, curve.begin() + 6), (std::vector<double>{1, 10, 100}));
    EXPECT_TRUE(std::isnan(curve[0]) && std::isnan(curve[35]));  // pending rows: NaN
    auto label = file.strings("results/label");
    EXPECT_EQ(label[4], "four");
    EXPECT_EQ(label[1], "ünïcödé");
    EXPECT_EQ(label[0], "");
}

TEST(Store, IntegerIntoFloatColumnIsConverted) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    store.record(done(0, {{"loss", 0.5}}));
    store.record(done(1, {{"loss", std::int64_t(3)}}));
    store.close();
    auto loss = Reader(dir.file("r.h5")).doubles("results/loss");
    EXPECT_EQ(loss[0], 0.5);
    EXPECT_EQ(loss[1], 3.0);
}

TEST(Store, TypeMismatchIsRefusedBeforeAnythingIsBuffered) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    store.record(done(0, {{"loss", 0.5}, {"n", std::int64_t(1)}, {"curve", std::vector<double>{1, 2}}}));

    std::string message = error_of([&] {
        store.record(done(1, {{"fresh", 1.0}, {"loss", std::string("high")}}));
    });
    EXPECT_NE(message.find("'loss'"), std::string::npos) << message;
    EXPECT_NE(message.find("string"), std::string::npos) << message;
    EXPECT_NE(message.find("float64"), std::string::npos) << message;
    message = error_of([&] { store.record(done(2, {{"n", 1.5}})); });
    EXPECT_NE(message.find("'n'"), std::string::npos) << message;
    EXPECT_NE(message.find("int64"), std::string::npos) << message;
    message = error_of([&] { store.record(done(3, {{"curve", std::vector<double>{1, 2, 3}}})); });
    EXPECT_NE(message.find("float64[2]"), std::string::npos) << message;
    EXPECT_NE(message.find("float64[3]"), std::string::npos) << message;
    for (const char* bad : {"", "a/b", "."})
        EXPECT_NE(error_of([&] { store.record(done(4, {{bad, 1.0}})); }), "(no StoreError)") << bad;

    // The refused record left nothing behind: its new column did not get a type.
    store.record(done(5, {{"fresh", std::string("a string is fine")}}));
    store.close();
    Reader file(dir.file("r.h5"));
    auto status = file.statuses();
    EXPECT_EQ(status[0], TaskStatus::Done);
    for (std::uint64_t id : {1, 2, 3, 4}) EXPECT_EQ(status[id], TaskStatus::Pending) << id;
    EXPECT_EQ(file.strings("results/fresh")[5], "a string is fine");
}

TEST(Store, RefusesAnExistingFileAndLeavesItUntouched) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto store = ResultStore::create(small_grid(), options_for(path));
        store.record(done(3, {{"loss", 1.0}}));
    }
    const std::string before = file_bytes(path);
    std::string message = error_of([&] { ResultStore::create(small_grid(), options_for(path)); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("--resume"), std::string::npos) << message;
    EXPECT_NE(message.find("--force"), std::string::npos) << message;
    EXPECT_EQ(file_bytes(path), before);
    // Tasks are pending, so the journal stays beside the file.
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"r.h5", "r.h5.journal"}));
}

TEST(Store, OverwriteReplacesTheOldFile) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto store = ResultStore::create(small_grid(), options_for(path));
        store.record(done(3, {{"loss", 1.0}}));
    }
    Grid other;
    other.add(Axis::linspace("lr", 0.0, 1.0, 5));
    StoreOptions options = options_for(path);
    options.overwrite = true;
    ResultStore::create(other, options).close();
    Reader file(path);
    EXPECT_EQ(file.int_attribute("n_tasks"), 5);
    EXPECT_EQ(file.doubles("params/lr"), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
    EXPECT_FALSE(file.exists("results/loss"));
    EXPECT_EQ(dir.entries(), (std::vector<std::string>{"r.h5", "r.h5.journal"}));  // no temporary left
}

TEST(Store, UnwritableFolderIsOneClearError) {
    TempDir dir;
    const std::string missing_folder = dir.file("no-such-folder");
    std::string message =
        error_of([&] { ResultStore::create(small_grid(), options_for(missing_folder + "/r.h5")); });
    EXPECT_NE(message.find("folder '" + missing_folder + "'"), std::string::npos) << message;

    if (::geteuid() != 0) {  // root writes anywhere: the permission case needs a normal user
        fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
        message = error_of([&] { ResultStore::create(small_grid(), options_for(dir.file("r.h5"))); });
        EXPECT_NE(message.find("folder '" + dir.path().string() + "'"), std::string::npos) << message;
        EXPECT_NE(message.find("Permission denied"), std::string::npos) << message;
    }
}

TEST(Store, ResumeReadsStatusesFromTheFile) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto store = ResultStore::create(small_grid(), options_for(path));
        store.record(done(1, {{"loss", 1.0}}));
        store.record(failed(6, 3, "boom"));
    }
    auto store = ResultStore::open_for_resume(small_grid(), options_for(path));
    std::vector<TaskStatus> expected(12, TaskStatus::Pending);
    expected[1] = TaskStatus::Done;
    expected[6] = TaskStatus::Failed;
    EXPECT_EQ(store.statuses(), expected);
    store.record(done(8));  // buffered, not yet flushed: statuses() still counts it
    expected[8] = TaskStatus::Done;
    EXPECT_EQ(store.statuses(), expected);
    EXPECT_EQ(store.size(), 12u);
}

TEST(Store, ResumeRefusesAnotherGridNamingTheAxis) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    Grid original;
    original.add(Axis::list("lr", {Value(0.1), Value(0.2)}));
    original.add(Axis::range("seed", 0, 3));
    ResultStore::create(original, options_for(path)).close();

    Grid other_values;
    other_values.add(Axis::list("lr", {Value(0.1), Value(0.3)}));
    other_values.add(Axis::range("seed", 0, 3));
    std::string message = error_of([&] { ResultStore::open_for_resume(other_values, options_for(path)); });
    EXPECT_NE(message.find("axis 'lr'"), std::string::npos) << message;
    EXPECT_NE(message.find(path), std::string::npos) << message;

    Grid extra_axis = original;
    extra_axis.add(Axis::list("opt", {Value(std::string("sgd"))}));
    message = error_of([&] { ResultStore::open_for_resume(extra_axis, options_for(path)); });
    EXPECT_NE(message.find("axis 'opt'"), std::string::npos) << message;

    Grid longer_range;
    longer_range.add(Axis::list("lr", {Value(0.1), Value(0.2)}));
    longer_range.add(Axis::range("seed", 0, 4));
    message = error_of([&] { ResultStore::open_for_resume(longer_range, options_for(path)); });
    EXPECT_NE(message.find("axis 'seed'"), std::string::npos) << message;
}

TEST(Store, ResumeRefusesFilesThatAreNotMpisweepFiles) {
    TempDir dir;
    {
        h5::File plain(
            H5_CHECK(H5Fcreate, dir.file("plain.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    }
    std::ofstream(dir.file("text.h5")) << "not hdf5 at all\n";
    for (const char* name : {"plain.h5", "text.h5"}) {
        std::string message =
            error_of([&] { ResultStore::open_for_resume(small_grid(), options_for(dir.file(name))); });
        EXPECT_NE(message.find("not an mpisweep results file"), std::string::npos) << message;
        EXPECT_NE(message.find(name), std::string::npos) << message;
    }
    std::string message =
        error_of([&] { ResultStore::open_for_resume(small_grid(), options_for(dir.file("absent.h5"))); });
    EXPECT_NE(message.find("no such file"), std::string::npos) << message;
}

TEST(Store, AttemptsAddUpAndErrorsClearAcrossResume) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto store = ResultStore::create(small_grid(), options_for(path));
        TaskRecord first = failed(3, 2, "first run: out of memory");
        first.node = "n1";
        store.record(first);
        TaskRecord second = failed(4, 3, "first run: segfault");
        second.node = "n2";
        store.record(second);
    }
    {
        auto store = ResultStore::open_for_resume(small_grid(), options_for(path));
        TaskRecord retried = done(3, {{"loss", 2.0}});
        retried.attempts = 1;
        retried.node = "n2";
        store.record(retried);
        TaskRecord again = failed(4, 2, "second run: segfault");
        again.node = "n3";
        store.record(again);
    }
    Reader file(path);
    auto attempts = file.int32s("tasks/attempts");
    auto error = file.strings("tasks/error");
    auto status = file.statuses();
    auto node = file.int32s("tasks/node");
    EXPECT_EQ(attempts[3], 3);
    EXPECT_EQ(status[3], TaskStatus::Done);
    EXPECT_EQ(error[3], "");
    EXPECT_EQ(attempts[4], 5);
    EXPECT_EQ(status[4], TaskStatus::Failed);
    EXPECT_EQ(error[4], "second run: segfault");
    // Node indexes from the first run stay valid: names are appended, never reordered.
    EXPECT_EQ(file.strings("nodes"), (std::vector<std::string>{"n1", "n2", "n3"}));
    EXPECT_EQ(node[3], 1);
    EXPECT_EQ(node[4], 2);
}

TEST(Store, FlushesOnItsOwnWhenTheBatchIsFull) {
    TempDir dir;
    StoreOptions options = options_for(dir.file("r.h5"));
    options.flush_rows = 3;
    options.flush_interval = 1h;
    auto store = ResultStore::create(small_grid(), options);
    store.record(done(0, {{"loss", 1.0}}));
    store.record(done(1, {{"loss", 2.0}}));
    EXPECT_EQ(on_disk(store.path(), dir).statuses()[1], TaskStatus::Pending);
    store.record(done(2, {{"loss", 3.0}}));
    Reader file = on_disk(store.path(), dir);
    EXPECT_EQ(file.doubles("results/loss")[0], 1.0);
    EXPECT_EQ(file.doubles("results/loss")[2], 3.0);
    EXPECT_EQ(file.statuses()[2], TaskStatus::Done);
}

TEST(Store, MaybeFlushWritesOnceTheOldestRecordIsOld) {
    TempDir dir;
    StoreOptions options = options_for(dir.file("r.h5"));
    options.flush_interval = 300ms;
    auto store = ResultStore::create(small_grid(), options);
    const auto recorded = std::chrono::steady_clock::now();
    store.record(done(5, {{"loss", 1.0}}));
    store.maybe_flush();
    // Only meaningful if this thread was not descheduled past the interval meanwhile.
    if (std::chrono::steady_clock::now() - recorded < options.flush_interval) {
        EXPECT_EQ(on_disk(store.path(), dir).statuses()[5], TaskStatus::Pending);
    }
    std::this_thread::sleep_until(recorded + options.flush_interval + 10ms);
    store.maybe_flush();
    EXPECT_EQ(on_disk(store.path(), dir).statuses()[5], TaskStatus::Done);
    EXPECT_EQ(on_disk(store.path(), dir).doubles("results/loss")[5], 1.0);
}

TEST(Store, DestructorFlushesAndCloses) {
    TempDir dir;
    {
        auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
        store.record(done(11, {{"loss", 7.0}}));
    }
    EXPECT_EQ(Reader(dir.file("r.h5")).doubles("results/loss")[11], 7.0);
}

TEST(Store, ClosedStoreRefusesRecords) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    store.close();
    EXPECT_NE(error_of([&] { store.record(done(0)); }).find("closed"), std::string::npos);
    EXPECT_NE(error_of([&] { auto copy = store.statuses(); }).find("closed"), std::string::npos);
}

TEST(Store, RecordForATaskOutsideTheGridIsRefused) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    std::string message = error_of([&] { store.record(done(12)); });
    EXPECT_NE(message.find("12"), std::string::npos) << message;
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

TEST(PendingFile, IsRemovedUnlessCommittedAndCommitReplacesTheTarget) {
    TempDir dir;
    const std::string target = dir.file("r.h5");
    std::ofstream(target) << "old";
    {
        store::PendingFile abandoned(target);  // e.g. writing the new file threw
        std::ofstream(abandoned.path()) << "half written";
        EXPECT_EQ(dir.entries().size(), 2u);
    }
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"r.h5"});
    EXPECT_EQ(file_bytes(target), "old");
    {
        store::PendingFile complete(target);
        std::ofstream(complete.path()) << "new";
        complete.commit();
    }
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"r.h5"});
    EXPECT_EQ(file_bytes(target), "new");
}

TEST(H5Check, FailureCarriesRoutineCodeAndHdf5Stack) {
    h5::silence_automatic_error_printing();
    try {
        H5_CHECK(H5Fopen, "/no/such/file.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
        FAIL() << "H5Fopen of a missing file succeeded";
    } catch (const h5::H5Error& e) {
        EXPECT_EQ(e.routine(), "H5Fopen");
        EXPECT_LT(e.code(), 0);
        EXPECT_NE(e.stack().find("unable to open file"), std::string::npos) << e.stack();
        EXPECT_NE(std::string(e.what()).find("H5Fopen"), std::string::npos) << e.what();
    }
}

// Throughput of record() + flush(), 3 result columns: run by hand with
//   store_test --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
TEST(Store, DISABLED_RecordThroughput) {
    TempDir dir;
    const std::uint64_t n = 1'000'000;
    Grid grid;
    grid.add(Axis::range("i", 0, static_cast<std::int64_t>(n)));
    auto store = ResultStore::create(grid, options_for(dir.file("r.h5")));
    const auto begin = std::chrono::steady_clock::now();
    for (std::uint64_t id = 0; id < n; ++id)
        store.record(done(
            id, {{"loss", 1.0 / static_cast<double>(id + 1)}, {"steps", std::int64_t(id)}, {"acc", 0.5}}));
    store.close();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::printf("%.0f records/s (%llu records, 3 result columns, %.2f s)\n", static_cast<double>(n) / seconds,
                static_cast<unsigned long long>(n), seconds);
}

}  // namespace
}  // namespace mpisweep
