#pragma once
// Layout and writing: the open HDF5 file of a ResultStore, and the writes of a flush (one
// H5Dwrite per dataset for everything staged).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mpisweep/grid.hpp"
#include "store/file_layout.hpp"
#include "store/h5_types.hpp"
#include "store/staging.hpp"

namespace mpisweep::store {

/// What a file held when it was opened to resume.
struct RowsAtOpen {
    std::uint64_t done = 0;
    std::uint64_t failed = 0;
    /// Attempts of the failed rows (only those run again, adding to them).
    std::unordered_map<std::uint64_t, std::int32_t> failed_attempts;
};

class FileWriter {
public:
    /// Opens the results file at `path` (complete: made by write_new_file) read-write.
    void open(const std::string& path, std::uint64_t n_tasks);
    /// Starts writing /params rows for `grid` ahead of the rows of /tasks (none to write when
    /// they were all written at creation).
    void start_params(const Grid& grid);
    /// Reads the /results columns into `staging`, the host names of /nodes and the settled
    /// rows. Throws StoreError naming a dataset this mpisweep does not write.
    RowsAtOpen load(Staging& staging, const std::string& path);

    /// Writes every staged row (sorting them first when needed), then clears `staging`. No
    /// H5Fflush: see flush().
    void write(Staging& staging);
    void flush();
    /// Writes one block of /params when the last was long enough ago (about a tenth of the
    /// time); a no-op once every row is written.
    void write_params_slice();
    /// Every row of /tasks/status (Pending where nothing was written).
    std::vector<TaskStatus> statuses() const;
    /// Whether every row of /tasks/status is done.
    bool every_task_done();
    /// Writes the rest of /params and closes everything; the writer is unusable afterwards.
    void close();

    hid_t file() const { return file_.get(); }
    explicit operator bool() const { return static_cast<bool>(file_); }

private:
    void write_nodes(NodeTable& nodes);
    void write_task_columns(const TaskRows& rows, hid_t file_space, hid_t memory_space);
    void write_errors(const TaskRows& rows);
    void write_results(Staging& staging, hid_t task_file_space, hid_t task_memory_space);
    h5::Dataset create_column_dataset(const ResultColumn& column);

    std::uint64_t n_tasks_ = 0;
    // Declared before the datasets: members are destroyed in reverse order, so the datasets
    // close before the file.
    h5::File file_;
    h5::Group results_group_;
    h5::Dataset nodes_dataset_;
    TaskDatasets tasks_;
    std::vector<h5::Dataset> column_datasets_;  // parallel to Staging::columns; empty until written
    h5::Datatype status_type_ = h5::status_enum();
    h5::Datatype string_type_ = h5::vlen_utf8_string();
    // The rows whose /tasks/error holds a message: a done record clears it.
    std::unordered_set<std::uint64_t> rows_with_error_;
    // /params rows not yet written: written before any row of /tasks that needs them, in
    // short slices between flushes, and all at close.
    ParamWriter params_;
    std::int64_t next_params_slice_ns_ = 0;
};

}  // namespace mpisweep::store
