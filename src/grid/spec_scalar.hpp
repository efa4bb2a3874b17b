#pragma once
// The scalar grammar of grid specs: which text is an int, a float or a bool, and how values
// convert between the four types. Kept small on purpose (documented in spec.hpp): decimal
// ints, decimal floats with a '.' or an exponent, true/false; anything else (0x10, inf,
// 1_000) is a string.
#include <cstdint>
#include <optional>
#include <string_view>

#include "mpisweep/value.hpp"

namespace mpisweep::detail {

enum class ParseStatus : std::uint8_t { Ok, NotANumber, OutOfRange };

struct IntParse {
    ParseStatus status = ParseStatus::NotANumber;
    std::int64_t value = 0;
};
struct FloatParse {
    ParseStatus status = ParseStatus::NotANumber;
    double value = 0;
};

std::string_view trim(std::string_view text);

/// `[+-]?[0-9]+`
bool is_int_syntax(std::string_view text);
/// `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?` with a '.' or an exponent.
bool is_float_syntax(std::string_view text);

/// An int (int syntax only); OutOfRange when it does not fit in 64 bits.
IntParse parse_int(std::string_view text);
/// A finite double from int or float syntax; OutOfRange when it overflows or underflows.
FloatParse parse_number(std::string_view text);
/// "true" or "false".
std::optional<bool> parse_bool(std::string_view text);

/// Reads text as `type` (the `name:type=` form): int from an int, or from a float that is
/// integral; float from any number; bool from true/false/1/0; str as it is. nullopt when
/// the text does not convert.
std::optional<Value> convert_text(std::string_view text, ValueType type);
/// Converts a value to `type` without losing information (see Axis::as_type); nullopt when
/// that is not possible.
std::optional<Value> convert_value(const Value& value, ValueType type);

}  // namespace mpisweep::detail
