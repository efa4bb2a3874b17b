#pragma once
// What a command leaves behind: its JSON results (a file or the last line of stdout) and the
// tail of its stderr for the error text of a failed attempt.
#include <cstddef>
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

/// The last line of the file that is not blank (without its newline), looking at most at
/// its last `max_bytes`; "" when there is none. Missing file: "".
std::string last_nonempty_line(const std::string& path, std::size_t max_bytes = 1 << 20);

/// The end of the file: at most `max_bytes` and `max_lines` whole lines, trailing blank
/// lines dropped. Missing or unreadable file: "".
std::string file_tail(const std::string& path, std::size_t max_bytes, std::size_t max_lines);

}  // namespace mpisweep::detail
