#include "grid/spec_scalar.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

namespace mpisweep::detail {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::size_t skip_sign(std::string_view s, std::size_t i) {
    return i < s.size() && (s[i] == '+' || s[i] == '-') ? i + 1 : i;
}

std::size_t skip_digits(std::string_view s, std::size_t i) {
    while (i < s.size() && is_digit(s[i])) ++i;
    return i;
}

// from_chars takes no leading '+'.
std::string_view without_plus(std::string_view s) {
    return !s.empty() && s[0] == '+' ? s.substr(1) : s;
}

// -2^63 <= d < 2^63 and integral.
std::optional<std::int64_t> exact_int(double d) {
    constexpr double two_63 = 9223372036854775808.0;
    if (!std::isfinite(d) || d != std::trunc(d) || d < -two_63 || d >= two_63) return std::nullopt;
    return static_cast<std::int64_t>(d);
}

std::optional<bool> zero_or_one(double d) {
    if (d == 0) return false;
    if (d == 1) return true;
    return std::nullopt;
}

}  // namespace

std::string_view trim(std::string_view text) {
    const char* space = " \t\n\r\f\v";
    auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    auto last = text.find_last_not_of(space);
    return text.substr(first, last - first + 1);
}

bool is_int_syntax(std::string_view s) {
    auto start = skip_sign(s, 0);
    auto end = skip_digits(s, start);
    return end > start && end == s.size();
}

bool is_float_syntax(std::string_view s) {
    auto i = skip_sign(s, 0);
    auto int_end = skip_digits(s, i);
    bool has_digits = int_end > i;
    i = int_end;
    bool has_point = false;
    if (i < s.size() && s[i] == '.') {
        has_point = true;
        auto frac_end = skip_digits(s, i + 1);
        has_digits = has_digits || frac_end > i + 1;
        i = frac_end;
    }
    if (!has_digits) return false;
    bool has_exponent = false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        auto digits = skip_sign(s, i + 1);
        auto exp_end = skip_digits(s, digits);
        if (exp_end == digits) return false;
        has_exponent = true;
        i = exp_end;
    }
    return i == s.size() && (has_point || has_exponent);
}

IntParse parse_int(std::string_view text) {
    if (!is_int_syntax(text)) return {};
    auto digits = without_plus(text);
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range) return {ParseStatus::OutOfRange, 0};
    if (ec != std::errc{} || end != digits.data() + digits.size()) return {};
    return {ParseStatus::Ok, value};
}

FloatParse parse_number(std::string_view text) {
    if (!is_int_syntax(text) && !is_float_syntax(text)) return {};
    auto digits = without_plus(text);
    double value = 0;
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, std::chars_format::general);
    if (ec == std::errc::result_out_of_range) return {ParseStatus::OutOfRange, 0};
    if (ec != std::errc{} || end != digits.data() + digits.size()) return {};
    if (!std::isfinite(value)) return {ParseStatus::OutOfRange, 0};
    return {ParseStatus::Ok, value};
}

std::optional<bool> parse_bool(std::string_view text) {
    if (text == "true") return true;
    if (text == "false") return false;
    return std::nullopt;
}

std::optional<Value> convert_text(std::string_view text, ValueType type) {
    switch (type) {
        case ValueType::String:
            return Value(std::string(text));
        case ValueType::Int: {
            auto i = parse_int(text);
            if (i.status == ParseStatus::Ok) return Value(i.value);
            if (!is_float_syntax(text)) return std::nullopt;
            auto f = parse_number(text);
            if (f.status != ParseStatus::Ok) return std::nullopt;
            if (auto exact = exact_int(f.value)) return Value(*exact);
            return std::nullopt;
        }
        case ValueType::Float: {
            auto f = parse_number(text);
            if (f.status == ParseStatus::Ok) return Value(f.value);
            return std::nullopt;
        }
        case ValueType::Bool: {
            if (auto b = parse_bool(text)) return Value(*b);
            if (text == "1") return Value(true);
            if (text == "0") return Value(false);
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<Value> convert_value(const Value& value, ValueType type) {
    if (type_of(value) == type) return value;
    if (type == ValueType::String) return Value(to_string(value));
    if (auto text = std::get_if<std::string>(&value)) return convert_text(*text, type);
    if (auto b = std::get_if<bool>(&value)) {
        if (type == ValueType::Int) return Value(std::int64_t{*b ? 1 : 0});
        return Value(*b ? 1.0 : 0.0);
    }
    if (auto i = std::get_if<std::int64_t>(&value)) {
        if (type == ValueType::Bool) {
            if (*i == 0 || *i == 1) return Value(*i == 1);
            return std::nullopt;
        }
        auto d = static_cast<double>(*i);
        if (exact_int(d) == *i) return Value(d);  // ints beyond 2^53 may not be exact
        return std::nullopt;
    }
    double d = std::get<double>(value);
    if (type == ValueType::Bool) {
        if (auto b = zero_or_one(d)) return Value(*b);
        return std::nullopt;
    }
    if (auto exact = exact_int(d)) return Value(*exact);
    return std::nullopt;
}

}  // namespace mpisweep::detail
