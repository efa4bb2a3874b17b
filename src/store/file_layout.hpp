#pragma once
// The fixed part of the results file (docs/hdf5-layout.md): root attributes, /params,
// /tasks, /nodes; written at creation and checked on resume.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mpisweep/grid.hpp"
#include "store/h5_check.hpp"
#include "store/result_store.hpp"

namespace mpisweep::store {

inline constexpr const char* kFormatName = "mpisweep";
inline constexpr int kFormatVersion = 1;

/// Handles of the /tasks datasets, opened with a chunk cache fit for batched writes.
struct TaskDatasets {
    h5::Dataset status, attempts, worker, device, node, start, wall_s, exit_code, error;
};

/// What a rebuilt file must keep of the file it replaces (from the journal's header).
struct FileIdentity {
    std::uint64_t journal_id = 0;  ///< root attribute journal_id
    std::string created;           ///< root attribute created (ISO 8601)
    std::int32_t mpi_size = 1;
    std::string command;
};

/// Writes a new results file for `grid` at `path` (truncating it): root attributes,
/// /params (all N rows when an axis is a string; otherwise allocated, and written by a
/// ParamWriter), empty /results, /tasks (fill values only) and /nodes.
void write_new_file(const std::string& path, const Grid& grid, const FileIdentity& identity);

/// True when write_new_file writes every /params row (a string axis); otherwise the
/// ResultStore writes them with a ParamWriter before the rows they belong to and at close.
bool params_written_at_creation(const Grid& grid);

/// Writes /params rows in ascending blocks of 64k rows. Rewriting rows is harmless (the
/// values come from the grid), so a writer on a resumed file starts again at row 0.
class ParamWriter {
public:
    ParamWriter();
    ParamWriter(hid_t file, const Grid& grid);
    ~ParamWriter();
    ParamWriter(ParamWriter&&) noexcept;
    ParamWriter& operator=(ParamWriter&&) noexcept;

    /// Writes the next block; nothing once every row is written.
    void write_block();
    /// Writes blocks until rows [0, end) are written.
    void write_through(std::uint64_t end);
    bool done() const { return written_ >= n_; }

private:
    struct Column;
    Grid grid_;
    std::uint64_t n_ = 0;
    std::uint64_t written_ = 0;
    std::vector<std::unique_ptr<Column>> columns_;
};

/// The root attribute journal_id, or 0 when the file has none (made before journals).
std::uint64_t read_journal_id(hid_t file);
void write_journal_id(hid_t file, std::uint64_t id);

/// Throws StoreError unless `file` is an mpisweep file of this format version, made by
/// `grid` (the message names the axis that differs) with grid.size() tasks.
void check_same_sweep(hid_t file, const Grid& grid, const std::string& path);

TaskDatasets open_task_datasets(hid_t file);

/// Current UTC time as ISO 8601, e.g. 2024-05-01T12:34:56Z.
std::string utc_timestamp();

}  // namespace mpisweep::store
