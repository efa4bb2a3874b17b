#pragma once
// Numbers and lists given to command-line options, converted with messages that name the
// option, what it expects and what it got.
#include <string>
#include <vector>

namespace mpisweep::cli {

/// An integer >= `minimum`. Throws UsageError: "--max-attempts: expected an integer >= 1, got 'x'".
int parse_int_option(const std::string& option, const std::string& text, int minimum);

/// A finite number of seconds, > 0 when `positive`, else >= 0.
double parse_seconds_option(const std::string& option, const std::string& text, bool positive);

/// A comma-separated list of integers >= 0 ("0,1,3").
std::vector<int> parse_int_list_option(const std::string& option, const std::string& text);

/// Items of a comma-separated list, trimmed; throws on an empty item.
std::vector<std::string> split_list_option(const std::string& option, const std::string& text);

}  // namespace mpisweep::cli
