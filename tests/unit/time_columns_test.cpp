// The start and wall columns of report batches on the wire (transport/time_columns.hpp): a
// worker's back-to-back tasks cost a byte or two a row, times come back to the nanosecond,
// values with no compact form go raw, and bytes that are not an encoding are an error.
#include "transport/time_columns.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "transport/messages.hpp"

using namespace mpisweep;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Times {
    std::vector<double> starts, walls;
};

// What a worker reports for `n` tiny tasks on its steady clock: each starts when the one
// before ended (the worker reads the clock once per task), some after a pause (an MPI poll).
Times worker_tasks(std::size_t n, unsigned seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> wall_ns(60, 180);
    Times t;
    double now = 24816.123456789;  // seconds since boot, as read
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 97 == 96) now += 4.5e-6;  // a poll between two tasks
        const double end = now + wall_ns(random) * 1e-9;
        t.starts.push_back(now);
        t.walls.push_back(end - now);
        now = now + t.walls.back();  // the next start: this task's end
    }
    return t;
}

Times round_trip(const Times& in, std::size_t* bytes_used = nullptr) {
    std::vector<std::uint8_t> bytes;
    EXPECT_TRUE(encode_times(in.starts, in.walls, bytes));
    if (bytes_used != nullptr) *bytes_used = bytes.size();
    Times out;
    decode_times(bytes.data(), bytes.size(), in.starts.size(), out.starts, out.walls);
    return out;
}

void expect_same_to_the_nanosecond(const Times& a, const Times& b) {
    ASSERT_EQ(a.starts.size(), b.starts.size());
    for (std::size_t i = 0; i < a.starts.size(); ++i) {
        if (std::isnan(a.starts[i])) {
            EXPECT_TRUE(std::isnan(b.starts[i])) << "row " << i;
        } else {
            EXPECT_NEAR(a.starts[i], b.starts[i], 0.5e-9) << "row " << i;
        }
        EXPECT_NEAR(a.walls[i], b.walls[i], 0.5e-9) << "row " << i;
    }
}

}  // namespace

TEST(TimeColumns, BackToBackTasksTakeLittleMoreThanAByteARow) {
    const Times sent = worker_tasks(2000, 1);
    std::size_t bytes = 0;
    const Times back = round_trip(sent, &bytes);
    expect_same_to_the_nanosecond(sent, back);
    // One byte per row for a wall within 63 ns of the one before, two otherwise; a few bytes
    // per pause.
    EXPECT_LE(bytes, 2000u * 2);
    EXPECT_GE(bytes, 2000u);
}

TEST(TimeColumns, TasksOfEqualLengthTakeOneByteARow) {
    Times sent;
    for (int i = 0; i < 1000; ++i) {
        sent.starts.push_back(100.0 + i * 0.001);
        sent.walls.push_back(0.001);
    }
    std::size_t bytes = 0;
    const Times back = round_trip(sent, &bytes);
    expect_same_to_the_nanosecond(sent, back);
    EXPECT_LE(bytes, 1000u + 8 + 16);
}

TEST(TimeColumns, RowsThatNeverStartedStayNotANumber) {
    Times sent = worker_tasks(50, 2);
    for (std::size_t i : {0u, 1u, 17u, 49u}) {
        sent.starts[i] = kNaN;
        sent.walls[i] = 0;
    }
    expect_same_to_the_nanosecond(sent, round_trip(sent));
    Times none;
    none.starts.assign(10, kNaN);
    none.walls.assign(10, 0.0);
    expect_same_to_the_nanosecond(none, round_trip(none));
}

TEST(TimeColumns, StartsInAnyOrderAndLongWallsComeBack) {
    Times sent;
    sent.starts = {5000.0, 4999.5, 1e6, 0.25, 5000.0};
    sent.walls = {3600.0 * 24 * 365, 0.0, 1e-9, 12.5, 7.0};
    expect_same_to_the_nanosecond(sent, round_trip(sent));
}

TEST(TimeColumns, ValuesWithNoCompactFormAreRefused) {
    std::vector<std::uint8_t> bytes{42};
    const std::vector<Times> refused{
        {{1.0}, {kNaN}},
        {{1.0}, {std::numeric_limits<double>::infinity()}},
        {{std::numeric_limits<double>::infinity()}, {1.0}},
        {{1.0, 1e12}, {1.0, 1.0}},  // 31,000 years apart
        {{1.0}, {1e12}},
    };
    for (const Times& t : refused) {
        EXPECT_FALSE(encode_times(t.starts, t.walls, bytes));
        EXPECT_EQ(bytes, std::vector<std::uint8_t>{42});  // left as it was
    }
}

TEST(TimeColumns, AReportBatchWithNoCompactTimesTravelsRawAndExact) {
    ReportBatch batch;
    TaskReport odd;
    odd.task = TaskId(3);
    odd.start = 1.0 / 3.0;
    odd.wall_s = std::numeric_limits<double>::infinity();
    batch.add(TaskReport(odd));
    std::vector<char> buffer;
    buffer.resize(wire_encode(batch, buffer));
    ReportBatch back;
    wire_decode(buffer.data(), buffer.size(), back);
    back.for_each([&](TaskReport& r) {
        EXPECT_EQ(r.start, odd.start);  // bit for bit: raw doubles
        EXPECT_EQ(r.wall_s, odd.wall_s);
    });
}

TEST(TimeColumns, RowsComeBackInUnixTimeWithTheBatchOffset) {
    ReportBatch batch;
    batch.set_unix_offset(1.7e9);
    TaskReport r;
    r.task = TaskId(1);
    r.start = 1000.25;
    r.wall_s = 0.5;
    batch.add(TaskReport(r));
    r.task = TaskId(2);
    r.start = kNaN;  // dropped from the queue
    batch.add(TaskReport(r));
    std::vector<char> buffer;
    buffer.resize(wire_encode(batch, buffer));
    ReportBatch back;
    wire_decode(buffer.data(), buffer.size(), back);
    std::vector<double> starts;
    back.for_each_row([&](const ReportRow& row) { starts.push_back(row.start); });
    ASSERT_EQ(starts.size(), 2u);
    EXPECT_EQ(starts[0], 1.7e9 + 1000.25);
    EXPECT_TRUE(std::isnan(starts[1]));
}

TEST(TimeColumns, EveryTruncatedEncodingIsRejected) {
    const Times sent = worker_tasks(300, 3);
    std::vector<std::uint8_t> bytes;
    ASSERT_TRUE(encode_times(sent.starts, sent.walls, bytes));
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        // A heap block of exactly `size` bytes: a read past it is one past an allocation.
        std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[size + 1]);
        std::memcpy(exact.get(), bytes.data(), size);
        Times out;
        EXPECT_THROW(decode_times(exact.get(), size, sent.starts.size(), out.starts, out.walls), WireError)
            << "cut to " << size << " bytes";
    }
    Times out;
    EXPECT_THROW(decode_times(bytes.data(), bytes.size(), sent.starts.size() + 1, out.starts, out.walls),
                 WireError);
    EXPECT_THROW(decode_times(bytes.data(), bytes.size(), sent.starts.size() - 1, out.starts, out.walls),
                 WireError);
}

TEST(TimeColumns, CorruptBytesThrowOrDecodeButNeverReadOutside) {
    Times sent = worker_tasks(200, 4);
    sent.starts[10] = kNaN;
    std::vector<std::uint8_t> bytes;
    ASSERT_TRUE(encode_times(sent.starts, sent.walls, bytes));
    std::mt19937 random(5);
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<std::uint8_t> bad = bytes;
        bad[random() % bad.size()] ^= static_cast<std::uint8_t>(1u << (random() % 8));
        Times out;
        try {
            decode_times(bad.data(), bad.size(), sent.starts.size(), out.starts, out.walls);
            EXPECT_EQ(out.starts.size(), sent.starts.size());
        } catch (const WireError&) {}
    }
}
