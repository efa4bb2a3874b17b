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
/// The version files are written in; 1 (dense /params, fixed-shape results) is still read
/// and resumed (the attribute is then raised to 2).
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestFormatVersion = 1;

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

/// Writes a new results file for `grid` at `path` (truncating it): root attributes, empty
/// /params, /results, /tasks (fill values only) and /nodes. Nothing is allocated for the
/// rows: a ParamWriter and the ResultStore write them as tasks settle.
void write_new_file(const std::string& path, const Grid& grid, const FileIdentity& identity);

/// The root attribute journal_id, or 0 when the file has none (made before journals).
std::uint64_t read_journal_id(hid_t file);
void write_journal_id(hid_t file, std::uint64_t id);

/// The file's format_version. Throws StoreError when it is not an mpisweep file, or one of a
/// version this mpisweep cannot read (the message names the version and what to do).
int check_format(hid_t file, const std::string& path);

/// Throws StoreError unless `file` is an mpisweep file of a version this mpisweep reads,
/// made by `grid` (the message names the axis that differs) with grid.size() tasks. Returns
/// its format_version.
int check_same_sweep(hid_t file, const Grid& grid, const std::string& path);

TaskDatasets open_task_datasets(hid_t file);

/// Current UTC time as ISO 8601, e.g. 2024-05-01T12:34:56Z.
std::string utc_timestamp();

}  // namespace mpisweep::store
