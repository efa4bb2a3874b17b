#pragma once
// Reading a results file for the post-hoc commands (status, best, export, show): every
// column of /params, /results and /tasks in memory, typed. No MPI; works on the file of a
// sweep that was killed, and on one still being written (file locking is turned off for
// this read-only access).
#include <cstdint>
#include <string>
#include <vector>

namespace mpisweep::cli {

/// One [N] or [N, width] dataset, in the C++ type it reads best as.
struct Column {
    enum class Kind { Int, Float, String, Bool, FloatArray };
    std::string name;
    Kind kind = Kind::Float;
    std::size_t width = 0;             ///< FloatArray: doubles per row
    std::vector<std::int64_t> ints;    ///< Int, Bool (0/1)
    std::vector<double> floats;        ///< Float; FloatArray row-major
    std::vector<std::string> strings;  ///< String

    /// The value of row `row` as text: shortest round-trip form for numbers, "nan" for NaN,
    /// true/false for bools, "[a, b]" for arrays. `digits` > 0 rounds floats to that many
    /// significant digits (tables).
    std::string text(std::size_t row, int digits = 0) const;
    bool is_numeric() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
    /// The row as a double (numeric kinds only).
    double number(std::size_t row) const;
};

enum class RowStatus : std::int8_t { Pending = 0, Done = 1, Failed = 2 };

struct ResultsFile {
    std::string path;
    // Root attributes.
    std::string command, created, mpisweep_version, spec;
    std::int64_t mpi_size = 0;
    std::uint64_t n_tasks = 0;
    std::uint64_t journal_id = 0;  ///< 0 for files made before journals

    /// Tasks settled in the journal beside the file but not yet written to it (a running or
    /// killed sweep), laid over the file's rows.
    std::size_t journal_records = 0;
    /// The file could not be read (caught in the middle of a write): everything comes from
    /// the journal.
    bool from_journal_only = false;

    std::vector<Column> params;   ///< in grid order
    std::vector<Column> results;  ///< in creation order
    std::vector<RowStatus> status;
    std::vector<std::int32_t> attempts, worker, device, node, exit_code;
    std::vector<double> start, wall_s;
    std::vector<std::string> error;
    std::vector<std::string> nodes;

    /// Host name of row `row`, "" when none.
    std::string node_name(std::size_t row) const;
    /// "lr=0.1, seed=2".
    std::string params_text(std::size_t row) const;
    const Column* result(const std::string& name) const;
};

/// Reads the whole file, with the tasks its journal (<path>.journal) settled since the file's
/// last write laid over it, so a running sweep shows as it is. Throws UsageError naming the
/// path when it is missing, not HDF5, or not an mpisweep results file; other read failures
/// as H5Error (unless the journal can stand in for the file).
ResultsFile read_results_file(const std::string& path);

/// The root attribute "command" of an mpisweep file, or "" when the file does not exist, is
/// not an mpisweep file or has no such attribute (resume reports those cases itself).
std::string read_command_attribute(const std::string& path);

/// The root attribute "spec" (the grid's canonical JSON) likewise, for `run --dry-run`.
std::string read_spec_attribute(const std::string& path);

/// Shortest text that reads back to the same double; "nan", "inf", "-inf".
std::string number_text(double d);

/// "pending", "done", "failed".
const char* status_name(RowStatus status);

}  // namespace mpisweep::cli
