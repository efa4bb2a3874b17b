#pragma once
// The fixed part of the results file (docs/hdf5-layout.md): root attributes, /params,
// /tasks, /nodes; written at creation and checked on resume.
#include <cstdint>
#include <string>

#include "mpisweep/grid.hpp"
#include "mpisweep/store.hpp"
#include "store/h5_check.hpp"

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

/// Writes a complete new results file for `grid` at `path` (truncating it): root
/// attributes, /params (all N rows), empty /results, /tasks (fill values only) and /nodes.
void write_new_file(const std::string& path, const Grid& grid, const FileIdentity& identity);

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
