#pragma once
// Parsing grids from text: `name=SPEC` strings (CLI) and JSON documents (--spec FILE).
#include <string>
#include <string_view>
#include <vector>

#include "mpisweep/grid.hpp"

namespace mpisweep {

/// Parses one `name[:type]=SPEC` argument into an axis. SPEC is one of:
///   a list            `0.1,0.01`, `a,b,c`, `true,false`   (types inferred: all ints -> int,
///                      any float -> float, all true/false -> bool, else str)
///   `range(start,stop[,step])`   ints, stop exclusive
///   `linspace(a,b,n)`, `logspace(a,b,n)`  (logspace gives 10^a..10^b)
///   `files(DIR,REGEX)`  every regular file under DIR (recursive) whose path relative to DIR
///                       fully matches REGEX (ECMAScript), sorted; values are paths
///                       DIR/relative
/// `:type` forces int, float, str or bool. Throws SpecError such as
///   param 'lr': expected a number in linspace(a,b,n), got 'x'
Axis parse_axis(std::string_view text);

/// Builds a grid from `name=SPEC` arguments and zip groups (each "a,b[,c]").
Grid parse_grid(const std::vector<std::string>& params, const std::vector<std::string>& zips);

/// Builds a grid from a JSON document:
///   {"params": {"lr": [0.1, 0.01], "n": "range(1,10,2)", "seed": {"type": "str", "values": [1, 2]}},
///    "zip": [["a", "b"]]}
/// An axis is a JSON array of values, a SPEC string as above, or an object with "values" or
/// "spec" and an optional "type". Axis order is the document's order.
Grid parse_grid_json(std::string_view json_text);

}  // namespace mpisweep
