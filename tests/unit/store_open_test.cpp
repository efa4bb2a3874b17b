// Creating and resuming a file: existing files refused or replaced, statuses and attempts
// read back, other grids and foreign files refused; the HDF5 wrappers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "store/pending_file.hpp"
#include "unit/store_support.hpp"

namespace mpisweep {
namespace {

using namespace store_test;

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
    {
        auto store = ResultStore::create(other, options);
        store.record(done(0));
    }
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
    EXPECT_EQ(statuses_of(store), expected);
    store.record(done(8));  // buffered, not yet flushed: statuses() still counts it
    expected[8] = TaskStatus::Done;
    EXPECT_EQ(statuses_of(store), expected);
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
    const h5::SilenceErrors quiet;
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

// A program that prints HDF5's errors itself (its own handler) keeps doing so: the store
// silences the printing only while it calls HDF5, and nothing of its own failure is printed.
int g_printed = 0;
herr_t count_printing(hid_t, void*) {
    ++g_printed;
    return 0;
}

TEST(H5Check, TheStoreSilencesHdf5OnlyAroundItsOwnCalls) {
    TempDir dir;
    const std::string path = dir.file("not-hdf5.h5");
    std::ofstream(path) << "plain text";
    H5E_auto2_t before_function = nullptr;
    void* before_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &before_function, &before_data);
    H5Eset_auto2(H5E_DEFAULT, count_printing, nullptr);
    g_printed = 0;
    EXPECT_THROW(ResultStore::open_for_resume(small_grid(), options_for(path)), StoreError);
    {
        auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
        store.record(done(1));
        store.flush();
        store.close();
    }
    EXPECT_EQ(g_printed, 0) << "the store's own HDF5 errors were printed";
    H5E_auto2_t now_function = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &now_function, nullptr);
    EXPECT_EQ(now_function, &count_printing) << "the program's error printing was not restored";
    EXPECT_LT(H5Fopen("/no/such/file.h5", H5F_ACC_RDONLY, H5P_DEFAULT), 0);
    EXPECT_EQ(g_printed, 1) << "the program's own failing call was not printed by its handler";
    H5Eset_auto2(H5E_DEFAULT, before_function, before_data);
}

}  // namespace
}  // namespace mpisweep
