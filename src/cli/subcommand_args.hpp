#pragma once
// Parsing the arguments of a post-hoc subcommand with CLI11, errors as UsageError.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace mpisweep::cli {

/// Parses `args` into `app`. Returns false after printing help (--help). Throws UsageError
/// naming the subcommand and what is wrong (unknown option, missing value, missing FILE).
bool parse_subcommand(CLI::App& app, const std::string& name, const std::vector<std::string>& args);

}  // namespace mpisweep::cli
