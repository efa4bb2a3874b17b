// Recording: rows by task id whatever the order, the last record of an id, result types,
// flushing by size and age, closing.
#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>
#include <thread>

#include "unit/store_support.hpp"

namespace mpisweep {
namespace {

using namespace store_test;

// A store of `tasks` tasks (i in 0..tasks) at dir/r.h5 whose records stay in one batch until
// a flush or the close.
ResultStore one_batch_store(const TempDir& dir, std::int64_t tasks) {
    Grid grid;
    grid.add(Axis::range("i", 0, tasks));
    StoreOptions options = options_for(dir.file("r.h5"));
    options.flush_rows = 100000;
    return ResultStore::create(grid, options);
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
    EXPECT_EQ(statuses_of(store)[5], TaskStatus::Done);
    EXPECT_EQ(statuses_of(store)[3], TaskStatus::Done);
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
    auto store = one_batch_store(dir, 3000);
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

// Several workers' batches of consecutive ids, interleaved, with gaps: one flush of more runs
// than one hyperslab selection takes (the writer splits it into segments), then scattered ids
// (a point selection). Every row lands in its place; the gaps stay pending.
TEST(Store, InterleavedRunsOfIdsLandInTheirRows) {
    TempDir dir;
    auto store = one_batch_store(dir, 40000);
    const auto pending = [](std::uint64_t id) { return (id / 50) % 7 == 3 || (id >= 30000 && id % 3 != 0); };
    for (std::uint64_t w = 0; w < 4; ++w)  // worker w's runs of 50: 200w + 0..49, 200w + 200 ...
        for (std::uint64_t first = 50 * w; first < 30000; first += 200)
            for (std::uint64_t id = first; id < first + 50; ++id)
                if (!pending(id)) store.record(done(id, {{"loss", static_cast<double>(id)}}));
    store.flush();
    for (std::uint64_t id = 39999; id >= 30000; --id)
        if (!pending(id)) store.record(done(id, {{"loss", static_cast<double>(id)}}));
    store.close();
    Reader file(dir.file("r.h5"));
    auto loss = file.doubles("results/loss");
    auto status = file.statuses();
    ASSERT_EQ(status.size(), 40000u);
    for (std::uint64_t id = 0; id < 40000; ++id) {
        if (pending(id)) {
            ASSERT_EQ(status[id], TaskStatus::Pending) << "task " << id;
            ASSERT_TRUE(std::isnan(loss[id])) << "task " << id;
        } else {
            ASSERT_EQ(status[id], TaskStatus::Done) << "task " << id;
            ASSERT_EQ(loss[id], static_cast<double>(id)) << "task " << id;
        }
    }
}

// Flushes one after another, each of interleaved runs (as report batches of several workers
// arrive), smaller than the one before, then one with an id recorded twice: the rows, the
// errors of failures and the results of each flush land in their own rows, whatever the
// previous flush left in the sort's columns.
TEST(Store, SuccessiveFlushesOfInterleavedRunsKeepEachRowsErrorAndResults) {
    TempDir dir;
    auto store = one_batch_store(dir, 20000);
    const auto fails = [](std::uint64_t id) { return id % 97 == 5; };
    const auto record = [&](std::uint64_t id) {
        if (fails(id))
            store.record(failed(id, 2, "task " + std::to_string(id) + " crashed"));
        else
            store.record(done(id, {{"loss", static_cast<double>(id)}}));
    };
    // Flush k: 4 workers' runs of `run` ids over [begin, begin + 4 * run * rounds).
    std::uint64_t begin = 0;
    for (const std::uint64_t run : {500, 120, 7}) {
        const std::uint64_t rounds = 4;
        for (std::uint64_t r = 0; r < rounds; ++r)
            for (std::uint64_t w = 4; w-- > 0;)  // the last worker's run first
                for (std::uint64_t id = begin + (4 * r + w) * run; id < begin + (4 * r + w + 1) * run; ++id)
                    record(id);
        begin += 4 * run * rounds;
        store.flush();
    }
    // An id twice in one flush: the general order; the later record is the row.
    for (std::uint64_t id = begin; id < begin + 50; ++id) record(id);
    store.record(done(begin + 5, {{"loss", -1.0}}));
    for (std::uint64_t id = begin + 50; id < begin + 60; ++id) record(id);
    store.close();
    const std::uint64_t end = begin + 60;

    Reader file(dir.file("r.h5"));
    auto status = file.statuses();
    auto loss = file.doubles("results/loss");
    auto error = file.strings("tasks/error");
    auto attempts = file.int32s("tasks/attempts");
    for (std::uint64_t id = 0; id < 20000; ++id) {
        SCOPED_TRACE("task " + std::to_string(id));
        if (id >= end) {
            ASSERT_EQ(status[id], TaskStatus::Pending);
        } else if (id == begin + 5) {
            ASSERT_EQ(status[id], TaskStatus::Done);
            ASSERT_EQ(loss[id], -1.0);
            ASSERT_EQ(error[id], "");
        } else if (fails(id)) {
            ASSERT_EQ(status[id], TaskStatus::Failed);
            ASSERT_EQ(error[id], "task " + std::to_string(id) + " crashed");
            ASSERT_EQ(attempts[id], 2);
            ASSERT_TRUE(std::isnan(loss[id]));
        } else {
            ASSERT_EQ(status[id], TaskStatus::Done);
            ASSERT_EQ(loss[id], static_cast<double>(id));
            ASSERT_EQ(error[id], "");
        }
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
    message = error_of([&] { store.record(done(3, {{"loss", true}})); });
    EXPECT_NE(message.find("is bool, but column /results/loss holds float64"), std::string::npos) << message;
    message = error_of([&] { store.record(done(3, {{"curve", 2.5}})); });
    EXPECT_NE(message.find("is float64, but column /results/curve holds float64[2]"), std::string::npos)
        << message;
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

// Curves that stop early: an array column whose tasks return arrays of other lengths becomes
// variable-length (each row read back at its own length), whether its dataset was written
// [N, k] already (rewritten) or not; a task without the field, and the fill, read as empty.
TEST(Store, ArraysOfOtherLengthsMakeTheColumnVariableLength) {
    for (bool flush_first : {false, true}) {
        SCOPED_TRACE(flush_first ? "[N, 2] dataset written first" : "all in one flush");
        TempDir dir;
        {
            auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
            store.record(
                done(0, {{"curve", std::vector<double>{1, 2}}, {"same", std::vector<double>{5, 6}}}));
            store.record(done(1, {{"curve", std::vector<double>{3, 4}}}));
            if (flush_first) store.flush();
            store.record(done(7, {{"curve", std::vector<double>{0.5, 0.25, 0.125}}}));
            store.record(done(3, {{"curve", std::vector<double>{}}}));
            store.record(done(4, {{"curve", std::vector<double>{9}}, {"same", std::vector<double>{7, 8}}}));
            store.record(done(2, {{"other", 1.0}}));
        }
        Reader file(dir.file("r.h5"));
        const auto curve = file.lists("results/curve");
        ASSERT_EQ(curve.size(), 12u);
        EXPECT_EQ(curve[0], (std::vector<double>{1, 2}));
        EXPECT_EQ(curve[1], (std::vector<double>{3, 4}));
        EXPECT_EQ(curve[7], (std::vector<double>{0.5, 0.25, 0.125}));
        EXPECT_EQ(curve[3], std::vector<double>{});
        EXPECT_EQ(curve[4], std::vector<double>{9});
        EXPECT_EQ(curve[2], std::vector<double>{});   // done without the field
        EXPECT_EQ(curve[11], std::vector<double>{});  // pending
        EXPECT_EQ(file.string_attribute_of("results/curve", "missing"), "empty array");
        EXPECT_EQ(file.shape("results/same"), (std::vector<hsize_t>{12, 2}));  // one length: stays [N, k]
    }
}

TEST(Store, AnEmptyArrayFirstMakesAVariableLengthColumnAndBoolsAreBools) {
    TempDir dir;
    {
        auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
        store.record(done(0, {{"curve", std::vector<double>{}}, {"converged", true}}));
        store.record(done(1, {{"curve", std::vector<double>{1, 2, 3}}, {"converged", false}}));
        EXPECT_NE(error_of([&] {
                      store.record(done(2, {{"converged", std::int64_t(1)}}));
                  }).find("is int64, but column /results/converged holds bool"),
                  std::string::npos);
    }
    Reader file(dir.file("r.h5"));
    EXPECT_EQ(file.lists("results/curve")[1], (std::vector<double>{1, 2, 3}));
    EXPECT_EQ(file.bools("results/converged")[0], true);
    EXPECT_EQ(file.bools("results/converged")[1], false);
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
    {
        Reader file = on_disk(store.path(), dir);
        EXPECT_EQ(file.doubles("results/loss")[0], 1.0);
        EXPECT_EQ(file.doubles("results/loss")[2], 3.0);
    }
    // The /tasks chunk still filling waits in memory for the next full batch or two (its
    // records are in the journal, from the offset the Commit names); flush() writes it.
    store.flush();
    EXPECT_EQ(on_disk(store.path(), dir).statuses()[2], TaskStatus::Done);
}

TEST(Store, AChunkStillFillingIsWrittenWithinTwoMoreFullBatches) {
    TempDir dir;
    StoreOptions options = options_for(dir.file("r.h5"));
    options.flush_rows = 2;
    options.flush_interval = 1h;
    auto store = ResultStore::create(small_grid(), options);
    for (std::uint64_t id = 0; id < 6; ++id) store.record(done(id, {{"loss", 1.0}}));
    // Three full batches into one chunk: held through two, written with the third.
    const std::vector<TaskStatus> statuses = on_disk(store.path(), dir).statuses();
    for (std::uint64_t id = 0; id < 6; ++id) EXPECT_EQ(statuses[id], TaskStatus::Done) << "row " << id;
}

// Wide results: a batch is written once its values reach kFlushValueBytes, long before
// flush_rows records (a batch of 65,536 arrays of 1,000 doubles would be 500 MiB).
TEST(Store, FlushesOnItsOwnOnceTheBatchsValuesAreLarge) {
    TempDir dir;
    StoreOptions options = options_for(dir.file("r.h5"));
    options.flush_interval = 1h;
    auto store = ResultStore::create(small_grid(), options);
    const std::vector<double> megabyte(kFlushValueBytes / 32 / sizeof(double), 1.5);
    for (std::uint64_t id = 0; id < 31; ++id) store.record(done(id % 12, {{"curve", megabyte}}));
    EXPECT_EQ(on_disk(store.path(), dir).statuses()[0], TaskStatus::Pending);
    store.record(done(0, {{"curve", megabyte}}));
    EXPECT_EQ(on_disk(store.path(), dir).statuses()[0], TaskStatus::Done);
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
    EXPECT_NE(error_of([&] { auto copy = statuses_of(store); }).find("closed"), std::string::npos);
}

TEST(Store, RecordForATaskOutsideTheGridIsRefused) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    std::string message = error_of([&] { store.record(done(12)); });
    EXPECT_NE(message.find("12"), std::string::npos) << message;
}

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
