#pragma once
// The post-hoc commands' view of a results file: store::read_results (the one reader, with
// the journal laid over) with its errors as usage errors, and values as text.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/results_reader.hpp"

namespace mpisweep::cli {

/// store::read_results; a file that cannot be read is a UsageError (exit code 2) whose one
/// line says what is wrong and what to do.
store::ResultsSnapshot read_results_file(const std::string& path);

/// The root attribute "command" (or "spec") of an mpisweep file, or "" when the file does not
/// exist, is not an mpisweep file or has no such attribute (resume reports those cases itself).
std::string read_command_attribute(const std::string& path);
std::string read_spec_attribute(const std::string& path);

/// Shortest text that reads back to the same double; "nan", "inf", "-inf".
std::string number_text(double d);

/// Row `row` of a column as text: shortest round-trip form for numbers, "nan" for NaN,
/// true/false for bools, "[a, b]" for arrays. `digits` > 0 rounds floats to that many
/// significant digits (tables).
std::string value_text(const store::ValueColumn& column, std::size_t row, int digits = 0);

/// "pending", "done", "failed".
const char* status_name(TaskStatus status);

/// "lr=0.1, seed=2" for row `row` of the table.
std::string params_text(const store::SettledTable& rows, std::size_t row);

/// (axis, value as text) of any task of the grid (a pending one has no row).
std::vector<std::pair<std::string, std::string>> point_texts(const Grid& grid, std::uint64_t id);

}  // namespace mpisweep::cli
