#include "platform/byte_size.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace mpisweep {
namespace {

std::optional<int> unit_power(std::string_view unit) {
    if (unit.empty() || unit == "B") return 0;
    const char first = static_cast<char>(std::toupper(static_cast<unsigned char>(unit.front())));
    const std::string_view rest = unit.substr(1);
    if (!(rest.empty() || rest == "B" || rest == "iB" || rest == "b")) return std::nullopt;
    switch (first) {
        case 'K':
            return 1;
        case 'M':
            return 2;
        case 'G':
            return 3;
        case 'T':
            return 4;
        default:
            return std::nullopt;
    }
}

}  // namespace

std::optional<Bytes> parse_byte_size(std::string_view text) {
    std::size_t end = 0;
    while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
        ++end;
    if (end == 0) return std::nullopt;
    const std::string number(text.substr(0, end));
    if (number.find('.') != number.rfind('.') || number == ".") return std::nullopt;
    const std::optional<int> power = unit_power(text.substr(end));
    if (!power) return std::nullopt;
    const double value = std::strtod(number.c_str(), nullptr) * std::pow(1024.0, *power);
    if (!(value < 9.0e18)) return std::nullopt;  // beyond what llround returns
    return static_cast<Bytes>(std::llround(value));
}

std::string format_bytes(Bytes bytes) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    if (unit == 0 || value == std::floor(value)) {
        std::snprintf(text, sizeof text, "%.0f %s", value, kUnits[unit]);
    } else {
        std::snprintf(text, sizeof text, "%.3g %s", value, kUnits[unit]);
    }
    return text;
}

}  // namespace mpisweep
