#include "exec/command_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mpisweep::detail {
namespace {

using nlohmann::json;

// Python's json.dump writes NaN and Infinity, which JSON does not have. They are swapped for
// strings holding a NUL marker (which no real result string starts with), then read back.
constexpr std::string_view kNonFiniteMarker("\0", 1);

bool starts_with(std::string_view text, std::size_t at, std::string_view word) {
    return text.compare(at, word.size(), word) == 0;
}

// Replaces bare NaN, Infinity and -Infinity outside strings. Returns false if there is none.
bool substitute_non_finite(std::string_view text, std::string& out) {
    bool replaced = false;
    bool in_string = false;
    out.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') in_string = true;
        for (std::string_view word : {"NaN", "Infinity", "-Infinity"}) {
            if (starts_with(text, i, word)) {
                out += "\"\\u0000" + std::string(word) + "\"";
                i += word.size() - 1;
                replaced = true;
                goto next;
            }
        }
        out += c;
    next:;
    }
    return replaced;
}

std::optional<double> non_finite_value(const std::string& s) {
    if (s.size() < 2 || s.compare(0, 1, kNonFiniteMarker) != 0) return std::nullopt;
    const std::string word = s.substr(1);
    if (word == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (word == "Infinity") return std::numeric_limits<double>::infinity();
    if (word == "-Infinity") return -std::numeric_limits<double>::infinity();
    return std::nullopt;
}

// The library's message without its "[json.exception.parse_error.101] " prefix.
std::string parse_error_text(std::string_view text) {
    try {
        const json unused = json::parse(text);
        (void)unused;
    } catch (const json::exception& e) {
        std::string what = e.what();
        const auto bracket = what.find("] ");
        return bracket == std::string::npos ? what : what.substr(bracket + 2);
    }
    return "unknown error";
}

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

}  // namespace

TaskResult parse_result_json(std::string_view text, const std::string& source) {
    if (is_blank(text)) {
        throw std::runtime_error(source + ": empty; expected a JSON object such as {\"loss\": 0.5}");
    }
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        std::string substituted;
        if (substitute_non_finite(text, substituted)) {
            doc = json::parse(substituted, nullptr, false);
        }
        if (doc.is_discarded()) {
            throw std::runtime_error(source + ": malformed JSON: " + parse_error_text(text));
        }
    }
    if (!doc.is_object()) {
        throw std::runtime_error(source + ": expected a JSON object such as {\"loss\": 0.5}, got " +
                                 std::string(doc.type_name()));
    }
    TaskResult result;
    for (const auto& [name, value] : doc.items()) {
        const std::string field = source + ": field '" + name + "'";
        if (value.is_null()) continue;
        if (value.is_boolean()) {
            result[name] = value.get<bool>();
        } else if (value.is_number()) {
            result[name] = value.get<double>();
        } else if (value.is_string()) {
            const auto& s = value.get_ref<const std::string&>();
            if (auto special = non_finite_value(s)) {
                result[name] = *special;
            } else {
                result[name] = s;
            }
        } else if (value.is_array()) {
            std::vector<double> numbers;
            numbers.reserve(value.size());
            for (std::size_t i = 0; i < value.size(); ++i) {
                const json& element = value[i];
                std::optional<double> special;
                if (element.is_string()) special = non_finite_value(element.get_ref<const std::string&>());
                if (element.is_number()) {
                    numbers.push_back(element.get<double>());
                } else if (special) {
                    numbers.push_back(*special);
                } else {
                    throw std::runtime_error(field + ": element " + std::to_string(i) + " is " +
                                             std::string(element.type_name()) +
                                             "; expected an array of numbers only");
                }
            }
            result[name] = std::move(numbers);
        } else {
            throw std::runtime_error(field + " is " + std::string(value.type_name()) +
                                     "; expected a number, string, boolean or array of numbers "
                                     "(nested objects are not supported)");
        }
    }
    return result;
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (e == ENOENT) return std::nullopt;
        throw std::runtime_error("cannot read '" + path + "': " + std::strerror(e));
    }
    std::string data;
    char buffer[65536];
    while (true) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            throw std::runtime_error("cannot read '" + path + "': " + std::strerror(e));
        }
        if (n == 0) break;
        data.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return data;
}

}  // namespace mpisweep::detail
