#include "store/column_type.hpp"

#include "store/result_store.hpp"

namespace mpisweep::store {

ColumnType column_type_of(const ResultValue& value) {
    switch (value.index()) {
        case 0:
            return {ColumnType::Kind::Float, 0};
        case 1:
            return {ColumnType::Kind::Int, 0};
        case 2:
            return {ColumnType::Kind::String, 0};
        default:
            return {ColumnType::Kind::Array, std::get<std::vector<double>>(value).size()};
    }
}

ColumnType column_type_of(const ResultView& value) {
    switch (value.kind) {
        case ResultView::Kind::Float:
            return {ColumnType::Kind::Float, 0};
        case ResultView::Kind::Int:
            return {ColumnType::Kind::Int, 0};
        case ResultView::Kind::String:
            return {ColumnType::Kind::String, 0};
        default:
            return {ColumnType::Kind::Array, value.count};
    }
}

std::string describe(ColumnType type) {
    switch (type.kind) {
        case ColumnType::Kind::Float:
            return "float64";
        case ColumnType::Kind::Int:
            return "int64";
        case ColumnType::Kind::String:
            return "string";
        case ColumnType::Kind::Array:
            return "float64[" + std::to_string(type.width) + "]";
    }
    return "?";
}

bool fits(ColumnType value, ColumnType column) {
    return value == column || (value.kind == ColumnType::Kind::Int && column.kind == ColumnType::Kind::Float);
}

void check_field_name(std::string_view name, std::string_view what) {
    std::string problem;
    if (name.empty())
        problem = "is empty";
    else if (name.find('/') != std::string_view::npos)
        problem = "contains '/'";
    else if (name == ".")
        problem = "is \".\"";
    if (!problem.empty())
        throw StoreError(std::string(what) + " name '" + std::string(name) + "' " + problem +
                         ": expected a non-empty name without '/' (an HDF5 dataset name)");
}

}  // namespace mpisweep::store
