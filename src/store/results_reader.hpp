#pragma once
// The one reader of a results file and its journal (docs/hdf5-layout.md), for everything that
// looks at a sweep after the fact or while it runs: `mpisweep status`, `best`, `export`,
// `show` (python/mpisweep/results.py mirrors it). It reads the settled rows only, walking the
// chunks the file stores, so it costs what the sweep settled, not what the grid holds; it
// lays the journal's records that the file may not hold yet over them; and it reads the
// journal alone when the file cannot be read (a sweep killed in the middle of a write).
#include <cstdint>
#include <string>
#include <vector>

#include "mpisweep/grid.hpp"
#include "store/result_store.hpp"
#include "store/results_table.hpp"

namespace mpisweep::store {

/// A results file that cannot be read: missing, not an mpisweep file, of a format this
/// mpisweep cannot read, damaged with no journal to read instead, or beside a damaged
/// journal. what() is one line: what is wrong, and what to do.
class UnreadableResults : public StoreError {
public:
    using StoreError::StoreError;
};

/// A results file as read, with its journal laid over.
struct ResultsSnapshot {
    std::string path;
    int format_version = 0;
    std::string command, created, mpisweep_version, spec;
    std::int64_t mpi_size = 0;
    std::uint64_t n_tasks = 0;
    std::uint64_t journal_id = 0;  ///< 0 for files made before journals
    Grid grid;                     ///< decoded from `spec`: the params of any task, pending too
    std::vector<std::string> nodes;
    SettledTable rows;
    std::uint64_t done = 0, failed = 0;  ///< rows by status; the other tasks are pending

    /// Records of the journal laid over the file's rows (settled since its last write: a
    /// running sweep, or one stopped before it could write them).
    std::size_t journal_records = 0;
    /// The file could not be read (a sweep caught in the middle of a write, or killed there):
    /// everything comes from the journal; `file_problem` says what was wrong with the file.
    bool from_journal_only = false;
    std::string file_problem;

    std::uint64_t pending() const { return n_tasks - done - failed; }
    /// The host name of row `row`, "" when none.
    std::string node_name(std::size_t row) const;
};

/// Reads `path` and its journal `path`.journal. Throws UnreadableResults.
ResultsSnapshot read_results(const std::string& path);

/// The root attribute `name` (a string) of the mpisweep results file at `path`, or "" when
/// the file is missing, not an mpisweep file or has no such attribute.
std::string read_root_attribute(const std::string& path, const char* name);

}  // namespace mpisweep::store
