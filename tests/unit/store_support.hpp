#pragma once
// What the store's unit tests share: a scratch folder, a reader of results files through the
// HDF5 C API (what a user analysing the file would do), a small grid and records.
#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/h5_check.hpp"
#include "store/h5_types.hpp"
#include "store/result_store.hpp"

namespace mpisweep::store_test {

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

inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- reading a file back with the C API --------------------------------------------------

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
    std::vector<std::vector<double>> lists(const char* path) const {
        h5::Datatype type = h5::vlen_float64();
        std::vector<hvl_t> raw = read<hvl_t>(path, type.get());
        std::vector<std::vector<double>> values;
        for (hvl_t& v : raw) {
            const auto* p = static_cast<const double*>(v.p);
            values.emplace_back(p, p + v.len);
            H5free_memory(v.p);
        }
        return values;
    }
    std::string string_attribute_of(const char* dataset_path, const char* name) const {
        h5::Dataset dataset(H5_CHECK(H5Dopen2, file_.get(), dataset_path, H5P_DEFAULT));
        return h5::read_string_attribute(dataset.get(), name);
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
inline Reader on_disk(const std::string& path, const TempDir& dir) {
    std::string copy = dir.file("on-disk-copy.h5");
    fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
    return Reader(copy);
}

// ---- grids and records -------------------------------------------------------------------

// 4 x 3 = 12 tasks: a in 0..3 (int), b in x, y, z (string). Task id = 3 * a + b.
inline Grid small_grid() {
    Grid grid;
    grid.add(Axis::range("a", 0, 4));
    grid.add(Axis::list("b", {Value(std::string("x")), Value(std::string("y")), Value(std::string("z"))}));
    return grid;
}

inline StoreOptions options_for(const std::string& path) {
    StoreOptions options;
    options.path = path;
    options.command = "mpisweep a=range(0,4) b=x,y,z -- ./task";
    options.mpi_size = 5;
    return options;
}

inline TaskRecord done(std::uint64_t id, TaskResult results = {}) {
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

inline TaskRecord failed(std::uint64_t id, int attempts, std::string error, int exit_code = 3) {
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

/// One status per task from ResultStore::settled() (small grids only).
inline std::vector<TaskStatus> statuses_of(const ResultStore& store) {
    std::vector<TaskStatus> statuses(store.size(), TaskStatus::Pending);
    const SettledTasks settled = store.settled();
    for (const SettledRun& run : settled.runs())
        for (std::uint64_t i = 0; i < run.count; ++i) statuses.at(run.first + i) = run.status;
    return statuses;
}

}  // namespace mpisweep::store_test
