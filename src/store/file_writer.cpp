#include "store/file_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "store/column_type.hpp"
#include "store/result_columns.hpp"
#include "store/row_selection.hpp"
#include "store/status_walk.hpp"

namespace mpisweep::store {

static_assert(std::is_same_v<RowId, hsize_t>);

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
h5::Dataspace whole_rows_space(std::uint64_t rows) {
    hsize_t dims[1] = {rows};
    return h5::Dataspace(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
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

}  // namespace

void FileWriter::open(const std::string& path, std::uint64_t n_tasks) {
    n_tasks_ = n_tasks;
    file_ = h5::File(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDWR, h5::writer_file_access().get()));
    results_group_ = h5::Group(H5_CHECK(H5Gopen2, file_.get(), "results", H5P_DEFAULT));
    nodes_dataset_ = h5::Dataset(H5_CHECK(H5Dopen2, file_.get(), "nodes", H5P_DEFAULT));
    tasks_ = open_task_datasets(file_.get());
    task_chunks_ = TaskChunkWriters{ChunkWriter(tasks_.status.get(), status_type_.get(), n_tasks),
                                    ChunkWriter(tasks_.attempts.get(), H5T_NATIVE_INT32, n_tasks),
                                    ChunkWriter(tasks_.worker.get(), H5T_NATIVE_INT32, n_tasks),
                                    ChunkWriter(tasks_.device.get(), H5T_NATIVE_INT32, n_tasks),
                                    ChunkWriter(tasks_.node.get(), H5T_NATIVE_INT32, n_tasks),
                                    ChunkWriter(tasks_.start.get(), H5T_NATIVE_DOUBLE, n_tasks),
                                    ChunkWriter(tasks_.wall_s.get(), H5T_NATIVE_DOUBLE, n_tasks),
                                    ChunkWriter(tasks_.exit_code.get(), H5T_NATIVE_INT32, n_tasks)};
}

void FileWriter::start_params(const Grid& grid) {
    params_ = ParamWriter(file_.get(), grid);
}

RowsAtOpen FileWriter::load(Staging& staging, const std::string& path) {
    h5::PropList access = h5::written_dataset_access();
    for (const std::string& name : link_names(results_group_.get())) {
        h5::Dataset dataset(H5_CHECK(H5Dopen2, results_group_.get(), name.c_str(), access.get()));
        const std::optional<ColumnType> type = result_column_type(dataset.get(), n_tasks_);
        if (!type)
            throw StoreError("cannot resume from '" + path + "': /results/" + name +
                             " is not a column this mpisweep writes ([" + std::to_string(n_tasks_) +
                             "] float64, int64, string, bool or variable-length float64, or [" +
                             std::to_string(n_tasks_) + ", k] float64)");
        staging.add_column(name, *type);
        column_datasets_.push_back(std::move(dataset));
    }
    staging.nodes.load(read_all_strings(nodes_dataset_.get()));

    RowsAtOpen rows;
    std::vector<hsize_t> failed;
    rows.settled = walk(&failed);
    rows.done = rows.settled.done();
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

SettledTasks FileWriter::settled() {
    write_held();
    return walk(nullptr);
}

SettledTasks FileWriter::walk(std::vector<hsize_t>* failed) {
    SettledTasks runs;
    walk_statuses(tasks_.status.get(),
                  [&](std::uint64_t first, const std::int8_t* status, std::size_t count) {
                      for (std::size_t i = 0; i < count; ++i) {
                          if (status[i] == static_cast<std::int8_t>(TaskStatus::Pending)) continue;
                          const auto settled = static_cast<TaskStatus>(status[i]);
                          runs.add(first + i, 1, settled);
                          if (failed && settled == TaskStatus::Failed) failed->push_back(first + i);
                      }
                  });
    return runs;
}

bool FileWriter::every_task_done() {
    write_held();
    bool all_done = true;
    const std::uint64_t stored =
        walk_statuses(tasks_.status.get(), [&](std::uint64_t, const std::int8_t* status, std::size_t count) {
            for (std::size_t i = 0; i < count && all_done; ++i)
                all_done = status[i] == static_cast<std::int8_t>(TaskStatus::Done);
        });
    return all_done && stored == n_tasks_;
}

// ---- writing -----------------------------------------------------------------------------

// Ids further apart than this start a new segment of a flush, written with H5Dwrites of its
// own: HDF5 1.10 maps a selection of several hyperslabs onto chunks by visiting every chunk
// of its bounding box, so one selection over ids 10^14 apart would visit ~10^9 chunks.
constexpr RowId kSegmentGap = RowId{8} * 65536;

// A segment of long runs (several workers' batches of consecutive ids, interleaved) ends
// before it needs more hyperslabs than h5::select_rows unites: past that it would select
// every row as a point (docs/hdf5-layout.md, "Write path": points cost more from runs of
// 16 ids up).
namespace {
constexpr std::size_t kLongRun = 16;
bool long_runs_full(std::size_t runs, std::size_t rows) {
    return runs >= h5::kMaxHyperslabRuns && rows >= runs * kLongRun;
}
}  // namespace

void FileWriter::write(Staging& staging, std::optional<std::uint64_t> journal_from) {
    TaskRows& rows = staging.rows;
    if (rows.empty()) return;
    // The /tasks columns take rows in any order (a later record of an id wins); messages and
    // results are written by row selections, which want the rows in id order.
    const bool by_selection =
        !rows.errors.empty() || !rows_with_error_.empty() || staging.has_staged_results();
    if (by_selection && !rows.ascending) staging.sort();
    params_.write_chunks_of(rows.ids.data(), rows.n);  // a row in the file has its params
    write_nodes(staging.nodes);
    write_task_columns(rows, journal_from);
    if (by_selection) write_selections(staging);
    staging.clear();
}

void FileWriter::write_selections(Staging& staging) {
    const TaskRows& rows = staging.rows;
    widen_columns(staging);
    std::size_t first = 0;
    std::size_t runs = 1;  // of consecutive ids in the segment so far
    for (std::size_t i = 1; i <= rows.n; ++i) {
        if (i < rows.n) {
            const RowId gap = rows.ids[i] - rows.ids[i - 1];
            if (gap == 1) continue;
            if (gap <= kSegmentGap && !long_runs_full(runs, i - first)) {
                ++runs;
                continue;
            }
        }
        write_segment(staging, first, i);
        first = i;
        runs = 1;
    }
    for (std::size_t i = 0; i < rows.n; ++i) {  // once written: a failed write is retried whole
        if (rows.status[i] == static_cast<std::int8_t>(TaskStatus::Failed))
            rows_with_error_.insert(rows.ids[i]);
        else
            rows_with_error_.erase(rows.ids[i]);
    }
}

void FileWriter::write_segment(const Staging& staging, std::size_t first, std::size_t last) {
    const TaskRows& rows = staging.rows;
    write_errors(rows, first, last);
    // One selection serves every scalar /results column that each record of the segment
    // has: they all have N rows.
    h5::Dataspace file_space;
    h5::Dataspace memory_space;
    if (column_datasets_.size() < staging.columns.size()) column_datasets_.resize(staging.columns.size());
    for (std::size_t c = 0; c < staging.columns.size(); ++c) {
        const ResultColumn& column = staging.columns[c];
        const std::vector<std::uint32_t>& positions = column.staged.positions;
        const auto lo = static_cast<std::size_t>(
            std::lower_bound(positions.begin(), positions.end(), static_cast<std::uint32_t>(first)) -
            positions.begin());
        const auto hi = static_cast<std::size_t>(
            std::lower_bound(positions.begin(), positions.end(), static_cast<std::uint32_t>(last)) -
            positions.begin());
        if (lo == hi) continue;
        h5::Dataset& dataset = column_datasets_[c];
        if (!dataset) dataset = create_result_dataset(results_group_.get(), column, n_tasks_);
        const bool same_rows = column.type.kind != ColumnType::Kind::Array && hi - lo == last - first;
        if (same_rows && !file_space) {
            file_space = whole_rows_space(n_tasks_);
            memory_space = h5::select_rows(file_space.get(), rows.ids.data() + first, last - first, 0);
        }
        write_result_entries(dataset.get(), column, lo, hi, rows.ids.data(),
                             same_rows ? file_space.get() : H5I_INVALID_HID,
                             same_rows ? memory_space.get() : H5I_INVALID_HID, string_transfer_.get());
    }
}

void FileWriter::widen_columns(Staging& staging) {
    for (std::size_t c = 0; c < staging.columns.size(); ++c) {
        ResultColumn& column = staging.columns[c];
        if (!column.widened) continue;
        if (c < column_datasets_.size() && column_datasets_[c])
            column_datasets_[c] =
                rewrite_as_list(results_group_.get(), column.name, std::move(column_datasets_[c]), n_tasks_);
        column.widened = false;
    }
}

void FileWriter::flush() {
    H5_CHECK(H5Fflush, file_.get(), H5F_SCOPE_GLOBAL);
}

void FileWriter::fsync_failed(const std::string& path, int error) {
    // EIO, ENOSPC (a write-back that found no space): the disk's fault, a stop, not a bug.
    if (auto failure = storage_failure("the results file", path, error)) throw *failure;
    throw StoreError("results file '" + path + "': cannot fsync: " + std::strerror(error));
}

int FileWriter::descriptor() const {
    void* handle = nullptr;  // the sec2 driver's: a pointer to its descriptor
    H5_CHECK(H5Fget_vfd_handle, file_.get(), H5P_DEFAULT, &handle);
    return handle != nullptr ? *static_cast<int*>(handle) : -1;
}

void FileWriter::sync_closed(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fsync_failed(path, errno);
    const int result = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (result != 0) fsync_failed(path, error);
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
             string_transfer_.get(), texts.data());
    nodes.mark_written();
}

void FileWriter::write_task_columns(const TaskRows& rows, std::optional<std::uint64_t> journal_from) {
    const RowId* ids = rows.ids.data();
    task_chunks_.status.put(ids, rows.status.data(), rows.n);
    task_chunks_.attempts.put(ids, rows.attempts.data(), rows.n);  // absolute: see ResultStore::record
    task_chunks_.worker.put(ids, rows.worker.data(), rows.n);
    task_chunks_.device.put(ids, rows.device.data(), rows.n);
    task_chunks_.node.put(ids, rows.node.data(), rows.n);
    task_chunks_.start.put(ids, rows.start.data(), rows.n);
    task_chunks_.wall_s.put(ids, rows.wall_s.data(), rows.n);
    task_chunks_.exit_code.put(ids, rows.exit_code.data(), rows.n);
    if (!journal_from) {
        write_held();
        return;
    }
    held_from_.reset();
    for (ChunkWriter* column : task_chunks_.all()) {
        column->write_filled(*journal_from);
        if (const std::optional<std::uint64_t> held = column->oldest_held();
            held && (!held_from_ || *held < *held_from_))
            held_from_ = held;
    }
}

void FileWriter::write_held() {
    for (ChunkWriter* column : task_chunks_.all()) column->write();
    held_from_.reset();
}

void FileWriter::write_errors(const TaskRows& rows, std::size_t first, std::size_t last) {
    // Only failures carry a message; a done row is written ("") only to clear an old one.
    if (rows.errors.empty() && rows_with_error_.empty()) return;
    std::vector<hsize_t> ids;
    std::vector<const char*> messages;
    auto failure =
        std::lower_bound(rows.errors.begin(), rows.errors.end(), first,
                         [](const auto& error, std::size_t position) { return error.first < position; });
    for (std::size_t i = first; i < last; ++i) {
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
             string_transfer_.get(), messages.data());
}

void FileWriter::close() {
    // Datasets and groups first: the file closes for real only once nothing in it is open.
    params_ = {};
    column_datasets_.clear();
    task_chunks_ = {};
    tasks_ = {};
    nodes_dataset_.reset();
    results_group_.reset();
    file_.close();
}

}  // namespace mpisweep::store
