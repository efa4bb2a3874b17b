#pragma once
// Layout and writing: the open HDF5 file of a ResultStore, and the writes of a flush (the
// /tasks columns whole chunks at a time through store/chunk_writer.hpp, the other datasets
// one H5Dwrite each for everything staged).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mpisweep/grid.hpp"
#include "schedule/settled_tasks.hpp"
#include "store/chunk_writer.hpp"
#include "store/file_layout.hpp"
#include "store/h5_types.hpp"
#include "store/param_writer.hpp"
#include "store/staging.hpp"

namespace mpisweep::store {

/// What a file held when it was opened to resume.
struct RowsAtOpen {
    std::uint64_t done = 0;
    std::uint64_t failed = 0;
    SettledTasks settled;  ///< every done or failed row
    /// Attempts of the failed rows (only those run again, adding to them).
    std::unordered_map<std::uint64_t, std::int32_t> failed_attempts;
};

class FileWriter {
public:
    /// Opens the results file at `path` (complete: made by write_new_file) read-write.
    void open(const std::string& path, std::uint64_t n_tasks);
    /// Starts writing /params: the chunks of /params that the rows of a flush need are written
    /// with it (computed from `grid`).
    void start_params(const Grid& grid);
    /// Reads the /results columns into `staging`, the host names of /nodes and the settled
    /// rows. Throws StoreError naming a dataset this mpisweep does not write.
    RowsAtOpen load(Staging& staging, const std::string& path);

    /// Writes every staged row (sorting them first when needed), then clears `staging`. No
    /// H5Fflush: see flush(). With `journal_from`, the journal offset from which the staged
    /// rows' records were journaled, the /tasks chunks still filling stay in memory
    /// (ChunkWriter::write_filled): each is written about once, not at every flush.
    void write(Staging& staging, std::optional<std::uint64_t> journal_from = std::nullopt);
    /// Writes the /tasks chunks held in memory.
    void write_held();
    /// The journal offset from which the records of the rows held in memory (not in the file
    /// yet) were journaled; none when the file holds every row written.
    std::optional<std::uint64_t> held_from() const { return held_from_; }
    void flush();
    /// The open file's descriptor (HDF5's sec2 driver's), for fsync(2) and write-out hints;
    /// -1 when the driver has none.
    int descriptor() const;
    /// The settled rows of /tasks/status, read from its stored chunks.
    SettledTasks settled();
    /// Whether every row of /tasks/status is done (reads the stored rows only: when some
    /// chunk was never written, without reading anything).
    bool every_task_done();
    /// Closes everything; the writer is unusable afterwards.
    void close();
    /// fsync(2) of the file at `path` once closed (H5Fclose writes too). Throws StoreError.
    static void sync_closed(const std::string& path);
    /// Throws what a failed fsync of the results file at `path` is: StoreWriteError for a
    /// full or failing disk, else StoreError.
    [[noreturn]] static void fsync_failed(const std::string& path, int error);

    hid_t file() const { return file_.get(); }
    explicit operator bool() const { return static_cast<bool>(file_); }

private:
    // Walks the stored statuses: the settled runs, and the failed rows when `failed` is given.
    SettledTasks walk(std::vector<hsize_t>* failed);
    void write_nodes(NodeTable& nodes);
    // The error messages and results of the staged rows (in id order), segment by segment.
    void write_selections(Staging& staging);
    // Rows [first, last) of the staged rows, ids close together (one HDF5 selection).
    void write_segment(const Staging& staging, std::size_t first, std::size_t last);
    void write_task_columns(const TaskRows& rows, std::optional<std::uint64_t> journal_from);
    void write_errors(const TaskRows& rows, std::size_t first, std::size_t last);
    // Rewrites the dataset of every column that became variable-length.
    void widen_columns(Staging& staging);

    std::uint64_t n_tasks_ = 0;
    // Declared before the datasets: members are destroyed in reverse order, so the datasets
    // close before the file.
    h5::File file_;
    h5::Group results_group_;
    h5::Dataset nodes_dataset_;
    TaskDatasets tasks_;
    // The fixed-size /tasks columns (not error), each through chunk buffers of its own.
    struct TaskChunkWriters {
        ChunkWriter status, attempts, worker, device, node, start, wall_s, exit_code;
        std::array<ChunkWriter*, 8> all() {
            return {&status, &attempts, &worker, &device, &node, &start, &wall_s, &exit_code};
        }
    };
    TaskChunkWriters task_chunks_;
    // The oldest journal offset among the /tasks chunks held in memory (see held_from()).
    std::optional<std::uint64_t> held_from_;
    std::vector<h5::Dataset> column_datasets_;  // parallel to Staging::columns; empty until written
    h5::Datatype status_type_ = h5::status_enum();
    h5::Datatype string_type_ = h5::vlen_utf8_string();
    h5::PropList string_transfer_ = h5::converting_transfer();  // strings, lists, /nodes
    // The rows whose /tasks/error holds a message: a done record clears it.
    std::unordered_set<std::uint64_t> rows_with_error_;
    // /params chunks, written before the first row of /tasks in each.
    ParamWriter params_;
};

}  // namespace mpisweep::store
