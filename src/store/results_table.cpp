#include "store/results_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mpisweep::store {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <class T>
void permute_vector(std::vector<T>& values, const std::vector<std::size_t>& order, std::size_t width = 1) {
    if (values.empty()) return;
    std::vector<T> out;
    out.reserve(values.size());
    for (std::size_t i : order)
        for (std::size_t k = 0; k < width; ++k) out.push_back(std::move(values[i * width + k]));
    values = std::move(out);
}

}  // namespace

bool ValueColumn::is_scalar_number() const {
    return type.kind == ColumnType::Kind::Float || type.kind == ColumnType::Kind::Int ||
           type.kind == ColumnType::Kind::Bool;
}

double ValueColumn::number(std::size_t row) const {
    return type.kind == ColumnType::Kind::Float ? doubles.at(row) : static_cast<double>(ints.at(row));
}

std::vector<double> ValueColumn::array(std::size_t row) const {
    if (type.kind == ColumnType::Kind::List) return lists.at(row);
    const std::size_t width = type.width;
    std::vector<double> values(doubles.begin() + static_cast<std::ptrdiff_t>(row * width),
                               doubles.begin() + static_cast<std::ptrdiff_t>((row + 1) * width));
    if (std::all_of(values.begin(), values.end(), [](double d) { return std::isnan(d); })) values.clear();
    return values;
}

void ValueColumn::append_missing() {
    switch (type.kind) {
        case ColumnType::Kind::Float:
            doubles.push_back(kNaN);
            break;
        case ColumnType::Kind::Array:
            doubles.insert(doubles.end(), type.width, kNaN);
            break;
        case ColumnType::Kind::Int:
        case ColumnType::Kind::Bool:
            ints.push_back(0);
            break;
        case ColumnType::Kind::String:
            strings.emplace_back();
            break;
        case ColumnType::Kind::List:
            lists.emplace_back();
            break;
    }
}

void ValueColumn::widen() {
    const std::size_t rows = type.width == 0 ? 0 : doubles.size() / type.width;
    lists.clear();
    for (std::size_t row = 0; row < rows; ++row) lists.push_back(array(row));
    doubles.clear();
    type = ColumnType{ColumnType::Kind::List, 0};
}

bool ValueColumn::set(std::size_t row, const ResultValue& value) {
    const ColumnType value_type = column_type_of(value);
    if (widens(value_type, type)) widen();
    if (!fits(value_type, type)) return false;
    switch (value.index()) {
        case 0:
            doubles.at(row) = std::get<double>(value);
            break;
        case 1: {
            const auto integer = std::get<std::int64_t>(value);
            if (type.kind == ColumnType::Kind::Float)
                doubles.at(row) = static_cast<double>(integer);
            else
                ints.at(row) = integer;
            break;
        }
        case 2:
            strings.at(row) = std::get<std::string>(value);
            break;
        case 3: {
            const auto& values = std::get<std::vector<double>>(value);
            if (type.kind == ColumnType::Kind::List)
                lists.at(row) = values;
            else
                std::copy(values.begin(), values.end(),
                          doubles.begin() + static_cast<std::ptrdiff_t>(row * type.width));
            break;
        }
        default:
            ints.at(row) = std::get<bool>(value) ? 1 : 0;
    }
    return true;
}

void ValueColumn::permute(const std::vector<std::size_t>& order) {
    permute_vector(doubles, order, type.kind == ColumnType::Kind::Array ? type.width : 1);
    permute_vector(ints, order);
    permute_vector(strings, order);
    permute_vector(lists, order);
}

std::size_t SettledTable::find(std::uint64_t id) const {
    const auto it = std::lower_bound(ids.begin(), ids.end(), id);
    return it != ids.end() && *it == id ? static_cast<std::size_t>(it - ids.begin()) : npos;
}

const ValueColumn* SettledTable::result(const std::string& name) const {
    for (const ValueColumn& c : results)
        if (c.name == name) return &c;
    return nullptr;
}

void SettledTable::append_row(std::uint64_t id) {
    ids.push_back(id);
    status.push_back(TaskStatus::Pending);
    attempts.push_back(0);
    worker.push_back(-1);
    device.push_back(-1);
    node.push_back(-1);
    exit_code.push_back(0);
    start.push_back(kNaN);
    wall_s.push_back(kNaN);
    error.emplace_back();
    for (ValueColumn& c : results) c.append_missing();
}

void SettledTable::sort() {
    if (std::is_sorted(ids.begin(), ids.end())) return;
    std::vector<std::size_t> order(ids.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ids[a] < ids[b]; });
    permute_vector(ids, order);
    permute_vector(status, order);
    permute_vector(attempts, order);
    permute_vector(worker, order);
    permute_vector(device, order);
    permute_vector(node, order);
    permute_vector(exit_code, order);
    permute_vector(start, order);
    permute_vector(wall_s, order);
    permute_vector(error, order);
    for (ValueColumn& c : params) c.permute(order);
    for (ValueColumn& c : results) c.permute(order);
}

}  // namespace mpisweep::store
