#pragma once
// Text output of the post-hoc commands: aligned tables and CSV cells.
#include <string>
#include <string_view>
#include <vector>

namespace mpisweep::cli {

/// Columns padded to their widest cell, separated by two spaces, a dashed rule under the
/// header; cells that look like numbers are right-aligned.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// A CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or starts or ends
/// with a space; quotes doubled.
std::string csv_field(std::string_view text);

/// A text of several lines on one: its first line and, when there are more, its last one
/// ("exit code 3; stderr ends with: ... ValueError: lr must be positive").
std::string one_line(std::string_view text);

/// "1h02m", "3m07s", "4.2s": durations for people.
std::string human_duration(double seconds);

/// "2026-12-01 05:01:02 UTC"
std::string utc_time(double unix_seconds);

}  // namespace mpisweep::cli
