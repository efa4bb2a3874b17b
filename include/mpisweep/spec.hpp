#pragma once
// Parsing grids from text: `name=SPEC` strings (CLI) and JSON documents (--spec FILE).
#include <string>
#include <string_view>
#include <vector>

#include "mpisweep/grid.hpp"

namespace mpisweep {

/// Parses one `name[:type]=SPEC` argument into an axis. The name is letters, digits and '_',
/// not starting with a digit. SPEC is one of:
///   a list            `0.1,0.01`, `a,b,c`, `true,false`
///   `range(start,stop[,step])`   ints, stop exclusive, step may be negative, not 0
///   `linspace(a,b,n)`, `logspace(a,b,n)`  n >= 1 (logspace gives 10^a..10^b)
///   `files(DIR,REGEX)`  every regular file under DIR (recursive) whose path relative to DIR
///                       (with '/') fully matches REGEX (ECMAScript), sorted; values are
///                       paths DIR/relative. REGEX is the rest of the text, commas included.
///
/// Lists: items are split at commas and trimmed. An item in single or double quotes is taken
/// as written (commas and spaces kept, no escapes): `msg='a,b',"c d"` is two strings.
/// Types are inferred per axis: all ints -> int, ints and floats -> float, all true/false ->
/// bool, anything else (or any quoted item) -> str. The number grammar is small on purpose:
/// an int is `[+-]digits` (`007` is 7), a float has a '.' or an exponent (`1e-3`, `.5`,
/// `2.`); `0x10`, `inf`, `nan`, `1_000`, `True` are strings.
///
/// `:type` forces int, float, str or bool, applied to the text as written: str keeps it
/// (`seed:str=007` is "007"), int takes ints and integral floats (`1e3`), float any number,
/// bool true/false/1/0. On a generated axis it converts its values (see Axis::as_type).
///
/// Throws SpecError, one line naming the axis and the text at fault, such as
///   param 'lr': expected a number in linspace(a,b,n), got 'x'
Axis parse_axis(std::string_view text);

/// Builds a grid from `name=SPEC` arguments and zip groups (each "a,b[,c]").
Grid parse_grid(const std::vector<std::string>& params, const std::vector<std::string>& zips);

/// Builds a grid from a JSON document:
///   {"params": {"lr": [0.1, 0.01], "n": "range(1,10,2)", "seed": {"type": "str", "values": [1, 2]}},
///    "zip": [["a", "b"]]}
/// An axis is a JSON array of values, a SPEC string as above, a single number or bool, or an
/// object with "values" or "spec" and an optional "type". JSON strings are strings and JSON
/// numbers are numbers (1.0 is a float), so `lr=0.1,0.01` and "lr": [0.1, 0.01] give the same
/// axis and the same to_json(). A zip group is an array of names or a string "a,b". Axis
/// order is the document's order. Unknown keys and duplicate keys are errors.
/// Also reads the canonical form that Grid::to_json() writes ({"axes": [...], "zip": [...]}).
Grid parse_grid_json(std::string_view json_text);

}  // namespace mpisweep
