// The journal beside a results file: its codec (torn tails, bad checksums), the store's use of
// it as results arrive (journaled before the HDF5 flush) and on resume (a torn file rebuilt,
// replay idempotent, foreign journals ignored, journaled records written into the file).
// Files are read back with the HDF5 C API.
#include <hdf5.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <random>
#include <sys/resource.h>
#include <sys/stat.h>
#include <variant>

#include "store/h5_check.hpp"
#include "store/h5_types.hpp"
#include "store/journal_codec.hpp"
#include "store/journal_file.hpp"
#include "store/result_store.hpp"

namespace mpisweep {
namespace {

namespace fs = std::filesystem;
using store::FrameKind;

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "journal_test.XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::string bytes_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<TaskStatus> statuses_of(const ResultStore& store) {
    std::vector<TaskStatus> statuses(store.size(), TaskStatus::Pending);
    const SettledTasks settled = store.settled();
    for (const SettledRun& run : settled.runs())
        for (std::uint64_t i = 0; i < run.count; ++i) statuses.at(run.first + i) = run.status;
    return statuses;
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TaskRecord record_of(std::uint64_t id, TaskStatus status = TaskStatus::Done) {
    TaskRecord r;
    r.id = TaskId(id);
    r.status = status;
    r.attempts = 1 + static_cast<int>(id % 3);
    r.worker = 2;
    r.device = -1;
    r.node = id % 2 ? "node-a" : "node-b";
    r.start = 1.7e9 + static_cast<double>(id);
    r.wall_s = 0.5;
    r.exit_code = status == TaskStatus::Failed ? 3 : 0;
    r.error = status == TaskStatus::Failed ? "boom " + std::to_string(id) : "";
    if (status == TaskStatus::Done) {
        r.results = {{"loss", 0.25 * static_cast<double>(id)},
                     {"step", static_cast<std::int64_t>(id * 10)},
                     {"tag", "t" + std::to_string(id)},
                     {"curve", std::vector<double>{1.0 * static_cast<double>(id), 2.0, 3.0}},
                     {"ok", id % 2 == 0},
                     {"path", std::vector<double>(id % 4, 0.5)}};  // 0 to 3 points: variable length
    }
    return r;
}

void expect_same(const TaskRecord& a, const TaskRecord& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_EQ(a.worker, b.worker);
    EXPECT_EQ(a.device, b.device);
    EXPECT_EQ(a.node, b.node);
    EXPECT_EQ(a.start, b.start);
    EXPECT_EQ(a.wall_s, b.wall_s);
    EXPECT_EQ(a.exit_code, b.exit_code);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.results, b.results);
}

store::JournalHeader header_for(const std::string& spec) {
    store::JournalHeader h;
    h.n_tasks = 12;
    h.file_id = 0x1234567890abcdefULL;
    h.mpi_size = 5;
    h.created = "2024-05-01T12:00:00Z";
    h.spec = spec;
    h.command = "mpisweep run a=1,2 -- ./task";
    return h;
}

// header, Records(0, 1), Commit, Records(2 failed, 3)
std::string sample_journal(std::vector<std::size_t>* frame_ends = nullptr) {
    std::string bytes = store::encode_header(header_for("{}"));
    if (frame_ends) frame_ends->push_back(bytes.size());
    std::vector<TaskRecord> first = {record_of(0), record_of(1)};
    std::vector<TaskRecord> second = {record_of(2, TaskStatus::Failed), record_of(3)};
    store::append_records_frame({&first[0], &first[1]}, bytes);
    if (frame_ends) frame_ends->push_back(bytes.size());
    store::append_commit_frame(bytes.size(), bytes);
    if (frame_ends) frame_ends->push_back(bytes.size());
    store::append_records_frame({&second[0], &second[1]}, bytes);
    if (frame_ends) frame_ends->push_back(bytes.size());
    return bytes;
}

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

// A version 1 journal (Records frames, every field of every record: encoded here as
// docs/hdf5-layout.md says, not by the codec) reads as before.
void put_v1_string(std::string& out, const std::string& text) {
    const auto n = static_cast<std::uint32_t>(text.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += text;
}
template <class T>
void put_v1(std::string& out, T value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
std::string v1_journal(const std::vector<TaskRecord>& records, const store::JournalHeader& header) {
    std::string bytes = store::encode_header(header);
    // The header's version field (the payload's first 4 bytes) and its crc as version 1's.
    const std::uint32_t one = 1;
    std::memcpy(&bytes[16], &one, 4);
    const std::uint32_t header_crc = store::crc32_of(bytes.data() + 16, bytes.size() - 16);
    std::memcpy(&bytes[12], &header_crc, 4);
    std::string payload;
    put_v1<std::uint32_t>(payload, static_cast<std::uint32_t>(records.size()));
    for (const TaskRecord& r : records) {
        put_v1<std::uint64_t>(payload, r.id.value());
        put_v1<std::uint8_t>(payload, static_cast<std::uint8_t>(r.status));
        put_v1<std::int32_t>(payload, r.attempts);
        put_v1<std::int32_t>(payload, r.worker);
        put_v1<std::int32_t>(payload, r.device);
        put_v1_string(payload, r.node);
        put_v1<double>(payload, r.start);
        put_v1<double>(payload, r.wall_s);
        put_v1<std::int32_t>(payload, r.exit_code);
        put_v1_string(payload, r.error);
        put_v1<std::uint32_t>(payload, static_cast<std::uint32_t>(r.results.size()));
        for (const auto& [name, value] : r.results) {
            put_v1_string(payload, name);
            const double* number = std::get_if<double>(&value);
            EXPECT_NE(number, nullptr) << "only float results here";
            put_v1<std::uint8_t>(payload, 0);
            put_v1<double>(payload, number ? *number : 0.0);
        }
    }
    put_v1<std::uint32_t>(bytes, store::kFrameMagic);
    put_v1<std::uint8_t>(bytes, 1);
    put_v1<std::uint32_t>(bytes, static_cast<std::uint32_t>(payload.size()));
    const std::uint8_t kind = 1;
    put_v1<std::uint32_t>(bytes, store::crc32_of(payload.data(), payload.size(), store::crc32_of(&kind, 1)));
    return bytes + payload;
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

// ---- the store and its journal -----------------------------------------------------------

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
    options.flush_rows = 2;
    return options;
}

struct Rows {
    std::vector<std::int8_t> status;
    std::vector<std::int32_t> attempts;
    std::vector<double> loss;
    std::vector<std::string> tag, error, nodes;
};

std::vector<std::string> read_strings(hid_t file, const char* name) {
    h5::Dataset dataset(H5_CHECK(H5Dopen2, file, name, H5P_DEFAULT));
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
    std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
    h5::Datatype type = h5::vlen_utf8_string();
    if (!raw.empty()) H5_CHECK(H5Dread, dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
    std::vector<std::string> out;
    for (char* s : raw) {
        out.emplace_back(s ? s : "");
        H5free_memory(s);
    }
    return out;
}

template <class T>
std::vector<T> read_numbers(hid_t file, const char* name, hid_t type, std::size_t n) {
    std::vector<T> out(n);
    h5::Dataset dataset(H5_CHECK(H5Dopen2, file, name, H5P_DEFAULT));
    H5_CHECK(H5Dread, dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    return out;
}

Rows read_rows(const std::string& path) {
    h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    Rows rows;
    h5::Datatype status = h5::status_enum();
    rows.status = read_numbers<std::int8_t>(file.get(), "tasks/status", status.get(), 12);
    rows.attempts = read_numbers<std::int32_t>(file.get(), "tasks/attempts", H5T_NATIVE_INT32, 12);
    if (h5::link_exists(file.get(), "results/loss"))
        rows.loss = read_numbers<double>(file.get(), "results/loss", H5T_NATIVE_DOUBLE, 12);
    if (h5::link_exists(file.get(), "results/tag")) rows.tag = read_strings(file.get(), "results/tag");
    rows.error = read_strings(file.get(), "tasks/error");
    rows.nodes = read_strings(file.get(), "nodes");
    return rows;
}

std::uint64_t journal_id_of(const std::string& path) {
    h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    return h5::read_uint64_attribute(file.get(), "journal_id");
}

// Appends a Records frame with no Commit after it: the journal then says a write was under way.
void append_uncommitted(const std::string& journal, const std::vector<TaskRecord>& records) {
    std::string bytes = bytes_of(journal);
    std::vector<const TaskRecord*> pointers;
    for (const auto& r : records) pointers.push_back(&r);
    store::append_records_frame(pointers, bytes);
    write_bytes(journal, bytes);
}

// Damages the HDF5 file the way a kill in the middle of a write might: its superblock gone.
void tear(const std::string& path) {
    std::string bytes = bytes_of(path);
    for (std::size_t i = 0; i < 512 && i < bytes.size(); ++i) bytes[i] = '\0';
    write_bytes(path, bytes);
}

TEST(StoreJournal, CreateWritesAJournalWithTheFilesId) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    const auto bytes = bytes_of(path + ".journal");
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.header.file_id, journal_id_of(path));
    EXPECT_NE(scan.header.file_id, 0u);
    EXPECT_EQ(scan.header.spec, small_grid().to_json());
    EXPECT_EQ(scan.header.command, options_for(path).command);
    EXPECT_TRUE(scan.settled_in_file());
}

TEST(StoreJournal, EveryFlushIsOneRecordsFrameThenOneCommit) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id : {0, 1, 2, 3}) s.record(record_of(id));  // two batches of 2
        const store::JournalScan scan = store::scan_journal(bytes_of(path + ".journal"));
        ASSERT_EQ(scan.frames.size(), 4u);
        EXPECT_EQ(scan.frames[0].kind, FrameKind::Records);
        EXPECT_EQ(scan.frames[1].kind, FrameKind::Commit);
        EXPECT_EQ(scan.frames[2].kind, FrameKind::Records);
        EXPECT_EQ(scan.frames[3].kind, FrameKind::Commit);
    }
    // Closing adds its own Records (empty here) + Commit pair around H5Fclose.
    const store::JournalScan scan = store::scan_journal(bytes_of(path + ".journal"));
    EXPECT_EQ(scan.frames.size(), 6u);
    EXPECT_TRUE(scan.settled_in_file());
}

TEST(StoreJournal, ATornFileIsRebuiltFromTheJournal) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id : {0, 1, 2, 5}) s.record(record_of(id));
        s.record(record_of(7, TaskStatus::Failed));
    }
    const std::uint64_t id = journal_id_of(path);
    // A kill in the middle of a flush: its records reached the journal, the file is torn.
    append_uncommitted(path + ".journal", {record_of(9), record_of(10)});
    tear(path);
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        auto st = statuses_of(s);
        for (std::uint64_t done : {0, 1, 2, 5, 9, 10}) EXPECT_EQ(st[done], TaskStatus::Done) << done;
        EXPECT_EQ(st[7], TaskStatus::Failed);
        EXPECT_EQ(st[3], TaskStatus::Pending);
        s.record(record_of(3));
    }
    EXPECT_EQ(journal_id_of(path), id);  // the rebuilt file is the same file to its journal
    const Rows rows = read_rows(path);
    for (std::uint64_t done : {0, 1, 2, 3, 5, 9, 10}) {
        EXPECT_EQ(rows.status[done], 1) << done;
        EXPECT_EQ(rows.loss[done], 0.25 * static_cast<double>(done));
        EXPECT_EQ(rows.tag[done], "t" + std::to_string(done));
        EXPECT_EQ(rows.attempts[done], record_of(done).attempts);
    }
    EXPECT_EQ(rows.status[7], 2);
    EXPECT_EQ(rows.error[7], "boom 7");
    EXPECT_EQ(rows.nodes, (std::vector<std::string>{"node-b", "node-a"}));
}

TEST(StoreJournal, ReplayIsIdempotent) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        s.record(record_of(4, TaskStatus::Failed));
    }
    {
        // A resumed run retries task 4 (attempts add up: 2 + 1) and is killed mid-write.
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        TaskRecord retry = record_of(4);
        retry.attempts = 1;
        s.record(retry);
        s.record(record_of(6));
    }
    const Rows expected = read_rows(path);
    EXPECT_EQ(expected.attempts[4], 3);
    for (int round = 0; round < 2; ++round) {
        // The same records again after the last Commit, and the file torn: replayed twice.
        TaskRecord retry = record_of(4);
        retry.attempts = 3;  // the journal holds absolute attempts
        append_uncommitted(path + ".journal", {retry, record_of(6)});
        tear(path);
        ResultStore::open_for_resume(small_grid(), options_for(path)).close();
        const Rows rows = read_rows(path);
        EXPECT_EQ(rows.status, expected.status);
        EXPECT_EQ(rows.attempts, expected.attempts);
        EXPECT_EQ(rows.error, expected.error);
        EXPECT_EQ(rows.nodes, expected.nodes);
    }
}

TEST(StoreJournal, RecordsAfterTheLastCommitRebuildEvenAnIntactFile) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    append_uncommitted(path + ".journal", {record_of(11)});
    auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
    EXPECT_EQ(statuses_of(s)[11], TaskStatus::Done);
}

TEST(StoreJournal, AJournalOfAnotherFileIsReplaced) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    // --force killed between its two renames: the new file, the old file's journal.
    store::JournalHeader foreign = header_for(small_grid().to_json());
    foreign.file_id = 42;
    std::string bytes = store::encode_header(foreign);
    std::vector<TaskRecord> old = {record_of(1)};
    store::append_records_frame({&old[0]}, bytes);
    write_bytes(path + ".journal", bytes);
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        EXPECT_EQ(statuses_of(s)[1], TaskStatus::Pending);
    }
    EXPECT_EQ(store::scan_journal(bytes_of(path + ".journal")).header.file_id, journal_id_of(path));
}

TEST(StoreJournal, AJournalOfAnotherGridIsRefusedAndNothingIsTouched) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    Grid other;
    other.add(Axis::range("a", 0, 4));
    other.add(Axis::list("b", {Value(std::string("x")), Value(std::string("y")), Value(std::string("w"))}));
    store::JournalHeader header = header_for(other.to_json());
    header.file_id = journal_id_of(path);
    write_bytes(path + ".journal", store::encode_header(header));
    const std::string file_before = bytes_of(path);
    const std::string journal_before = bytes_of(path + ".journal");
    try {
        ResultStore::open_for_resume(small_grid(), options_for(path));
        FAIL() << "expected a StoreError";
    } catch (const StoreError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("journal"), std::string::npos) << message;
        EXPECT_NE(message.find("'b'"), std::string::npos) << message;
    }
    EXPECT_EQ(bytes_of(path), file_before);
    EXPECT_EQ(bytes_of(path + ".journal"), journal_before);
}

TEST(StoreJournal, ATornJournalTailIsCutBeforeAppending) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        s.record(record_of(0));
        s.record(record_of(1));
    }
    std::string bytes = bytes_of(path + ".journal");
    std::vector<TaskRecord> torn = {record_of(2)};
    std::string frame;
    store::append_records_frame({&torn[0]}, frame);
    write_bytes(path + ".journal", bytes + frame.substr(0, frame.size() / 2));
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        EXPECT_EQ(statuses_of(s)[2], TaskStatus::Pending);  // never settled: it runs again
        s.record(record_of(2));
        s.record(record_of(3));
    }
    // The scan holds views into the bytes: keep them alive while it is used.
    const std::string journal = bytes_of(path + ".journal");
    const store::JournalScan scan = store::scan_journal(journal);
    EXPECT_FALSE(scan.torn_tail);
    std::vector<TaskRecord> all;
    for (const auto& f : scan.frames)
        if (f.kind == FrameKind::Records) store::decode_records(f, all);
    EXPECT_EQ(all.size(), 4u);
}

TEST(StoreJournal, TheJournalIsRemovedOnceEveryTaskIsDone) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id = 0; id < 11; ++id) s.record(record_of(id));
    }
    EXPECT_TRUE(fs::exists(path + ".journal"));
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        s.record(record_of(11));
    }
    EXPECT_FALSE(fs::exists(path + ".journal"));
    EXPECT_EQ(read_rows(path).status, std::vector<std::int8_t>(12, 1));
}

TaskRecord float_record(std::uint64_t id) {
    TaskRecord r = record_of(id);
    r.results = {{"loss", 0.25 * static_cast<double>(id)}};
    return r;
}

// A sweep whose journal a version 1 mpisweep wrote: the resume reads its Records frames,
// raises its header to version 2 (an older mpisweep then refuses it rather than misreading
// the Rows frames appended after them) and keeps every record.
TEST(StoreJournal, AResumeRaisesAVersion1JournalTo2AndKeepsItsRecords) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    const std::string journal = path + ".journal";
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id = 0; id < 6; ++id) s.record(float_record(id));
    }
    // The same journal as version 1 wrote it: its records in one Records frame, then a Commit
    // (the file holds them all).
    const std::string written_bytes = bytes_of(journal);  // the scan's views point into it
    const store::JournalScan written = store::scan_journal(written_bytes);
    std::vector<TaskRecord> records;
    for (const store::FrameInfo& f : written.frames)
        if (f.kind == FrameKind::Records) store::decode_records(f, records);
    ASSERT_EQ(records.size(), 6u);
    std::string v1 = v1_journal(records, written.header);
    store::append_commit_frame(v1.size(), v1);
    write_bytes(journal, v1);
    ASSERT_EQ(store::scan_journal(bytes_of(journal)).header.version, 1u);
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        for (std::uint64_t id = 6; id < 9; ++id) s.record(float_record(id));
    }
    const std::string after_bytes = bytes_of(journal);
    const store::JournalScan after = store::scan_journal(after_bytes);
    EXPECT_EQ(after.header.version, store::kJournalVersion);
    std::vector<std::uint8_t> kinds;
    std::vector<TaskRecord> all;
    for (const store::FrameInfo& f : after.frames) {
        kinds.push_back(f.kind_byte);
        if (f.kind == FrameKind::Records) store::decode_records(f, all);
    }
    EXPECT_EQ(kinds.front(), 1);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), store::kRowsKindByte), kinds.end());
    std::vector<std::uint64_t> ids;
    for (const TaskRecord& r : all) ids.push_back(r.id.value());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    EXPECT_EQ(ids, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
    const Rows rows = read_rows(path);
    for (std::uint64_t id = 0; id < 12; ++id) EXPECT_EQ(rows.status[id], id < 9 ? 1 : 0) << id;
}

TEST(StoreJournal, AFileWithoutAJournalStartsOneThatCannotRebuildOlderRows) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        s.record(record_of(0));
    }
    fs::remove(path + ".journal");  // as a file from before journals
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        s.record(record_of(1));
    }
    const store::JournalScan scan = store::scan_journal(bytes_of(path + ".journal"));
    EXPECT_FALSE(scan.header.since_creation);
    EXPECT_EQ(scan.header.file_id, journal_id_of(path));
    // A kill mid-write with the file intact: the journal's records are replayed on top.
    append_uncommitted(path + ".journal", {record_of(5)});
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        auto st = statuses_of(s);
        EXPECT_EQ(st[0], TaskStatus::Done);
        EXPECT_EQ(st[1], TaskStatus::Done);
        EXPECT_EQ(st[5], TaskStatus::Done);
    }
    // A torn file cannot be rebuilt from it: one clear error.
    append_uncommitted(path + ".journal", {record_of(6)});
    tear(path);
    try {
        ResultStore::open_for_resume(small_grid(), options_for(path));
        FAIL() << "expected a StoreError";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot be rebuilt"), std::string::npos) << e.what();
    }
}

// ---- results journaled as they arrive ------------------------------------------------------

// What a whole-job SIGKILL leaves: the file and journal as they are on disk now, copied.
std::string killed_copy(const TempDir& dir, const std::string& path) {
    const std::string copy = dir.file("killed.h5");
    fs::copy_file(path, copy);
    fs::copy_file(path + ".journal", copy + ".journal");
    return copy;
}

StoreOptions batching_options(const std::string& path) {
    StoreOptions options = options_for(path);
    options.flush_rows = 1000;  // no HDF5 write before close
    options.flush_interval = std::chrono::hours(1);
    return options;
}

TEST(StoreJournal, ASlowTasksResultIsJournaledBeforeAnyFlushAndSurvivesAKill) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    auto s = ResultStore::create(small_grid(), batching_options(path));
    const std::uint64_t header_end = store::scan_journal(bytes_of(path + ".journal")).valid_end;
    s.record(record_of(3));  // ran 0.5 s
    s.journal_slow_results();
    const std::string journal = bytes_of(path + ".journal");
    const store::JournalScan scan = store::scan_journal(journal);
    ASSERT_EQ(scan.frames.size(), 2u);
    EXPECT_EQ(scan.frames[0].kind, FrameKind::Records);
    EXPECT_EQ(scan.frames[1].kind, FrameKind::Commit);
    EXPECT_TRUE(scan.settled_in_file());             // no HDF5 write under way
    EXPECT_EQ(scan.committed_offset(), header_end);  // the file holds none of it yet

    const std::string killed = killed_copy(dir, path);
    EXPECT_EQ(read_rows(killed).status[3], 0);  // pending in the file alone
    {
        auto resumed = ResultStore::open_for_resume(small_grid(), options_for(killed));
        EXPECT_EQ(statuses_of(resumed)[3], TaskStatus::Done);
    }
    const Rows rows = read_rows(killed);
    EXPECT_EQ(rows.status[3], 1);
    EXPECT_EQ(rows.attempts[3], record_of(3).attempts);
    EXPECT_EQ(rows.loss[3], 0.75);
    EXPECT_EQ(rows.tag[3], "t3");
    // The resume's write into the file is bracketed like any flush: an empty Records frame
    // before it, a Commit after it.
    const std::string after = bytes_of(killed + ".journal");
    const store::JournalScan resumed_scan = store::scan_journal(after);
    ASSERT_GE(resumed_scan.frames.size(), 4u);
    EXPECT_EQ(resumed_scan.frames[2].kind, FrameKind::Records);
    EXPECT_EQ(resumed_scan.frames[3].kind, FrameKind::Commit);
    EXPECT_EQ(resumed_scan.frames[2].payload.size(), 4u);  // a count of 0
    EXPECT_TRUE(resumed_scan.settled_in_file());
}

// A flush of a full batch leaves the /tasks chunk still filling in memory; the Commit after
// it names the offset its rows' records start at, so a kill loses none of them.
TEST(StoreJournal, RowsHeldInMemoryAtAKillComeBackFromTheJournal) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    StoreOptions options = batching_options(path);
    options.flush_rows = 2;
    auto s = ResultStore::create(small_grid(), options);
    const std::uint64_t header_end = store::scan_journal(bytes_of(path + ".journal")).valid_end;
    TaskRecord failed = record_of(2, TaskStatus::Failed);
    failed.attempts = 3;
    for (const TaskRecord& record : {record_of(0), record_of(1), failed, record_of(3)}) s.record(record);
    const std::string journal = bytes_of(path + ".journal");  // the scan points into it
    const store::JournalScan scan = store::scan_journal(journal);
    ASSERT_EQ(scan.frames.size(), 4u);  // two flushes: Records, Commit, Records, Commit
    EXPECT_TRUE(scan.settled_in_file());
    EXPECT_EQ(scan.committed_offset(), header_end);  // both batches' rows are held

    const std::string killed = killed_copy(dir, path);
    const Rows at_kill = read_rows(killed);
    for (std::size_t id = 0; id < 4; ++id) EXPECT_EQ(at_kill.status[id], 0) << "held, not in the file";
    EXPECT_EQ(at_kill.loss[1], 0.25);  // the results went
    {
        auto resumed = ResultStore::open_for_resume(small_grid(), options_for(killed));
        const std::vector<TaskStatus> st = statuses_of(resumed);
        EXPECT_EQ(st[0], TaskStatus::Done);
        EXPECT_EQ(st[2], TaskStatus::Failed);
        EXPECT_EQ(st[3], TaskStatus::Done);
        EXPECT_EQ(st[4], TaskStatus::Pending);
    }
    // Replayed once more over rows the file may hold already: the same values, not added up.
    const Rows rows = read_rows(killed);
    EXPECT_EQ(rows.status[0], 1);
    EXPECT_EQ(rows.status[2], 2);
    EXPECT_EQ(rows.attempts[2], 3);
    EXPECT_EQ(rows.attempts[3], record_of(3).attempts);
    EXPECT_EQ(rows.loss[3], 0.75);
}

TEST(StoreJournal, FastResultsAreBatchedAtMostOneIntervalApart) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    StoreOptions options = batching_options(path);
    options.journal_interval = std::chrono::hours(1);
    auto s = ResultStore::create(small_grid(), options);
    auto frames = [&] {
        const std::string bytes = bytes_of(path + ".journal");
        return store::scan_journal(bytes).frames.size();
    };
    TaskRecord fast = record_of(1);
    fast.wall_s = 0.0001;
    s.record(fast);
    s.journal_slow_results();
    EXPECT_EQ(frames(), 0u);  // a fast result waits for maybe_flush()
    EXPECT_EQ(s.next_write_in().count(), 0.0);
    s.maybe_flush();  // the first write: none came before it
    EXPECT_EQ(frames(), 2u);
    fast.id = TaskId(2);
    s.record(fast);
    s.maybe_flush();
    EXPECT_EQ(frames(), 2u);  // the last write is less than an interval old
    EXPECT_GT(s.next_write_in().count(), 60.0);
    s.write_journal();  // a rank working alone, before it runs a task
    EXPECT_EQ(frames(), 4u);
    EXPECT_GT(s.next_write_in().count(), 60.0);  // only the HDF5 flush, an hour on
    s.close();
    EXPECT_EQ(s.next_write_in(), std::chrono::duration<double>::max());
}

TEST(StoreJournal, AResumeCountsTheAttemptsOfAFailureJournaledAfterTheLastFlush) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    auto s = ResultStore::create(small_grid(), batching_options(path));
    s.record(record_of(4, TaskStatus::Failed));  // 2 attempts
    s.flush();
    TaskRecord again = record_of(4, TaskStatus::Failed);
    again.attempts = 3;  // a retry failed too: 3 in all
    s.record(again);
    s.journal_slow_results();
    const std::string killed = killed_copy(dir, path);
    {
        auto resumed = ResultStore::open_for_resume(small_grid(), options_for(killed));
        TaskRecord retry = record_of(4);
        retry.attempts = 1;  // this run's
        resumed.record(retry);
    }
    const Rows rows = read_rows(killed);
    EXPECT_EQ(rows.status[4], 1);
    EXPECT_EQ(rows.attempts[4], 4);
}

/// A Records frame of tasks 0 and 1.
std::string two_records_frame() {
    std::vector<TaskRecord> records = {record_of(0), record_of(1)};
    std::string frame;
    store::append_records_frame({&records[0], &records[1]}, frame);
    return frame;
}

/// A new journal at `path` holding one frame, two_records_frame().
store::JournalWriter journal_with_one_frame(const std::string& path) {
    store::create_journal_file(path, header_for("{}"));
    store::JournalWriter writer(path, fs::file_size(path));
    writer.append(two_records_frame());
    return writer;
}

TEST(JournalFile, AnAppendCutShortIsCutOffAgain) {
    TempDir dir;
    const std::string path = dir.file("j");
    store::JournalWriter writer = journal_with_one_frame(path);
    const std::string frame = two_records_frame();
    const std::uint64_t good = writer.size();
    // A file size limit stands in for a full disk: the kernel takes part of the next append.
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old_limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    rlimit limit = old_limit;
    limit.rlim_cur = good + 10;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
    try {
        writer.append(frame, frame);
        ADD_FAILURE() << "an append past the file size limit succeeded";
    } catch (const StoreWriteError& e) {  // EFBIG: the disk's kind of error, with the path
        EXPECT_EQ(e.error_number(), EFBIG);
        EXPECT_EQ(e.path(), path);
        EXPECT_NE(std::string(e.what()).find("(errno " + std::to_string(EFBIG) + ")"), std::string::npos)
            << e.what();
    }
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_EQ(fs::file_size(path), good);
    writer.append(frame);  // space again: read after the first
    const std::string bytes = bytes_of(path);
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.frames.size(), 2u);
    EXPECT_FALSE(scan.torn_tail);
}

TEST(JournalFile, SpaceIsTakenAheadWithoutChangingWhatReadersSee) {
    TempDir dir;
    const std::string path = dir.file("j");
    store::JournalWriter writer = journal_with_one_frame(path);
    const std::string frame = two_records_frame();
    writer.keep_reserve();
    if (writer.reserved() == 0) GTEST_SKIP() << "this file system has no fallocate";
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(info.st_size), writer.size());  // the size is the frames'
    EXPECT_GE(static_cast<std::uint64_t>(info.st_blocks) * 512, writer.size() + writer.reserved());
    EXPECT_GE(writer.reserved(), store::JournalWriter::kJournalReserveLow);
    writer.append(frame);  // into the space taken ahead
    const std::string bytes = bytes_of(path);
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.frames.size(), 2u);
    EXPECT_FALSE(scan.torn_tail);
    writer.close();  // gives the space back
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_LT(static_cast<std::uint64_t>(info.st_blocks) * 512, info.st_size + (std::uint64_t{1} << 20));
}

TEST(H5Errors, TheErrnoComesFromTheDriversMessageElseFromErrno) {
    const std::string stack =
        "H5Fflush(): unable to flush file; H5FD_sec2_write(): file write failed: time = Tue Dec  1 10:00:00 "
        "2026, filename = 'x.h5', file descriptor = 5, errno = 28, error message = 'No space left on "
        "device', "
        "buf = 0x1, total write size = 4096";
    EXPECT_EQ(h5::system_error_of(stack, EIO), 28);
    EXPECT_EQ(h5::system_error_of("H5Dopen2(): unable to open dataset", EIO), EIO);
    EXPECT_EQ(h5::system_error_of("H5Dopen2(): unable to open dataset", 0), 0);
    EXPECT_TRUE(is_storage_errno(ENOSPC));
    EXPECT_TRUE(is_storage_errno(EIO));
    EXPECT_FALSE(is_storage_errno(EACCES));
}

}  // namespace
}  // namespace mpisweep
