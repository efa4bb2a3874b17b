#include "store/file_layout.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <vector>

#include "store/column_type.hpp"
#include "store/h5_types.hpp"
#include "store/param_writer.hpp"
#include "store/spec_diff.hpp"

#ifndef MPISWEEP_VERSION
#define MPISWEEP_VERSION "0.1.0"
#endif

namespace mpisweep::store {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void write_root_attributes(hid_t file, const Grid& grid, const FileIdentity& identity) {
    h5::write_string_attribute(file, "format", kFormatName);
    h5::write_int32_attribute(file, "format_version", kFormatVersion);
    h5::write_string_attribute(file, "mpisweep_version", MPISWEEP_VERSION);
    h5::write_string_attribute(file, "spec", grid.to_json());
    h5::write_string_attribute(file, "command", identity.command);
    h5::write_uint64_attribute(file, "n_tasks", grid.size());
    h5::write_string_attribute(file, "created", identity.created);
    h5::write_int32_attribute(file, "mpi_size", identity.mpi_size);
    h5::write_uint64_attribute(file, "journal_id", identity.journal_id);
}

// Every axis chunked like the rows it belongs to, allocated when written (a whole chunk at
// once, so no fill value is needed): creating the file writes nothing, whatever the grid's size (a contiguous dataset would be
// allocated whole: 8 PB for a 10^15-point grid).
void create_params(hid_t file, const Grid& grid) {
    h5::Group group = h5::create_ordered_group(file, "params");
    const std::uint64_t n = grid.size();
    for (const Axis& axis : grid.axes()) {
        check_field_name(axis.name(), "param");
        h5::Datatype type = param_type_of(axis.type());
        hsize_t dims[1] = {n};
        hsize_t chunk[1] = {param_chunk_rows(n)};
        h5::Dataspace space(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
        h5::PropList creation(H5_CHECK(H5Pcreate, H5P_DATASET_CREATE));
        H5_CHECK(H5Pset_chunk, creation.get(), 1, chunk);
        H5_CHECK(H5Pset_alloc_time, creation.get(), H5D_ALLOC_TIME_INCR);
        h5::Dataset(H5_CHECK(H5Dcreate2, group.get(), axis.name().c_str(), type.get(), space.get(),
                             H5P_DEFAULT, creation.get(), H5P_DEFAULT));
    }
}

void write_tasks(hid_t file, std::uint64_t n) {
    h5::Group tasks = h5::create_ordered_group(file, "tasks");
    const std::int8_t pending = 0;
    const std::int32_t zero = 0, none = -1;
    h5::Datatype status = h5::status_enum();
    h5::Datatype text = h5::vlen_utf8_string();
    // Fill values stand for every row nobody wrote yet: creation writes no task rows.
    h5::create_rows_dataset(tasks.get(), "status", status.get(), n, 0, 1, status.get(), &pending);
    h5::create_rows_dataset(tasks.get(), "attempts", H5T_STD_I32LE, n, 0, 4, H5T_NATIVE_INT32, &zero);
    h5::create_rows_dataset(tasks.get(), "worker", H5T_STD_I32LE, n, 0, 4, H5T_NATIVE_INT32, &none);
    h5::create_rows_dataset(tasks.get(), "device", H5T_STD_I32LE, n, 0, 4, H5T_NATIVE_INT32, &none);
    h5::create_rows_dataset(tasks.get(), "node", H5T_STD_I32LE, n, 0, 4, H5T_NATIVE_INT32, &none);
    h5::create_rows_dataset(tasks.get(), "start", H5T_IEEE_F64LE, n, 0, 8, H5T_NATIVE_DOUBLE, &kNaN);
    h5::create_rows_dataset(tasks.get(), "wall_s", H5T_IEEE_F64LE, n, 0, 8, H5T_NATIVE_DOUBLE, &kNaN);
    h5::create_rows_dataset(tasks.get(), "exit_code", H5T_STD_I32LE, n, 0, 4, H5T_NATIVE_INT32, &zero);
    h5::create_rows_dataset(tasks.get(), "error", text.get(), n, 0, 16, text.get(), nullptr);
}

void write_nodes(hid_t file) {
    h5::Datatype text = h5::vlen_utf8_string();
    hsize_t dims[1] = {0};
    hsize_t max_dims[1] = {H5S_UNLIMITED};
    hsize_t chunk[1] = {64};
    h5::Dataspace space(H5_CHECK(H5Screate_simple, 1, dims, max_dims));
    h5::PropList creation(H5_CHECK(H5Pcreate, H5P_DATASET_CREATE));
    H5_CHECK(H5Pset_chunk, creation.get(), 1, chunk);
    h5::Dataset nodes(H5_CHECK(H5Dcreate2, file, "nodes", text.get(), space.get(), H5P_DEFAULT,
                               creation.get(), H5P_DEFAULT));
}

std::string not_resumable(const std::string& path, const std::string& why) {
    return "cannot resume from '" + path + "': " + why;
}

}  // namespace

std::string utc_timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::uint64_t read_journal_id(hid_t file) {
    return h5::has_attribute(file, "journal_id") ? h5::read_uint64_attribute(file, "journal_id") : 0;
}

void write_journal_id(hid_t file, std::uint64_t id) {
    if (h5::has_attribute(file, "journal_id")) H5_CHECK(H5Adelete, file, "journal_id");
    h5::write_uint64_attribute(file, "journal_id", id);
}

void write_new_file(const std::string& path, const Grid& grid, const FileIdentity& identity) {
    h5::File file(
        H5_CHECK(H5Fcreate, path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, h5::writer_file_access().get()));
    write_root_attributes(file.get(), grid, identity);
    create_params(file.get(), grid);
    h5::create_ordered_group(file.get(), "results");
    write_tasks(file.get(), grid.size());
    write_nodes(file.get());
    file.close();
}

int check_format(hid_t file, const std::string& path) {
    if (!h5::has_attribute(file, "format") || h5::read_string_attribute(file, "format") != kFormatName)
        throw StoreError("'" + path + "' is not an mpisweep results file (no root attribute format=\"" +
                         kFormatName + "\")");
    if (!h5::has_attribute(file, "format_version"))
        throw StoreError("'" + path + "' is damaged: it has no root attribute format_version");
    const std::int64_t version = h5::read_int64_attribute(file, "format_version");
    if (version < kOldestFormatVersion || version > kFormatVersion) {
        const std::string writer = h5::has_attribute(file, "mpisweep_version")
                                       ? h5::read_string_attribute(file, "mpisweep_version")
                                       : "";
        throw StoreError("'" + path + "' has format_version " + std::to_string(version) +
                         ", which this mpisweep (" + MPISWEEP_VERSION + ") cannot read (it reads versions " +
                         std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion) +
                         "): use " + (writer.empty() ? "the mpisweep that wrote it" : "mpisweep " + writer) +
                         " or a newer one");
    }
    return static_cast<int>(version);
}

int check_same_sweep(hid_t file, const Grid& grid, const std::string& path) {
    int version = 0;
    try {
        version = check_format(file, path);
    } catch (const StoreError& e) {
        throw StoreError(not_resumable(path, e.what()));
    }
    std::string difference =
        describe_spec_difference(h5::read_string_attribute(file, "spec"), grid.to_json());
    if (!difference.empty())
        throw StoreError(not_resumable(path, "it was made by a different grid: " + difference +
                                                 " (give the same parameters to resume, or --force "
                                                 "to start over)"));
    std::uint64_t n_tasks = h5::read_uint64_attribute(file, "n_tasks");
    if (n_tasks != grid.size())
        throw StoreError(not_resumable(path, "it holds " + std::to_string(n_tasks) +
                                                 " tasks, this grid has " + std::to_string(grid.size())));
    return version;
}

TaskDatasets open_task_datasets(hid_t file) {
    h5::PropList access = h5::written_dataset_access();
    auto open = [&](const char* name) { return h5::Dataset(H5_CHECK(H5Dopen2, file, name, access.get())); };
    return TaskDatasets{open("tasks/status"), open("tasks/attempts"),  open("tasks/worker"),
                        open("tasks/device"), open("tasks/node"),      open("tasks/start"),
                        open("tasks/wall_s"), open("tasks/exit_code"), open("tasks/error")};
}

}  // namespace mpisweep::store
