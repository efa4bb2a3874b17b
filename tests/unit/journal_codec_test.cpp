// The journal's codec: checksums, frames read back exactly, torn tails, bad checksums,
// version 1 journals.
#include "unit/journal_test_support.hpp"

namespace mpisweep {
namespace {

using namespace journal_test;
namespace fs = std::filesystem;
using store::FrameKind;

TEST(JournalCodec, Crc32MatchesTheStandardCheckValue) {
    EXPECT_EQ(store::crc32_of("123456789", 9), 0xCBF43926U);
    EXPECT_EQ(store::crc32_of("", 0), 0U);
}

// The folded (PCLMUL) path takes 64 bytes and more, the tables the rest: every length and
// alignment, and a value carried over, must give zlib's crc32 (bit by bit here).
TEST(JournalCodec, Crc32OfEveryLengthAndOffsetMatchesTheBitwiseDefinition) {
    auto bitwise = [](const unsigned char* p, std::size_t n, std::uint32_t crc) {
        std::uint32_t c = ~crc;
        for (std::size_t i = 0; i < n; ++i) {
            c ^= p[i];
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        }
        return ~c;
    };
    std::vector<unsigned char> bytes(5000);
    std::uint32_t state = 12345;
    for (auto& b : bytes) b = static_cast<unsigned char>((state = state * 1103515245U + 12345U) >> 24);
    for (std::size_t offset = 0; offset < 16; offset += 3)
        for (std::size_t n = 0; n + offset <= 300; ++n)
            ASSERT_EQ(store::crc32_of(bytes.data() + offset, n), bitwise(bytes.data() + offset, n, 0))
                << "offset " << offset << ", " << n << " bytes";
    EXPECT_EQ(store::crc32_of(bytes.data(), 4999, 0xdeadbeefU), bitwise(bytes.data(), 4999, 0xdeadbeefU));
    const std::uint32_t first = store::crc32_of(bytes.data(), 1000);
    EXPECT_EQ(store::crc32_of(bytes.data() + 1000, 4000, first), store::crc32_of(bytes.data(), 5000));
}

TEST(JournalCodec, HeaderAndFramesReadBackExactly) {
    const std::string bytes = sample_journal();
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.header.n_tasks, 12u);
    EXPECT_EQ(scan.header.file_id, 0x1234567890abcdefULL);
    EXPECT_TRUE(scan.header.since_creation);
    EXPECT_EQ(scan.header.mpi_size, 5);
    EXPECT_EQ(scan.header.created, "2024-05-01T12:00:00Z");
    EXPECT_EQ(scan.header.command, "mpisweep run a=1,2 -- ./task");
    ASSERT_EQ(scan.frames.size(), 3u);
    EXPECT_EQ(scan.frames[0].kind, FrameKind::Records);
    EXPECT_EQ(scan.frames[1].kind, FrameKind::Commit);
    EXPECT_EQ(store::decode_commit(scan.frames[1].payload), scan.frames[1].offset);
    EXPECT_EQ(scan.last_commit, std::optional<std::size_t>(1));
    EXPECT_FALSE(scan.torn_tail);
    EXPECT_EQ(scan.valid_end, bytes.size());
    EXPECT_FALSE(scan.settled_in_file());  // Records after the last Commit

    std::vector<TaskRecord> records;
    store::decode_records(scan.frames[0], records);
    store::decode_records(scan.frames[2], records);
    ASSERT_EQ(records.size(), 4u);
    expect_same(records[0], record_of(0));
    expect_same(records[1], record_of(1));
    expect_same(records[2], record_of(2, TaskStatus::Failed));
    expect_same(records[3], record_of(3));
}

// Short strings are copied without memcpy, by length class: every length from 0 to 40 must
// read back exactly, in every string field.
TEST(JournalCodec, StringsOfEveryLengthReadBackExactly) {
    std::vector<TaskRecord> records;
    for (std::size_t n = 0; n <= 40; ++n) {
        std::string text;
        for (std::size_t i = 0; i < n; ++i) text += static_cast<char>('a' + (i * 7 + n) % 26);
        TaskRecord r = record_of(n, n % 2 ? TaskStatus::Failed : TaskStatus::Done);
        r.node = text;
        r.error = text + "!";
        r.results = {{"f" + text, text}, {text + "g", static_cast<double>(n)}};
        records.push_back(std::move(r));
    }
    std::vector<const TaskRecord*> pointers;
    for (const auto& r : records) pointers.push_back(&r);
    std::string bytes = store::encode_header(header_for("{}"));
    store::append_records_frame(pointers, bytes);
    const store::JournalScan scan = store::scan_journal(bytes);
    ASSERT_EQ(scan.frames.size(), 1u);
    std::vector<TaskRecord> back;
    store::decode_records(scan.frames[0], back);
    ASSERT_EQ(back.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        SCOPED_TRACE("length " + std::to_string(i));
        expect_same(back[i], records[i]);
    }
}

// Rows frames carry only what changed from the previous record: every mix of changed and
// unchanged fields (ids that follow on or jump back, a worker's, a node's, an attempt's, a
// failure's, results or none) must read back exactly, in frames of any length.
TEST(JournalCodec, RowsOfEveryMixOfChangesReadBackExactly) {
    std::mt19937_64 random(7);
    auto chance = [&](int percent) { return static_cast<int>(random() % 100) < percent; };
    std::vector<TaskRecord> records;
    std::uint64_t id = 1000;
    for (int i = 0; i < 3000; ++i) {
        id = chance(80) ? id + 1 : random() % 5000;
        const bool failed = chance(10);
        TaskRecord r = record_of(id, failed ? TaskStatus::Failed : TaskStatus::Done);
        r.worker = chance(85) ? 3 : static_cast<int>(random() % 8);
        r.device = chance(90) ? -1 : static_cast<int>(random() % 4);
        r.attempts = chance(90) ? 1 : static_cast<int>(random() % 5);
        r.node = chance(90) ? "node-a" : "node-" + std::to_string(random() % 3);
        r.start = 1.7e9 + 1e-6 * static_cast<double>(random() % 1000000);
        r.wall_s = chance(50) ? 0.0 : 1e-3 * static_cast<double>(random() % 1000);
        if (chance(50)) {
            r.results.clear();
        } else if (chance(30)) {  // other names, or the same names with other types
            r.results = {{"loss", chance(50) ? ResultValue(0.5) : ResultValue(std::int64_t{7})}};
            if (chance(50)) r.results.emplace("tag", std::string(random() % 20, 'x'));
        }
        records.push_back(std::move(r));
    }
    std::string bytes = store::encode_header(header_for("{}"));
    for (std::size_t at = 0; at < records.size();) {  // frames of 1 to 500 records
        const std::size_t n = std::min<std::size_t>(records.size() - at, 1 + random() % 500);
        std::vector<const TaskRecord*> pointers;
        for (std::size_t k = at; k < at + n; ++k) pointers.push_back(&records[k]);
        store::append_records_frame(pointers, bytes);
        at += n;
    }
    const store::JournalScan scan = store::scan_journal(bytes);
    std::vector<TaskRecord> back;
    for (const store::FrameInfo& frame : scan.frames) {
        EXPECT_EQ(frame.kind_byte, store::kRowsKindByte);
        store::decode_records(frame, back);
    }
    ASSERT_EQ(back.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        SCOPED_TRACE("record " + std::to_string(i));
        expect_same(back[i], records[i]);
    }
}

// What a report batch of empty tasks costs the journal: 17 bytes a record (flags, start,
// wall), the first one's fields once.
TEST(JournalCodec, ABatchOfConsecutiveIdsFromOneWorkerTakes17BytesARecord) {
    std::vector<TaskRecord> records;
    for (std::uint64_t id = 500; id < 1500; ++id) {
        TaskRecord r;
        r.id = TaskId(id);
        r.status = TaskStatus::Done;
        r.attempts = 1;
        r.worker = 4;
        r.device = -1;
        r.node = "cn0042";
        r.start = 1.7e9 + static_cast<double>(id);
        r.wall_s = 1e-6;
        records.push_back(std::move(r));
    }
    std::vector<const TaskRecord*> pointers;
    for (const auto& r : records) pointers.push_back(&r);
    std::string frame;
    store::append_records_frame(pointers, frame);
    const std::size_t first = 1 + 8 + 17 + 4 + 6 + 16;
    EXPECT_EQ(frame.size(), store::kFrameHeaderBytes + 4 + first + 17 * (records.size() - 1));

    // With a result of the same name and type each: its 8 bytes more, its name once.
    for (TaskRecord& r : records) r.results = {{"loss", 0.25 * static_cast<double>(r.id.value())}};
    frame.clear();
    store::append_records_frame(pointers, frame);
    const std::size_t first_with_result = first + 4 + (4 + 4 + 1 + 8);
    EXPECT_EQ(frame.size(), store::kFrameHeaderBytes + 4 + first_with_result + 25 * (records.size() - 1));
    const std::string bytes = store::encode_header(header_for("{}")) + frame;
    const store::JournalScan scan = store::scan_journal(bytes);
    ASSERT_EQ(scan.frames.size(), 1u);
    std::vector<TaskRecord> back;
    store::decode_records(scan.frames[0], back);
    ASSERT_EQ(back.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) expect_same(back[i], records[i]);
}

// A Rows frame whose checksum matches but whose first record leaves fields to a previous
// one (or takes the result names of none) is a bug or a foreign file: an error, never records
// made up from another frame's.
TEST(JournalCodec, ARowsFrameThatRefersToNoPreviousRecordIsAnError) {
    auto frame_of = [](const std::string& records, std::uint32_t count) {
        std::string payload(reinterpret_cast<const char*>(&count), 4);
        payload += records;
        std::string bytes = store::encode_header(header_for("{}"));
        put_v1<std::uint32_t>(bytes, store::kFrameMagic);
        put_v1<std::uint8_t>(bytes, store::kRowsKindByte);
        put_v1<std::uint32_t>(bytes, static_cast<std::uint32_t>(payload.size()));
        const std::uint8_t kind = store::kRowsKindByte;
        put_v1<std::uint32_t>(bytes,
                              store::crc32_of(payload.data(), payload.size(), store::crc32_of(&kind, 1)));
        return bytes + payload;
    };
    std::string no_id;  // flags 2 | 4 only: the id would be a previous record's + 1
    put_v1<std::uint8_t>(no_id, 2 | 4);
    put_v1<std::uint8_t>(no_id, 1);
    for (int k = 0; k < 4; ++k) put_v1<std::int32_t>(no_id, 0);
    put_v1_string(no_id, "n");
    put_v1<double>(no_id, 1.0);
    put_v1<double>(no_id, 2.0);
    std::string no_names;  // every field, then values under the names of no record before
    put_v1<std::uint8_t>(no_names, 1 | 2 | 4 | 16 | 32);
    put_v1<std::uint64_t>(no_names, 3);
    put_v1<std::uint8_t>(no_names, 1);
    for (int k = 0; k < 4; ++k) put_v1<std::int32_t>(no_names, 0);
    put_v1_string(no_names, "n");
    put_v1<double>(no_names, 1.0);
    put_v1<double>(no_names, 2.0);
    put_v1<double>(no_names, 0.5);
    for (const std::string& records : {no_id, no_names}) {
        const std::string bytes = frame_of(records, 1);
        const store::JournalScan scan = store::scan_journal(bytes);
        ASSERT_EQ(scan.frames.size(), 1u);              // the checksum matches
        std::vector<TaskRecord> back = {record_of(0)};  // a record of an earlier frame
        EXPECT_THROW(store::decode_records(scan.frames[0], back), store::JournalError);
    }
}

TEST(JournalCodec, AVersion1JournalReadsAsBefore) {
    std::vector<TaskRecord> records = {record_of(3, TaskStatus::Failed), record_of(4), record_of(9)};
    for (TaskRecord& r : records) r.results = {{"loss", 0.5 * static_cast<double>(r.id.value())}};
    const std::string bytes = v1_journal(records, header_for("{}"));
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.header.version, 1u);
    ASSERT_EQ(scan.frames.size(), 1u);
    EXPECT_EQ(scan.frames[0].kind, FrameKind::Records);
    std::vector<TaskRecord> back;
    store::decode_records(scan.frames[0], back);
    ASSERT_EQ(back.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) expect_same(back[i], records[i]);
}

TEST(JournalCodec, ATornLastFrameIsIgnoredWhereverItIsCut) {
    std::vector<std::size_t> ends;
    const std::string bytes = sample_journal(&ends);
    // Every cut inside the last frame keeps the three frames before it.
    for (std::size_t cut = ends[2] + 1; cut < ends[3]; ++cut) {
        const store::JournalScan scan = store::scan_journal(std::string_view(bytes).substr(0, cut));
        ASSERT_EQ(scan.frames.size(), 2u) << "cut at " << cut;
        EXPECT_TRUE(scan.torn_tail);
        EXPECT_EQ(scan.valid_end, ends[2]);
        EXPECT_TRUE(scan.settled_in_file()) << "the torn Records frame was never settled";
    }
    // Cut exactly between frames: nothing torn.
    const store::JournalScan clean = store::scan_journal(std::string_view(bytes).substr(0, ends[1]));
    EXPECT_EQ(clean.frames.size(), 1u);
    EXPECT_FALSE(clean.torn_tail);
}

TEST(JournalCodec, ABadChecksumEndsTheJournalThere) {
    std::vector<std::size_t> ends;
    std::string bytes = sample_journal(&ends);
    bytes[ends[0] + store::kFrameHeaderBytes + 20] ^= 0x01;  // inside the first Records payload
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_TRUE(scan.frames.empty());
    EXPECT_TRUE(scan.torn_tail);
    EXPECT_EQ(scan.valid_end, ends[0]);
}

TEST(JournalCodec, ADamagedHeaderIsAnError) {
    std::string bytes = sample_journal();
    EXPECT_THROW(store::scan_journal(bytes.substr(0, 10)), store::JournalError);
    bytes[store::kJournalMagic.size() + 12] ^= 0x40;
    EXPECT_THROW(store::scan_journal(bytes), store::JournalError);
    EXPECT_THROW(store::scan_journal("not a journal at all"), store::JournalError);
}

}  // namespace
}  // namespace mpisweep
