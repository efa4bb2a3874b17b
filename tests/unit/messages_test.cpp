// The hot messages in the wire archive (src/mpi/wire_archive.hpp): what goes in comes out,
// and a short, long or corrupt message is an error, never a read past its end.
#include "transport/messages.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

#include "exec/result_view.hpp"

using namespace mpisweep;

namespace {

using Bytes = std::vector<char>;

template <class T>
Bytes encode(const T& message) {
    Bytes buffer;
    buffer.resize(wire_encode(message, buffer));
    return buffer;
}

/// Decodes from a heap block of exactly `size` bytes, so that a read past the end is one
/// past an allocation (what ASan or valgrind would flag), not into the rest of a vector.
template <class T>
void decode(const Bytes& bytes, std::size_t size, T& message) {
    std::unique_ptr<char[]> exact(new char[size == 0 ? 1 : size]);
    if (size > 0) std::memcpy(exact.get(), bytes.data(), size);
    wire_decode(exact.get(), size, message);
}

std::vector<TaskReport> decoded_reports(const ReportBatch& batch) {
    std::vector<TaskReport> out;
    batch.for_each([&](TaskReport& r) { out.push_back(r); });
    return out;
}

ReportBatch mixed_batch() {
    ReportBatch batch;
    TaskReport done;
    done.task = TaskId(7);
    done.attempt = 2;
    done.start = 1.7e9;
    done.wall_s = 0.25;
    done.results["loss"] = 0.5;
    done.results["steps"] = std::int64_t{42};
    done.results["tag"] = std::string("fast");
    done.results["curve"] = std::vector<double>{1, 2, 3};
    done.results["converged"] = true;
    done.results["short"] = std::vector<double>{};
    batch.add(TaskReport(done));
    TaskReport failed;
    failed.task = TaskId(8);
    failed.outcome = Outcome::Failed;
    failed.exit_code = 3;
    failed.error = "boom";
    batch.add(std::move(failed));
    TaskReport cancelled;
    cancelled.task = TaskId(9);
    cancelled.outcome = Outcome::Cancelled;
    batch.add(std::move(cancelled));
    TaskReport second = done;  // a field name seen before in the batch
    second.task = TaskId(10);
    second.results["loss"] = 0.75;
    batch.add(std::move(second));
    return batch;
}

/// A row's results as a map again, from its views.
TaskResult result_of(const ReportRow& row) {
    TaskResult out;
    for (std::size_t k = 0; k < row.n_fields; ++k) {
        const ResultView& v = row.fields[k].value;
        switch (v.kind) {
            case ResultView::Kind::Float:
                out[*row.fields[k].name] = v.number;
                break;
            case ResultView::Kind::Int:
                out[*row.fields[k].name] = v.integer;
                break;
            case ResultView::Kind::String:
                out[*row.fields[k].name] = *v.text;
                break;
            case ResultView::Kind::Array:
                out[*row.fields[k].name] = std::vector<double>(v.values, v.values + v.count);
                break;
            case ResultView::Kind::Bool:
                out[*row.fields[k].name] = v.integer != 0;
                break;
        }
    }
    return out;
}

TEST(Messages, RowsSeenInPlaceAreTheReportsThatWentIn) {
    const ReportBatch sent = mixed_batch();
    ReportBatch back;
    const Bytes bytes = encode(sent);
    decode(bytes, bytes.size(), back);
    const std::vector<TaskReport> expected = decoded_reports(sent);
    std::size_t n = 0;
    back.for_each_row([&](const ReportRow& row) {
        ASSERT_LT(n, expected.size());
        const TaskReport& r = expected[n];
        EXPECT_EQ(row.index, n);
        EXPECT_EQ(row.task, r.task);
        EXPECT_EQ(row.attempt, r.attempt);
        EXPECT_EQ(row.outcome, r.outcome);
        // The batch's unix offset is 0 here: a row's start is the report's (NaN: never started).
        EXPECT_TRUE(row.start == r.start || (std::isnan(row.start) && std::isnan(r.start))) << "row " << n;
        EXPECT_EQ(row.wall_s, r.wall_s);
        EXPECT_EQ(row.exit_code, r.exit_code);
        EXPECT_EQ(row.error != nullptr ? *row.error : std::string(), r.error);
        EXPECT_EQ(result_of(row), r.results) << "row " << n;
        ++n;
    });
    EXPECT_EQ(n, 4u);
}

TEST(Messages, EveryResultKindCopiedOutOfItsViewIsTheValueThatWentIn) {
    const std::vector<ResultValue> values{ResultValue{2.5},
                                          ResultValue{std::int64_t{-7}},
                                          ResultValue{std::string("mlp")},
                                          ResultValue{std::vector<double>{1, 2, 3}},
                                          ResultValue{true},
                                          ResultValue{false}};
    for (const ResultValue& value : values) {
        EXPECT_EQ(value_of(ResultView::of(value)), value) << "alternative " << value.index();
    }
}

TEST(Messages, TaskBatchRoundTrip) {
    TaskBatch batch;
    batch.add(TaskId(3), 1);
    batch.add(TaskId(1ULL << 40), 5);
    TaskBatch back;
    back.add(TaskId(99), 9);  // a reused batch: the old content goes
    const Bytes bytes = encode(batch);
    decode(bytes, bytes.size(), back);
    ASSERT_EQ(back.size(), 2U);
    EXPECT_EQ(back.at(0).task, TaskId(3));
    EXPECT_EQ(back.at(0).attempt, 1);
    EXPECT_EQ(back.at(1).task, TaskId(1ULL << 40));
    EXPECT_EQ(back.at(1).attempt, 5);
}

TEST(Messages, TaskBatchWithGpusRoundTrip) {
    // A GPU sweep: copies on two GPUs, on CPU, on one GPU.
    TaskBatch batch;
    batch.add(TaskId(7), 1, {0, 1});
    batch.add(TaskId(8), 2, {});
    batch.add(TaskId(9), 1, {3});
    TaskBatch back;
    back.add(TaskId(99), 9, {5});  // a reused batch: the old content goes
    const Bytes bytes = encode(batch);
    decode(bytes, bytes.size(), back);
    std::vector<TaskAssignmentMsg> copies;
    back.for_each([&](TaskAssignmentMsg&& c) { copies.push_back(std::move(c)); });
    ASSERT_EQ(copies.size(), 3U);
    EXPECT_EQ(copies[0].task, TaskId(7));
    EXPECT_EQ(copies[0].gpus, (std::vector<int>{0, 1}));
    EXPECT_EQ(copies[1].attempt, 2);
    EXPECT_TRUE(copies[1].gpus.empty());
    EXPECT_EQ(copies[2].gpus, std::vector<int>{3});
    // A batch without GPUs, decoded into one that had them, has none.
    TaskBatch cpu;
    cpu.add(TaskId(1), 1);
    const Bytes plain = encode(cpu);
    decode(plain, plain.size(), back);
    back.for_each([](TaskAssignmentMsg&& c) { EXPECT_TRUE(c.gpus.empty()); });
    EXPECT_TRUE(back.gpus.empty() && back.gpu_counts.empty());
    // A copy on CPU first, then one on a GPU: the counts cover both.
    TaskBatch late;
    late.add(TaskId(1), 1);
    late.add(TaskId(2), 1, {2});
    const Bytes mixed = encode(late);
    decode(mixed, mixed.size(), back);
    copies.clear();
    back.for_each([&](TaskAssignmentMsg&& c) { copies.push_back(std::move(c)); });
    ASSERT_EQ(copies.size(), 2U);
    EXPECT_TRUE(copies[0].gpus.empty());
    EXPECT_EQ(copies[1].gpus, std::vector<int>{2});
}

TEST(Messages, CancelRequestRoundTrip) {
    CancelRequest request;
    request.tasks = {4, 5, 6};
    CancelRequest back;
    const Bytes bytes = encode(request);
    decode(bytes, bytes.size(), back);
    EXPECT_EQ(back.tasks, request.tasks);
}

TEST(Messages, ReportBatchRoundTrip) {
    const Bytes bytes = encode(mixed_batch());
    ReportBatch back;
    decode(bytes, bytes.size(), back);
    const std::vector<TaskReport> r = decoded_reports(back);
    ASSERT_EQ(r.size(), 4U);
    EXPECT_EQ(r[0].task, TaskId(7));
    EXPECT_EQ(r[0].attempt, 2);
    EXPECT_EQ(r[0].outcome, Outcome::Done);
    EXPECT_DOUBLE_EQ(r[0].start, 1.7e9);
    EXPECT_DOUBLE_EQ(r[0].wall_s, 0.25);
    EXPECT_EQ(r[0].results.at("loss"), ResultValue(0.5));
    EXPECT_EQ(r[0].results.at("steps"), ResultValue(std::int64_t{42}));
    EXPECT_EQ(r[0].results.at("tag"), ResultValue(std::string("fast")));
    EXPECT_EQ(r[0].results.at("curve"), ResultValue(std::vector<double>{1, 2, 3}));
    EXPECT_EQ(r[0].results.at("converged"), ResultValue(true));  // a bool stays a bool
    EXPECT_EQ(r[0].results.at("short"), ResultValue(std::vector<double>{}));
    EXPECT_EQ(r[1].outcome, Outcome::Failed);
    EXPECT_EQ(r[1].exit_code, 3);
    EXPECT_EQ(r[1].error, "boom");
    EXPECT_TRUE(r[1].results.empty());
    EXPECT_EQ(r[2].outcome, Outcome::Cancelled);
    EXPECT_TRUE(r[2].error.empty());
    EXPECT_EQ(r[3].task, TaskId(10));
    EXPECT_EQ(r[3].results.at("loss"), ResultValue(0.75));
    EXPECT_EQ(r[3].results.size(), 6U);
}

TEST(Messages, EveryTruncatedReportBatchIsRejected) {
    const Bytes bytes = encode(mixed_batch());
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        ReportBatch back;
        EXPECT_THROW(decode(bytes, size, back), WireError) << "a message cut to " << size << " bytes";
    }
}

TEST(Messages, EveryTruncatedTaskBatchIsRejected) {
    TaskBatch batch;
    batch.add(TaskId(3), 1);
    const Bytes bytes = encode(batch);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        TaskBatch back;
        EXPECT_THROW(decode(bytes, size, back), WireError) << "a message cut to " << size << " bytes";
    }
}

TEST(Messages, TrailingBytesAreRejected) {
    TaskBatch batch;
    batch.add(TaskId(3), 1);
    Bytes bytes = encode(batch);
    bytes.push_back('x');
    TaskBatch back;
    try {
        decode(bytes, bytes.size(), back);
        FAIL() << "a message with a byte too many was accepted";
    } catch (const WireError& e) {
        EXPECT_NE(std::string(e.what()).find("task batch"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("1 bytes left over"), std::string::npos) << e.what();
    }
}

TEST(Messages, AHugeLengthIsRejectedBeforeAllocating) {
    TaskBatch batch;
    batch.add(TaskId(3), 1);
    Bytes bytes = encode(batch);
    const std::uint64_t huge = std::uint64_t{1} << 60;
    std::memcpy(bytes.data(), &huge, sizeof huge);  // the row count comes first
    TaskBatch back;
    EXPECT_THROW(decode(bytes, bytes.size(), back), WireError);

    Bytes reports = encode(mixed_batch());
    for (std::size_t k = 0; k < 8; ++k) {  // each of the 8 lengths at the front
        Bytes corrupt = reports;
        std::memcpy(corrupt.data() + k * sizeof huge, &huge, sizeof huge);
        ReportBatch r;
        EXPECT_THROW(decode(corrupt, corrupt.size(), r), WireError) << "length " << k;
    }
}

TEST(Messages, FieldsThatDoNotFitTogetherAreRejected) {
    // One row: the 8 lengths; ids, attempts, then the outcome byte, each column after its run
    // count (0: raw, as one row is). An outcome of 7 is no Outcome.
    ReportBatch one;
    TaskReport r;
    r.task = TaskId(1);
    one.add(std::move(r));
    Bytes bytes = encode(one);
    constexpr std::size_t runs = sizeof(std::uint64_t);
    const std::size_t outcome_at =
        8 * sizeof(std::uint64_t) + runs + sizeof(std::uint64_t) + runs + sizeof(std::int32_t) + runs;
    ASSERT_EQ(bytes[outcome_at], 0);
    bytes[outcome_at] = 7;
    ReportBatch back;
    try {
        decode(bytes, bytes.size(), back);
        FAIL() << "an outcome of 7 was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("corrupt report batch"), std::string::npos) << e.what();
    }
}

TEST(Messages, ConsecutiveIdsTravelAsRuns) {
    // A batch of fresh copies (ids in a row, attempt 1) is a few runs, not 12 bytes a copy:
    // it stays under MPI's eager limit.
    TaskBatch fresh;
    for (std::uint64_t t = 1000; t < 31000; ++t) fresh.add(TaskId(t), 1);
    fresh.add(TaskId(5), 3);  // a retry at the end
    const Bytes bytes = encode(fresh);
    EXPECT_LT(bytes.size(), 100u);
    TaskBatch back;
    decode(bytes, bytes.size(), back);
    EXPECT_EQ(back.ids, fresh.ids);
    EXPECT_EQ(back.attempts, fresh.attempts);

    // Ids with no runs go raw, no larger than before.
    TaskBatch scattered;
    for (std::uint64_t t = 0; t < 1000; ++t) scattered.add(TaskId(t * 7), static_cast<int>(t % 3) + 1);
    const Bytes raw = encode(scattered);
    EXPECT_LE(raw.size(), 1000u * 12 + 64);
    decode(raw, raw.size(), back);
    EXPECT_EQ(back.ids, scattered.ids);
    EXPECT_EQ(back.attempts, scattered.attempts);

    // Reports of a run of tasks: their ids, attempts, outcomes as runs; back row by row.
    ReportBatch reports;
    for (std::uint64_t t = 40; t < 4040; ++t) {
        TaskReport r;
        r.task = TaskId(t);
        r.attempt = 1;
        r.outcome = t == 100 ? Outcome::Failed : Outcome::Done;
        r.wall_s = static_cast<double>(t) * 1e-6;
        reports.add(std::move(r));
    }
    const Bytes report_bytes = encode(reports);
    // Never started and a wall time a microsecond longer each row: four bytes a row, not the
    // two doubles (transport/time_columns.hpp).
    EXPECT_LT(report_bytes.size(), 4000u * 4 + 200);
    ReportBatch reports_back;
    decode(report_bytes, report_bytes.size(), reports_back);
    std::uint64_t expect = 40;
    reports_back.for_each_row([&](const ReportRow& row) {
        EXPECT_EQ(row.task.value(), expect);
        EXPECT_EQ(row.outcome, expect == 100 ? Outcome::Failed : Outcome::Done);
        EXPECT_NEAR(row.wall_s, static_cast<double>(expect) * 1e-6, 0.5e-9);  // whole nanoseconds
        ++expect;
    });
    EXPECT_EQ(expect, 4040u);
}

TEST(Messages, ARunPastItsColumnIsRejected) {
    TaskBatch fresh;
    for (std::uint64_t t = 0; t < 100; ++t) fresh.add(TaskId(t), 1);
    Bytes bytes = encode(fresh);
    // Row count, then the id column's run count (1), its first id, then the run's length.
    const std::size_t length_at = 3 * sizeof(std::uint64_t);
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + length_at, sizeof length);
    ASSERT_EQ(length, 100u);
    length = 101;
    std::memcpy(bytes.data() + length_at, &length, sizeof length);
    TaskBatch back;
    EXPECT_THROW(decode(bytes, bytes.size(), back), WireError);
}

TEST(Messages, AMessageOfAnotherTypeIsRejected) {
    const Bytes reports = encode(mixed_batch());
    TaskBatch tasks;
    EXPECT_THROW(decode(reports, reports.size(), tasks), WireError);
}

}  // namespace
