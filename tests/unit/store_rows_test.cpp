// Rows handed over as views (the master's path: the columns of a report batch, no TaskRecord
// and no map per task) land in the file and the journal exactly as TaskRecords do; check()
// refuses what record() would refuse, before anything changes.
#include <algorithm>
#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "store/journal_codec.hpp"
#include "unit/store_support.hpp"

namespace mpisweep {
namespace {

using namespace store_test;

/// A batch's result pools, as a report batch holds them: names once, values by type.
struct Pools {
    std::vector<std::string> names = {"loss", "count", "label", "curve"};
    std::vector<double> doubles;
    std::vector<std::string> strings;
};

/// The fields of task `id` as views into `pools` (the pools must not grow afterwards).
std::vector<FieldView> fields_of(std::uint64_t id, Pools& pools, std::size_t& d, std::size_t& s) {
    std::vector<FieldView> fields(4);
    fields[0] = {&pools.names[0], ResultView{}};
    fields[0].value.number = pools.doubles[d++];
    fields[1] = {&pools.names[1], ResultView{}};
    fields[1].value.kind = ResultView::Kind::Int;
    fields[1].value.integer = static_cast<std::int64_t>(3 * id);
    fields[2] = {&pools.names[2], ResultView{}};
    fields[2].value.kind = ResultView::Kind::String;
    fields[2].value.text = &pools.strings[s++];
    fields[3] = {&pools.names[3], ResultView{}};
    fields[3].value.kind = ResultView::Kind::Array;
    fields[3].value.values = &pools.doubles[d];
    fields[3].value.count = 2;
    d += 2;
    return fields;
}

TaskResult result_of(std::uint64_t id) {
    const double x = static_cast<double>(id);
    return {{"loss", 0.5 * x},
            {"count", std::int64_t(3 * id)},
            {"label", "task " + std::to_string(id)},
            {"curve", std::vector<double>{x, x + 1}}};
}

Pools pools_for(const std::vector<std::uint64_t>& ids) {
    Pools pools;
    for (std::uint64_t id : ids) {
        const double x = static_cast<double>(id);
        pools.doubles.insert(pools.doubles.end(), {0.5 * x, x, x + 1});
        pools.strings.push_back("task " + std::to_string(id));
    }
    return pools;
}

TEST(StoreRows, RowsGivenAsViewsLandLikeTaskRecords) {
    TempDir dir;
    const std::vector<std::uint64_t> ids = {9, 0, 4, 10, 1};
    const std::string node = "node-b";
    const std::string error = "task 7 crashed";
    {
        auto by_record = ResultStore::create(small_grid(), options_for(dir.file("records.h5")));
        for (std::uint64_t id : ids) {
            TaskRecord r = done(id, result_of(id));
            r.node = node;
            by_record.record(r);
        }
        TaskRecord f = failed(7, 3, error, -11);
        f.node = node;
        by_record.record(f);
    }
    {
        auto by_row = ResultStore::create(small_grid(), options_for(dir.file("rows.h5")));
        Pools pools = pools_for(ids);
        std::size_t d = 0, s = 0;
        for (std::uint64_t id : ids) {
            const std::vector<FieldView> fields = fields_of(id, pools, d, s);
            const TaskRecord shape = done(id);
            RowView row = row_view(shape, {});
            row.node = &node;
            row.error = nullptr;
            row.fields = fields.data();
            row.n_fields = fields.size();
            by_row.check(TaskId(id), fields.data(), fields.size());
            by_row.record(row);
        }
        const TaskRecord shape = failed(7, 3, error, -11);
        RowView row = row_view(shape, {});
        row.node = &node;
        row.error = &error;
        by_row.record(row);  // a failure: no results, no check
    }
    Reader a(dir.file("records.h5")), b(dir.file("rows.h5"));
    EXPECT_EQ(a.statuses(), b.statuses());
    for (const char* column :
         {"tasks/attempts", "tasks/worker", "tasks/device", "tasks/node", "tasks/exit_code"})
        EXPECT_EQ(a.int32s(column), b.int32s(column)) << column;
    EXPECT_EQ(a.strings("tasks/error"), b.strings("tasks/error"));
    EXPECT_EQ(a.strings("nodes"), b.strings("nodes"));
    EXPECT_EQ(a.strings("results/label"), b.strings("results/label"));
    EXPECT_EQ(a.int64s("results/count"), b.int64s("results/count"));
    for (const char* column : {"tasks/start", "tasks/wall_s", "results/loss", "results/curve"}) {
        const auto x = a.doubles(column), y = b.doubles(column);
        ASSERT_EQ(x.size(), y.size()) << column;
        for (std::size_t i = 0; i < x.size(); ++i)
            EXPECT_TRUE(x[i] == y[i] || (x[i] != x[i] && y[i] != y[i])) << column << "[" << i << "]";
    }
    EXPECT_EQ(b.statuses()[7], TaskStatus::Failed);
    EXPECT_EQ(b.strings("tasks/error")[7], error);
    EXPECT_EQ(b.doubles("results/curve")[2 * 10 + 1], 11.0);
}

TEST(StoreRows, AJournalRecordFromAViewHasTheBytesOfOneFromATaskRecord) {
    Pools pools = pools_for({4});
    std::size_t d = 0, s = 0;
    std::vector<FieldView> fields = fields_of(4, pools, d, s);
    // A record's fields come in name order (its map's).
    std::sort(fields.begin(), fields.end(),
              [](const FieldView& x, const FieldView& y) { return *x.name < *y.name; });
    TaskRecord record = done(4, result_of(4));
    record.error = "";
    RowView row = row_view(record, {});
    row.fields = fields.data();
    row.n_fields = fields.size();
    store::RecordsFrame from_view, from_record;
    from_view.add(row);
    from_record.add(record);
    EXPECT_EQ(std::string(from_view.seal()), std::string(from_record.seal()));
}

TEST(StoreRows, CheckRefusesWhatRecordWouldRefuseAndChangesNothing) {
    TempDir dir;
    auto store = ResultStore::create(small_grid(), options_for(dir.file("r.h5")));
    const std::string loss = "loss";
    const std::string high = "high";
    FieldView number{&loss, ResultView{}};
    number.value.number = 0.5;
    FieldView text{&loss, ResultView{}};
    text.value.kind = ResultView::Kind::String;
    text.value.text = &high;

    TaskRecord shape = done(0);
    RowView first = row_view(shape, {});
    first.fields = &number;
    first.n_fields = 1;
    store.check(TaskId(0), &number, 1);
    store.record(first);  // /results/loss is float64 from now on

    const std::string message = error_of([&] { store.check(TaskId(1), &text, 1); });
    EXPECT_NE(message.find("'loss' is string, but column /results/loss holds float64"), std::string::npos)
        << message;
    // A refused check leaves nothing "checked": recording that row anyway checks it again.
    TaskRecord shape1 = done(1);
    RowView second = row_view(shape1, {});
    second.fields = &text;
    second.n_fields = 1;
    EXPECT_NE(error_of([&] { store.record(second); }), "(no StoreError)");
    // A check holds for its own row only: the master reuses one buffer of views, and a row
    // checked but never recorded (a duplicate) must not vouch for the next one.
    FieldView buffer = number;
    store.check(TaskId(2), &buffer, 1);
    buffer = text;
    TaskRecord shape3 = done(3);
    RowView third = row_view(shape3, {});
    third.fields = &buffer;
    third.n_fields = 1;
    EXPECT_NE(error_of([&] { store.record(third); }), "(no StoreError)");
    store.close();
    Reader file(dir.file("r.h5"));
    EXPECT_EQ(file.statuses()[0], TaskStatus::Done);
    EXPECT_EQ(file.statuses()[1], TaskStatus::Pending) << "the refused row left nothing behind";
    EXPECT_EQ(file.statuses()[3], TaskStatus::Pending);
}

}  // namespace
}  // namespace mpisweep
