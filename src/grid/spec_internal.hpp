#pragma once
// Pieces shared by the text (spec.cpp) and JSON (spec_json.cpp) parsers.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mpisweep/grid.hpp"

namespace mpisweep::detail {

/// One list value as written: its text and whether it was quoted (quoted items and JSON
/// strings are strings unless a type is forced).
struct ListItem {
    std::string text;
    bool quoted = false;
};

/// Builds a list axis, inferring the type (all ints -> int, any float -> float, all
/// true/false -> bool, else str) unless `forced`.
Axis axis_from_items(const std::string& name, const std::vector<ListItem>& items,
                     std::optional<ValueType> forced);

/// Parses the part after '=' for the axis `name`.
Axis parse_axis_spec(const std::string& name, std::string_view spec, std::optional<ValueType> forced);

/// "int", "float", "str" or "bool"; throws SpecError naming the axis otherwise.
ValueType parse_type_name(const std::string& name, std::string_view type);

/// The values of files(DIR,REGEX): DIR/relative for every regular file under DIR whose
/// path relative to DIR (with '/') fully matches `regex`, sorted. `call` is the text
/// written, for error messages.
std::vector<std::string> matching_files(const std::string& name, const std::string& dir,
                                        const std::string& regex, std::string_view call);

}  // namespace mpisweep::detail
