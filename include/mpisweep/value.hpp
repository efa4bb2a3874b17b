#pragma once
// Parameter values: the four types a grid axis can hold.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace mpisweep {

/// Order matches the variant's alternatives, so `ValueType(v.index())` is the type of `v`.
enum class ValueType : std::uint8_t { Int = 0, Float = 1, String = 2, Bool = 3 };

using Value = std::variant<std::int64_t, double, std::string, bool>;

inline ValueType type_of(const Value& v) {
    return static_cast<ValueType>(v.index());
}

/// "int", "float", "str", "bool": the names used in specs (`seed:str=...`) and errors.
std::string_view type_name(ValueType t);

/// Text form used for templating and tables: ints as digits, doubles in the shortest
/// form that reads back to the same double, bools as true/false, strings as they are.
std::string to_string(const Value& v);

}  // namespace mpisweep
