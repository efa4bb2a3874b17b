#include "store/file_writer.hpp"

#include <chrono>
#include <limits>
#include <optional>
#include <type_traits>

#include "store/column_type.hpp"
#include "store/row_selection.hpp"

namespace mpisweep::store {

static_assert(std::is_same_v<RowId, hsize_t>);

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows of /tasks/status read per H5Dread.
constexpr hsize_t kStatusBlockRows = hsize_t{1} << 20;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

h5::Dataspace whole_rows_space(std::uint64_t rows) {
    hsize_t dims[1] = {rows};
    return h5::Dataspace(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
}

// Reads the [first, first + count) rows of a 1-D dataset into `out`.
void read_rows(hid_t dataset, hid_t memory_type, hsize_t first, hsize_t count, void* out) {
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, dataset));
    hsize_t start[1] = {first};
    hsize_t counts[1] = {count};
    H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr);
    h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, counts, nullptr));
    H5_CHECK(H5Dread, dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, out);
}

// Reads every string of a 1-D vlen string dataset.
std::vector<std::string> read_all_strings(hid_t dataset) {
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset));
    hssize_t count = H5_CHECK(H5Sget_simple_extent_npoints, space.get());
    std::vector<char*> raw(static_cast<std::size_t>(count), nullptr);
    std::vector<std::string> strings;
    if (count == 0) return strings;
    h5::Datatype text = h5::vlen_utf8_string();
    H5_CHECK(H5Dread, dataset, text.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
    for (char* s : raw) strings.emplace_back(s ? s : "");
    (void)H5Dvlen_reclaim(text.get(), space.get(), H5P_DEFAULT, raw.data());
    return strings;
}

const char* missing_value_note(ColumnType type) {
    switch (type.kind) {
        case ColumnType::Kind::Float:
        case ColumnType::Kind::Array:
            return "NaN";
        case ColumnType::Kind::Int:
            return "0 (use /tasks/status to tell a missing row from a 0)";
        case ColumnType::Kind::String:
            return "empty string";
    }
    return "";
}

std::vector<std::string> link_names(hid_t group) {
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
    };
    hsize_t index = 0;
    H5_CHECK(H5Literate, group, H5_INDEX_NAME, H5_ITER_NATIVE, &index, collect, &names);
    return names;
}

// The column type of a /results dataset, or nullopt when it is not one this mpisweep writes.
std::optional<ColumnType> column_type_of_dataset(hid_t dataset, std::uint64_t n_tasks) {
    h5::Datatype type(H5_CHECK(H5Dget_type, dataset));
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset));
    const int rank = H5_CHECK(H5Sget_simple_extent_ndims, space.get());
    hsize_t dims[2] = {0, 0};
    if (rank == 1 || rank == 2) H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims, nullptr);
    const H5T_class_t type_class = H5_CHECK(H5Tget_class, type.get());
    if (dims[0] != n_tasks) return std::nullopt;
    if (rank == 1 && type_class == H5T_FLOAT) return ColumnType{ColumnType::Kind::Float, 0};
    if (rank == 1 && type_class == H5T_INTEGER) return ColumnType{ColumnType::Kind::Int, 0};
    if (rank == 1 && type_class == H5T_STRING) return ColumnType{ColumnType::Kind::String, 0};
    if (rank == 2 && type_class == H5T_FLOAT && dims[1] > 0)
        return ColumnType{ColumnType::Kind::Array, dims[1]};
    return std::nullopt;
}

}  // namespace

void FileWriter::open(const std::string& path, std::uint64_t n_tasks) {
    n_tasks_ = n_tasks;
    file_ = h5::File(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    results_group_ = h5::Group(H5_CHECK(H5Gopen2, file_.get(), "results", H5P_DEFAULT));
    nodes_dataset_ = h5::Dataset(H5_CHECK(H5Dopen2, file_.get(), "nodes", H5P_DEFAULT));
    tasks_ = open_task_datasets(file_.get());
}

void FileWriter::start_params(const Grid& grid) {
    if (!params_written_at_creation(grid)) params_ = ParamWriter(file_.get(), grid);
}

RowsAtOpen FileWriter::load(Staging& staging, const std::string& path) {
    h5::PropList access = h5::written_dataset_access();
    for (const std::string& name : link_names(results_group_.get())) {
        h5::Dataset dataset(H5_CHECK(H5Dopen2, results_group_.get(), name.c_str(), access.get()));
        const std::optional<ColumnType> type = column_type_of_dataset(dataset.get(), n_tasks_);
        if (!type)
            throw StoreError("cannot resume from '" + path + "': /results/" + name +
                             " is not a column this mpisweep writes ([" + std::to_string(n_tasks_) +
                             "] float64, int64 or string, or [" + std::to_string(n_tasks_) + ", k] float64)");
        staging.add_column(name, *type);
        column_datasets_.push_back(std::move(dataset));
    }
    staging.nodes.load(read_all_strings(nodes_dataset_.get()));

    RowsAtOpen rows;
    std::vector<std::int8_t> statuses;
    std::vector<hsize_t> failed;
    for (hsize_t first = 0; first < n_tasks_; first += kStatusBlockRows) {
        const hsize_t count = std::min<hsize_t>(kStatusBlockRows, n_tasks_ - first);
        statuses.resize(count);
        read_rows(tasks_.status.get(), status_type_.get(), first, count, statuses.data());
        for (hsize_t i = 0; i < count; ++i) {
            if (statuses[i] == static_cast<std::int8_t>(TaskStatus::Failed)) failed.push_back(first + i);
            if (statuses[i] == static_cast<std::int8_t>(TaskStatus::Done)) ++rows.done;
        }
    }
    rows.failed = failed.size();
    if (failed.empty()) return rows;
    // Failures are few: read their attempts with one point selection.
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, tasks_.attempts.get()));
    h5::Dataspace memory_space = h5::select_rows(file_space.get(), failed, 0);
    std::vector<std::int32_t> attempts(failed.size());
    H5_CHECK(H5Dread, tasks_.attempts.get(), H5T_NATIVE_INT32, memory_space.get(), file_space.get(),
             H5P_DEFAULT, attempts.data());
    for (std::size_t i = 0; i < failed.size(); ++i) {
        rows.failed_attempts.emplace(failed[i], attempts[i]);
        rows_with_error_.insert(failed[i]);
    }
    return rows;
}

std::vector<TaskStatus> FileWriter::statuses() const {
    std::vector<TaskStatus> statuses(n_tasks_, TaskStatus::Pending);
    static_assert(sizeof(TaskStatus) == sizeof(std::int8_t));
    for (hsize_t first = 0; first < n_tasks_; first += kStatusBlockRows) {
        const hsize_t count = std::min<hsize_t>(kStatusBlockRows, n_tasks_ - first);
        read_rows(tasks_.status.get(), status_type_.get(), first, count, statuses.data() + first);
    }
    return statuses;
}

bool FileWriter::every_task_done() {
    std::vector<std::int8_t> statuses;
    for (hsize_t first = 0; first < n_tasks_; first += kStatusBlockRows) {
        const hsize_t count = std::min<hsize_t>(kStatusBlockRows, n_tasks_ - first);
        statuses.resize(count);
        read_rows(tasks_.status.get(), status_type_.get(), first, count, statuses.data());
        for (std::int8_t s : statuses)
            if (s != static_cast<std::int8_t>(TaskStatus::Done)) return false;
    }
    return true;
}

// ---- writing -----------------------------------------------------------------------------

void FileWriter::write(Staging& staging) {
    TaskRows& rows = staging.rows;
    if (rows.empty()) return;
    if (!rows.ascending) staging.sort();
    params_.write_through(rows.ids[rows.n - 1] + 1);  // a row in the file has its params
    write_nodes(staging.nodes);
    // One selection serves every /tasks column and every scalar /results column that each
    // record has: they all have N rows.
    h5::Dataspace file_space = whole_rows_space(n_tasks_);
    h5::Dataspace memory_space = h5::select_rows(file_space.get(), rows.ids.data(), rows.n, 0);
    write_task_columns(rows, file_space.get(), memory_space.get());
    write_errors(rows);
    write_results(staging, file_space.get(), memory_space.get());
    staging.clear();
}

void FileWriter::flush() {
    H5_CHECK(H5Fflush, file_.get(), H5F_SCOPE_GLOBAL);
}

void FileWriter::write_nodes(NodeTable& nodes) {
    const std::vector<std::string>& names = nodes.names();
    const std::size_t from = nodes.written();
    if (names.size() == from) return;
    hsize_t new_size[1] = {names.size()};
    H5_CHECK(H5Dset_extent, nodes_dataset_.get(), new_size);
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, nodes_dataset_.get()));
    hsize_t start[1] = {from};
    hsize_t count[1] = {names.size() - from};
    H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, count, nullptr));
    std::vector<const char*> texts;
    for (std::size_t i = from; i < names.size(); ++i) texts.push_back(names[i].c_str());
    H5_CHECK(H5Dwrite, nodes_dataset_.get(), string_type_.get(), memory_space.get(), file_space.get(),
             H5P_DEFAULT, texts.data());
    nodes.mark_written();
}

void FileWriter::write_task_columns(const TaskRows& rows, hid_t file_space, hid_t memory_space) {
    auto write = [&](const h5::Dataset& dataset, hid_t type, const void* data) {
        H5_CHECK(H5Dwrite, dataset.get(), type, memory_space, file_space, H5P_DEFAULT, data);
    };
    write(tasks_.status, status_type_.get(), rows.status.data());
    write(tasks_.attempts, H5T_NATIVE_INT32, rows.attempts.data());  // absolute: see ResultStore::record
    write(tasks_.worker, H5T_NATIVE_INT32, rows.worker.data());
    write(tasks_.device, H5T_NATIVE_INT32, rows.device.data());
    write(tasks_.node, H5T_NATIVE_INT32, rows.node.data());
    write(tasks_.start, H5T_NATIVE_DOUBLE, rows.start.data());
    write(tasks_.wall_s, H5T_NATIVE_DOUBLE, rows.wall_s.data());
    write(tasks_.exit_code, H5T_NATIVE_INT32, rows.exit_code.data());
}

void FileWriter::write_errors(const TaskRows& rows) {
    // Only failures carry a message; a done row is written ("") only to clear an old one.
    if (rows.errors.empty() && rows_with_error_.empty()) return;
    std::vector<hsize_t> ids;
    std::vector<const char*> messages;
    auto failure = rows.errors.begin();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const hsize_t id = rows.ids[i];
        if (failure != rows.errors.end() && failure->first == i) {
            ids.push_back(id);
            messages.push_back(failure->second.c_str());
            ++failure;
        } else if (rows_with_error_.count(id) > 0) {
            ids.push_back(id);
            messages.push_back("");
        }
    }
    if (ids.empty()) return;
    h5::Dataspace file_space = whole_rows_space(n_tasks_);
    h5::Dataspace memory_space = h5::select_rows(file_space.get(), ids, 0);
    H5_CHECK(H5Dwrite, tasks_.error.get(), string_type_.get(), memory_space.get(), file_space.get(),
             H5P_DEFAULT, messages.data());
    for (std::size_t i = 0; i < rows.size(); ++i) {  // only once written: a failed write is retried whole
        if (rows.status[i] == static_cast<std::int8_t>(TaskStatus::Failed))
            rows_with_error_.insert(rows.ids[i]);
        else
            rows_with_error_.erase(rows.ids[i]);
    }
}

h5::Dataset FileWriter::create_column_dataset(const ResultColumn& column) {
    const char* name = column.name.c_str();
    const hid_t group = results_group_.get();
    h5::Dataset dataset;
    switch (column.type.kind) {
        case ColumnType::Kind::Float:
            dataset = h5::create_rows_dataset(group, name, H5T_IEEE_F64LE, n_tasks_, 0, 8, H5T_NATIVE_DOUBLE,
                                              &kNaN);
            break;
        case ColumnType::Kind::Int: {
            const std::int64_t zero = 0;
            dataset =
                h5::create_rows_dataset(group, name, H5T_STD_I64LE, n_tasks_, 0, 8, H5T_NATIVE_INT64, &zero);
            break;
        }
        case ColumnType::Kind::String:
            dataset = h5::create_rows_dataset(group, name, string_type_.get(), n_tasks_, 0, 16,
                                              string_type_.get(), nullptr);
            break;
        case ColumnType::Kind::Array:
            dataset = h5::create_rows_dataset(group, name, H5T_IEEE_F64LE, n_tasks_, column.type.width,
                                              8 * column.type.width, H5T_NATIVE_DOUBLE, &kNaN);
            break;
    }
    h5::write_string_attribute(dataset.get(), "missing", missing_value_note(column.type));
    return dataset;
}

void FileWriter::write_results(Staging& staging, hid_t task_file_space, hid_t task_memory_space) {
    const TaskRows& batch = staging.rows;
    std::vector<hsize_t> rows;
    std::vector<const char*> strings;
    if (column_datasets_.size() < staging.columns.size()) column_datasets_.resize(staging.columns.size());
    for (std::size_t c = 0; c < staging.columns.size(); ++c) {
        const ResultColumn& column = staging.columns[c];
        const StagedValues& s = column.staged;
        if (s.positions.empty()) continue;
        h5::Dataset& dataset = column_datasets_[c];
        if (!dataset) dataset = create_column_dataset(column);
        h5::Dataspace own_file_space, own_memory_space;
        hid_t file_space = task_file_space;
        hid_t memory_space = task_memory_space;
        if (column.type.width > 0 || s.positions.size() != batch.size()) {  // not the /tasks rows
            rows.resize(s.positions.size());
            for (std::size_t e = 0; e < rows.size(); ++e) rows[e] = batch.ids[s.positions[e]];
            own_file_space = h5::Dataspace(H5_CHECK(H5Dget_space, dataset.get()));
            own_memory_space = h5::select_rows(own_file_space.get(), rows, column.type.width);
            file_space = own_file_space.get();
            memory_space = own_memory_space.get();
        }
        hid_t memory_type = H5T_NATIVE_DOUBLE;
        const void* data = s.doubles.data();
        if (column.type.kind == ColumnType::Kind::Int) {
            memory_type = H5T_NATIVE_INT64;
            data = s.ints.data();
        } else if (column.type.kind == ColumnType::Kind::String) {
            strings.clear();
            for (const std::string& text : s.strings) strings.push_back(text.c_str());
            memory_type = string_type_.get();
            data = strings.data();
        }
        H5_CHECK(H5Dwrite, dataset.get(), memory_type, memory_space, file_space, H5P_DEFAULT, data);
    }
}

void FileWriter::write_params_slice() {
    if (params_.done()) return;
    const std::int64_t now = now_ns();
    if (now < next_params_slice_ns_) return;
    const h5::SilenceErrors quiet;
    params_.write_block();
    const std::int64_t after = now_ns();
    next_params_slice_ns_ = after + 9 * (after - now);
}

void FileWriter::close() {
    params_.write_through(n_tasks_);
    // Datasets and groups first: the file closes for real only once nothing in it is open.
    params_ = {};
    column_datasets_.clear();
    tasks_ = {};
    nodes_dataset_.reset();
    results_group_.reset();
    file_.close();
}

}  // namespace mpisweep::store
