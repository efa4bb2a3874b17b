#pragma once
// The results a command leaves: a JSON object (in its result file or on the last line of
// its stdout) turned into result fields.
#include <optional>
#include <string>
#include <string_view>

#include "mpisweep/task.hpp"

namespace mpisweep::detail {

/// Converts one JSON object into result fields: numbers -> double, booleans -> int 0/1,
/// strings, arrays of numbers -> vector<double>, null -> left out. NaN, Infinity and
/// -Infinity (as Python's json writes them) are read as such. Throws std::runtime_error
/// whose text starts with `source` and says what is wrong (line and column, or the field).
TaskResult parse_result_json(std::string_view text, const std::string& source);

/// The file's text, or nullopt when it does not exist. Throws std::runtime_error naming
/// the file on any other error.
std::optional<std::string> read_file_if_exists(const std::string& path);

}  // namespace mpisweep::detail
