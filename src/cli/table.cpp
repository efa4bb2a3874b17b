#include "cli/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace mpisweep::cli {
namespace {

bool looks_numeric(const std::string& s) {
    if (s.empty()) return false;
    if (s == "nan" || s == "inf" || s == "-inf") return true;
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
}

// Display width: UTF-8 continuation bytes take no column.
std::size_t width_of(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(header.size(), 0);
    for (std::size_t c = 0; c < header.size(); ++c) widths[c] = width_of(header[c]);
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
            widths[c] = std::max(widths[c], width_of(row[c]));
        }
    }
    auto line = [&](const std::vector<std::string>& cells, bool is_header) {
        std::string out;
        for (std::size_t c = 0; c < widths.size(); ++c) {
            const std::string cell = c < cells.size() ? cells[c] : "";
            const std::string pad(widths[c] - std::min(widths[c], width_of(cell)), ' ');
            const bool right = !is_header && looks_numeric(cell);
            if (c) out += "  ";
            out += right ? pad + cell : cell + (c + 1 < widths.size() ? pad : "");
        }
        return out + "\n";
    };
    std::string out = line(header, true);
    std::string rule;
    for (std::size_t c = 0; c < widths.size(); ++c) rule += (c ? "  " : "") + std::string(widths[c], '-');
    out += rule + "\n";
    for (const auto& row : rows) out += line(row, false);
    return out;
}

std::string csv_field(std::string_view text) {
    const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                       (!text.empty() && (text.front() == ' ' || text.back() == ' '));
    if (!quote) return std::string(text);
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string human_duration(double seconds) {
    if (std::isnan(seconds)) return "?";
    char buf[32];
    if (seconds < 10) {
        std::snprintf(buf, sizeof buf, "%.3gs", seconds);
    } else if (seconds < 60) {
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    } else if (seconds < 3600) {
        const long s = std::lround(seconds);
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    } else {
        const long m = std::lround(seconds / 60);
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", m / 60, m % 60);
    }
    return buf;
}

std::string one_line(std::string_view text) {
    const auto first_end = text.find('\n');
    if (first_end == std::string_view::npos) return std::string(text);
    std::string_view rest = text.substr(first_end + 1);
    while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
    const auto last_start = rest.rfind('\n');
    const std::string_view last = last_start == std::string_view::npos ? rest : rest.substr(last_start + 1);
    return std::string(text.substr(0, first_end)) + (last_start == std::string_view::npos ? " " : " ... ") +
           std::string(last);
}

std::string utc_time(double unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
    return text;
}

}  // namespace mpisweep::cli
