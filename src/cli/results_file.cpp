#include "cli/results_file.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "cli/usage_error.hpp"

namespace mpisweep::cli {

namespace {

std::string rounded(double d, int digits) {
    if (std::isnan(d)) return "nan";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*g", digits, d);
    return buf;
}

std::string double_text(double d, int digits) {
    return digits > 0 ? rounded(d, digits) : number_text(d);
}

std::string list_text(const std::vector<double>& values, int digits) {
    std::string out = "[";
    for (std::size_t j = 0; j < values.size(); ++j) out += (j ? ", " : "") + double_text(values[j], digits);
    return out + "]";
}

}  // namespace

store::ResultsSnapshot read_results_file(const std::string& path) {
    try {
        return store::read_results(path);
    } catch (const store::UnreadableResults& e) {
        throw UsageError(e.what());
    }
}

std::string read_command_attribute(const std::string& path) {
    return store::read_root_attribute(path, "command");
}

std::string read_spec_attribute(const std::string& path) {
    return store::read_root_attribute(path, "spec");
}

std::string number_text(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc{} ? std::string(buf, end) : std::to_string(d);
}

std::string value_text(const store::ValueColumn& column, std::size_t row, int digits) {
    using Kind = store::ColumnType::Kind;
    switch (column.type.kind) {
        case Kind::Int:
            return std::to_string(column.ints.at(row));
        case Kind::Bool:
            return column.ints.at(row) ? "true" : "false";
        case Kind::String:
            return column.strings.at(row);
        case Kind::Float:
            return double_text(column.doubles.at(row), digits);
        case Kind::Array: {
            const std::size_t width = column.type.width;
            return list_text(
                std::vector<double>(column.doubles.begin() + static_cast<std::ptrdiff_t>(row * width),
                                    column.doubles.begin() + static_cast<std::ptrdiff_t>((row + 1) * width)),
                digits);
        }
        case Kind::List:
            return list_text(column.lists.at(row), digits);
    }
    return "";
}

const char* status_name(TaskStatus status) {
    switch (status) {
        case TaskStatus::Pending:
            return "pending";
        case TaskStatus::Done:
            return "done";
        case TaskStatus::Failed:
            return "failed";
    }
    return "?";
}

std::string params_text(const store::SettledTable& rows, std::size_t row) {
    std::string out;
    for (const store::ValueColumn& p : rows.params)
        out += (out.empty() ? "" : ", ") + p.name + "=" + value_text(p, row);
    return out;
}

std::vector<std::pair<std::string, std::string>> point_texts(const Grid& grid, std::uint64_t id) {
    std::vector<std::pair<std::string, std::string>> out;
    const Point point = grid.at(TaskId(id));
    for (const Axis& axis : grid.axes()) {
        const Value& v = point[axis.name()];
        std::string text;
        switch (v.index()) {
            case 0:
                text = std::to_string(std::get<std::int64_t>(v));
                break;
            case 1:
                text = number_text(std::get<double>(v));
                break;
            case 2:
                text = std::get<std::string>(v);
                break;
            default:
                text = std::get<bool>(v) ? "true" : "false";
        }
        out.emplace_back(axis.name(), std::move(text));
    }
    return out;
}

}  // namespace mpisweep::cli
