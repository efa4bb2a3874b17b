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
        case 3: {
            const std::size_t size = std::get<std::vector<double>>(value).size();
            return size == 0 ? ColumnType{ColumnType::Kind::List, 0}
                             : ColumnType{ColumnType::Kind::Array, size};
        }
        default:
            return {ColumnType::Kind::Bool, 0};
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
        case ResultView::Kind::Bool:
            return {ColumnType::Kind::Bool, 0};
        default:
            return value.count == 0 ? ColumnType{ColumnType::Kind::List, 0}
                                    : ColumnType{ColumnType::Kind::Array, value.count};
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
        case ColumnType::Kind::List:
            return "float64[] (any length)";
        case ColumnType::Kind::Bool:
            return "bool";
    }
    return "?";
}

bool fits(ColumnType value, ColumnType column) {
    if (value == column) return true;
    if (value.kind == ColumnType::Kind::Int) return column.kind == ColumnType::Kind::Float;
    return column.kind == ColumnType::Kind::List &&
           (value.kind == ColumnType::Kind::Array || value.kind == ColumnType::Kind::List);
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
