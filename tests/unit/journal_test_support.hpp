#pragma once
// Helpers of the journal tests (journal_codec_test.cpp, store_journal_test.cpp): temporary
// folders, sample records and journals, the results file read back with the HDF5 C API.
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
#include "unit/store_support.hpp"

namespace mpisweep::journal_test {

namespace fs = std::filesystem;
using store::FrameKind;
using store_test::file_bytes;
using store_test::small_grid;
using store_test::statuses_of;
using store_test::TempDir;

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline TaskRecord record_of(std::uint64_t id, TaskStatus status = TaskStatus::Done) {
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

inline void expect_same(const TaskRecord& a, const TaskRecord& b) {
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

inline store::JournalHeader header_for(const std::string& spec) {
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
inline std::string sample_journal(std::vector<std::size_t>* frame_ends = nullptr) {
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

// A version 1 journal (Records frames, every field of every record: encoded here as
// docs/hdf5-layout.md says, not by the codec) reads as before.
inline void put_v1_string(std::string& out, const std::string& text) {
    const auto n = static_cast<std::uint32_t>(text.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += text;
}
template <class T>
inline void put_v1(std::string& out, T value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
inline std::string v1_journal(const std::vector<TaskRecord>& records, const store::JournalHeader& header) {
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

inline StoreOptions options_for(const std::string& path) {
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

inline std::vector<std::string> read_strings(hid_t file, const char* name) {
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
inline std::vector<T> read_numbers(hid_t file, const char* name, hid_t type, std::size_t n) {
    std::vector<T> out(n);
    h5::Dataset dataset(H5_CHECK(H5Dopen2, file, name, H5P_DEFAULT));
    H5_CHECK(H5Dread, dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    return out;
}

inline Rows read_rows(const std::string& path) {
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

inline std::uint64_t journal_id_of(const std::string& path) {
    h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    return h5::read_uint64_attribute(file.get(), "journal_id");
}

// Appends a Records frame with no Commit after it: the journal then says a write was under way.
inline void append_uncommitted(const std::string& journal, const std::vector<TaskRecord>& records) {
    std::string bytes = file_bytes(journal);
    std::vector<const TaskRecord*> pointers;
    for (const auto& r : records) pointers.push_back(&r);
    store::append_records_frame(pointers, bytes);
    write_bytes(journal, bytes);
}

// Damages the HDF5 file the way a kill in the middle of a write might: its superblock gone.
inline void tear(const std::string& path) {
    std::string bytes = file_bytes(path);
    for (std::size_t i = 0; i < 512 && i < bytes.size(); ++i) bytes[i] = '\0';
    write_bytes(path, bytes);
}

}  // namespace mpisweep::journal_test
