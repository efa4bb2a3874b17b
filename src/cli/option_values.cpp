#include "cli/option_values.hpp"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "cli/usage_error.hpp"

namespace mpisweep::cli {
namespace {

std::string trimmed(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t");
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

bool to_long(const std::string& text, long& value) {
    const std::string t = trimmed(text);
    if (t.empty()) return false;
    char* end = nullptr;
    errno = 0;
    value = std::strtol(t.c_str(), &end, 10);
    return errno == 0 && end == t.c_str() + t.size();
}

}  // namespace

int parse_int_option(const std::string& option, const std::string& text, int minimum) {
    long value = 0;
    if (!to_long(text, value) || value < minimum || value > INT_MAX) {
        throw UsageError(option + ": expected an integer >= " + std::to_string(minimum) + ", got '" + text +
                         "'");
    }
    return static_cast<int>(value);
}

double parse_seconds_option(const std::string& option, const std::string& text, bool positive) {
    const std::string t = trimmed(text);
    char* end = nullptr;
    errno = 0;
    const double value = t.empty() ? NAN : std::strtod(t.c_str(), &end);
    const bool ok = !t.empty() && errno == 0 && end == t.c_str() + t.size() && std::isfinite(value) &&
                    (positive ? value > 0 : value >= 0);
    if (!ok) {
        throw UsageError(option + ": expected a number of seconds " + (positive ? "> 0" : ">= 0") +
                         ", got '" + text + "'");
    }
    return value;
}

std::vector<std::string> split_list_option(const std::string& option, const std::string& text) {
    std::vector<std::string> items;
    std::size_t begin = 0;
    while (true) {
        const std::size_t comma = text.find(',', begin);
        std::string item =
            trimmed(text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
        if (item.empty()) {
            throw UsageError(option + ": empty item in '" + text +
                             "'; expected a comma-separated list such as a,b");
        }
        items.push_back(std::move(item));
        if (comma == std::string::npos) return items;
        begin = comma + 1;
    }
}

std::vector<int> parse_int_list_option(const std::string& option, const std::string& text) {
    std::vector<int> out;
    for (const std::string& item : split_list_option(option, text)) {
        long value = 0;
        if (!to_long(item, value) || value < 0 || value > INT_MAX) {
            throw UsageError(option +
                             ": expected a comma-separated list of device numbers such as 0,1, got '" + item +
                             "' in '" + text + "'");
        }
        out.push_back(static_cast<int>(value));
    }
    return out;
}

}  // namespace mpisweep::cli
