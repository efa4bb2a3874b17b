#include "store/file_layout.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <vector>

#include "store/column_type.hpp"
#include "store/h5_types.hpp"
#include "store/spec_diff.hpp"

#ifndef MPISWEEP_VERSION
#define MPISWEEP_VERSION "0.1.0"
#endif

namespace mpisweep::store {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows decoded and written per H5Dwrite when filling /params: one chunk of 64k rows.
constexpr std::uint64_t kParamBlockRows = 65536;

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

// Axes up to this size keep their values in a table: the fastest-varying axis is then
// copied a run at a time instead of decoded a row at a time.
constexpr std::uint64_t kParamTableMax = 65536;

// One /params/<axis> dataset and its buffer for a block of rows. Task ids are mixed-radix
// numbers (grid.hpp): the axis holds value (id / stride) % radix, so a block is runs of
// `stride` equal values, filled by run.
struct ParamColumn {
    const Axis* axis;
    std::uint64_t stride = 1;
    std::uint64_t radix = 1;
    h5::Datatype type;  // file and memory type (native on this machine)
    h5::Dataset dataset;
    std::vector<std::int64_t> ints;
    std::vector<double> doubles;
    std::vector<std::int8_t> bools;
    std::vector<std::string> strings;
    std::vector<const char*> pointers;
    // The axis's values in the buffer's element type (numeric axes up to kParamTableMax).
    std::vector<std::int64_t> int_table;
    std::vector<double> double_table;
    std::vector<std::int8_t> bool_table;
    // An int range too long for a table: value i is start + i * step (in uint64, as Axis does).
    bool int_range = false;
    std::uint64_t range_start = 0, range_step = 0;

    const void* data() {
        switch (axis->type()) {
            case ValueType::Int:
                return ints.data();
            case ValueType::Float:
                return doubles.data();
            case ValueType::Bool:
                return bools.data();
            case ValueType::String:
                for (std::size_t i = 0; i < strings.size(); ++i) pointers[i] = strings[i].c_str();
                return pointers.data();
        }
        return nullptr;
    }

    static double as_double(const Value& value) {
        return value.index() == 0 ? static_cast<double>(std::get<std::int64_t>(value))
                                  : std::get<double>(value);
    }

    void make_table() {
        if (axis->size() > kParamTableMax) {
            if (axis->kind() == Axis::Kind::Range && axis->type() == ValueType::Int) {
                int_range = true;
                range_start = static_cast<std::uint64_t>(std::get<std::int64_t>(axis->at(0)));
                range_step = static_cast<std::uint64_t>(std::get<std::int64_t>(axis->at(1))) - range_start;
            }
            return;
        }
        for (std::uint64_t i = 0; i < axis->size(); ++i) {
            const Value value = axis->at(i);
            switch (axis->type()) {
                case ValueType::Int:
                    int_table.push_back(std::get<std::int64_t>(value));
                    break;
                case ValueType::Float:
                    double_table.push_back(as_double(value));
                    break;
                case ValueType::Bool:
                    bool_table.push_back(std::get<bool>(value) ? 1 : 0);
                    break;
                case ValueType::String:
                    return;
            }
        }
    }

    // Rows [row, row + n) of the buffer all hold value `index` of the axis.
    void fill(std::size_t row, std::size_t n, std::uint64_t index) {
        switch (axis->type()) {
            case ValueType::Int:
                std::fill_n(ints.begin() + static_cast<std::ptrdiff_t>(row), n,
                            int_table.empty() ? std::get<std::int64_t>(axis->at(index)) : int_table[index]);
                break;
            case ValueType::Float:
                std::fill_n(doubles.begin() + static_cast<std::ptrdiff_t>(row), n,
                            double_table.empty() ? as_double(axis->at(index)) : double_table[index]);
                break;
            case ValueType::Bool:
                std::fill_n(bools.begin() + static_cast<std::ptrdiff_t>(row), n,
                            bool_table.empty() ? std::int8_t{std::get<bool>(axis->at(index)) ? std::int8_t{1}
                                                                                             : std::int8_t{0}}
                                               : bool_table[index]);
                break;
            case ValueType::String:
                std::fill_n(strings.begin() + static_cast<std::ptrdiff_t>(row), n,
                            std::get<std::string>(axis->at(index)));
                break;
        }
    }

    // Rows [row, row + n) hold values index, index + 1, ... of a tabled axis of stride 1.
    bool copy_from_table(std::size_t row, std::size_t n, std::uint64_t index) {
        if (int_range) {
            std::uint64_t value = range_start + index * range_step;
            for (std::size_t k = 0; k < n; ++k, value += range_step)
                ints[row + k] = static_cast<std::int64_t>(value);
            return true;
        }
        auto copy = [&](const auto& table, auto& out) {
            if (table.empty()) return false;
            std::copy_n(table.begin() + static_cast<std::ptrdiff_t>(index), n,
                        out.begin() + static_cast<std::ptrdiff_t>(row));
            return true;
        };
        switch (axis->type()) {
            case ValueType::Int:
                return copy(int_table, ints);
            case ValueType::Float:
                return copy(double_table, doubles);
            case ValueType::Bool:
                return copy(bool_table, bools);
            case ValueType::String:
                return false;
        }
        return false;
    }

    // Rows first .. first + rows - 1 of the grid into the buffer (sized for them).
    void fill_block(std::uint64_t first, std::size_t rows) {
        std::uint64_t index = first / stride % radix;
        std::uint64_t left = stride - first % stride;  // rows until the value changes
        std::size_t row = 0;
        while (row < rows) {
            std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, rows - row));
            if (stride == 1) {
                n = static_cast<std::size_t>(std::min<std::uint64_t>(radix - index, rows - row));
                if (!copy_from_table(row, n, index)) {
                    n = 1;
                    fill(row, 1, index);
                }
                index += n;
            } else {
                fill(row, n, index);
                ++index;
            }
            row += n;
            left = stride;
            if (index == radix) index = 0;
        }
    }
};

h5::Datatype memory_type_of(ValueType type) {
    switch (type) {
        case ValueType::Int:
            return h5::Datatype(H5_CHECK(H5Tcopy, H5T_NATIVE_INT64));
        case ValueType::Float:
            return h5::Datatype(H5_CHECK(H5Tcopy, H5T_NATIVE_DOUBLE));
        case ValueType::String:
            return h5::vlen_utf8_string();
        case ValueType::Bool:
            return h5::bool_enum();
    }
    return {};
}

}  // namespace

bool params_written_at_creation(const Grid& grid) {
    for (const Axis& axis : grid.axes())
        if (axis.type() == ValueType::String) return true;
    return false;
}

namespace {

// Fixed-size columns are contiguous, allocated at creation and never filled: creating a
// 10^8-row grid writes nothing, and a later write of raw rows changes no HDF5 metadata, so
// ParamWriter may write them between two flushes. Strings (a heap object per row) keep
// chunks and are written whole at creation.
void create_params(hid_t file, const Grid& grid) {
    h5::Group group = h5::create_ordered_group(file, "params");
    const std::uint64_t n = grid.size();
    const bool lazy = !params_written_at_creation(grid);
    for (const Axis& axis : grid.axes()) {
        check_field_name(axis.name(), "param");
        h5::Datatype type = memory_type_of(axis.type());
        const std::size_t element = H5Tget_size(type.get());
        if (!lazy) {
            h5::create_rows_dataset(group.get(), axis.name().c_str(), type.get(), n, 0, element, type.get(),
                                    nullptr);
            continue;
        }
        hsize_t dims[1] = {n};
        h5::Dataspace space(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
        h5::PropList creation(H5_CHECK(H5Pcreate, H5P_DATASET_CREATE));
        H5_CHECK(H5Pset_layout, creation.get(), H5D_CONTIGUOUS);
        H5_CHECK(H5Pset_alloc_time, creation.get(), H5D_ALLOC_TIME_EARLY);
        H5_CHECK(H5Pset_fill_time, creation.get(), H5D_FILL_TIME_NEVER);
        h5::Dataset(H5_CHECK(H5Dcreate2, group.get(), axis.name().c_str(), type.get(), space.get(),
                             H5P_DEFAULT, creation.get(), H5P_DEFAULT));
    }
}

}  // namespace

struct ParamWriter::Column {
    ParamColumn data;
};

ParamWriter::ParamWriter() = default;
ParamWriter::~ParamWriter() = default;
ParamWriter::ParamWriter(ParamWriter&&) noexcept = default;
ParamWriter& ParamWriter::operator=(ParamWriter&&) noexcept = default;

ParamWriter::ParamWriter(hid_t file, const Grid& grid) : grid_(grid), n_(grid.size()) {
    // The digits of a task id (grid.hpp): one per axis, except that a zip group is one digit
    // at its first axis; the last digit varies fastest.
    const std::vector<Axis>& axes = grid_.axes();
    std::vector<std::size_t> digit_of(axes.size(), axes.size());
    std::vector<std::uint64_t> radix;
    const auto groups = grid_.zip_groups();
    for (std::size_t i = 0; i < axes.size(); ++i) {
        if (digit_of[i] != axes.size()) continue;  // a later member of a zip group
        digit_of[i] = radix.size();
        for (const auto& group : groups)
            if (group.front() == i)
                for (std::size_t k : group) digit_of[k] = radix.size();
        radix.push_back(axes[i].size());
    }
    std::vector<std::uint64_t> stride(radix.size(), 1);
    for (std::size_t d = radix.size(); d-- > 1;) stride[d - 1] = stride[d] * radix[d];
    for (std::size_t i = 0; i < axes.size(); ++i) {
        const Axis& axis = axes[i];
        auto column = std::make_unique<Column>();
        ParamColumn& c = column->data;
        c.axis = &axis;
        c.stride = stride[digit_of[i]];
        c.radix = radix[digit_of[i]];
        c.make_table();
        c.type = memory_type_of(axis.type());
        const std::string path = "params/" + axis.name();
        c.dataset = h5::Dataset(H5_CHECK(H5Dopen2, file, path.c_str(), H5P_DEFAULT));
        columns_.push_back(std::move(column));
    }
}

void ParamWriter::write_block() {
    if (written_ >= n_) return;
    const std::uint64_t rows = std::min(kParamBlockRows, n_ - written_);
    for (auto& column : columns_) {
        ParamColumn& c = column->data;
        switch (c.axis->type()) {
            case ValueType::Int:
                c.ints.resize(rows);
                break;
            case ValueType::Float:
                c.doubles.resize(rows);
                break;
            case ValueType::Bool:
                c.bools.resize(rows);
                break;
            case ValueType::String:
                c.strings.resize(rows);
                c.pointers.resize(rows);
                break;
        }
    }
    for (auto& column : columns_) column->data.fill_block(written_, static_cast<std::size_t>(rows));
    hsize_t dims[1] = {n_};
    h5::Dataspace file_space(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
    hsize_t start[1] = {written_};
    hsize_t count[1] = {rows};
    H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, count, nullptr));
    for (auto& column : columns_) {
        ParamColumn& c = column->data;
        H5_CHECK(H5Dwrite, c.dataset.get(), c.type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                 c.data());
    }
    written_ += rows;
}

void ParamWriter::write_through(std::uint64_t end) {
    while (written_ < std::min(end, n_)) write_block();
}

namespace {

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
    h5::File file(H5_CHECK(H5Fcreate, path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    write_root_attributes(file.get(), grid, identity);
    create_params(file.get(), grid);
    if (params_written_at_creation(grid)) ParamWriter(file.get(), grid).write_through(grid.size());
    h5::create_ordered_group(file.get(), "results");
    write_tasks(file.get(), grid.size());
    write_nodes(file.get());
    file.close();
}

void check_same_sweep(hid_t file, const Grid& grid, const std::string& path) {
    if (!h5::has_attribute(file, "format") || h5::read_string_attribute(file, "format") != kFormatName)
        throw StoreError("'" + path + "' is not an mpisweep results file (no root attribute format=\"" +
                         kFormatName + "\")");
    std::int64_t version =
        h5::has_attribute(file, "format_version") ? h5::read_int64_attribute(file, "format_version") : 0;
    if (version != kFormatVersion)
        throw StoreError(not_resumable(path, "it has format_version " + std::to_string(version) +
                                                 ", this mpisweep reads version " +
                                                 std::to_string(kFormatVersion)));
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
}

TaskDatasets open_task_datasets(hid_t file) {
    h5::PropList access = h5::written_dataset_access();
    auto open = [&](const char* name) { return h5::Dataset(H5_CHECK(H5Dopen2, file, name, access.get())); };
    return TaskDatasets{open("tasks/status"), open("tasks/attempts"),  open("tasks/worker"),
                        open("tasks/device"), open("tasks/node"),      open("tasks/start"),
                        open("tasks/wall_s"), open("tasks/exit_code"), open("tasks/error")};
}

}  // namespace mpisweep::store
