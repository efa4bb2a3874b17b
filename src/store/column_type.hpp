#pragma once
// The type of a /results/<name> column, fixed by the first value that arrives; an array
// column whose tasks return arrays of different lengths becomes variable-length.
#include <cstdint>
#include <string>
#include <string_view>

#include "exec/result_view.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep::store {

struct ColumnType {
    enum class Kind : std::uint8_t {
        Float,   ///< [N] float64
        Int,     ///< [N] int64
        String,  ///< [N] UTF-8 string
        Array,   ///< [N, width] float64: arrays of one length
        List,    ///< [N] variable-length float64: arrays of any length
        Bool,    ///< [N] bool (the h5py enum)
    };
    Kind kind = Kind::Float;
    std::uint64_t width = 0;  ///< number of doubles per row for Array, else 0

    friend bool operator==(ColumnType a, ColumnType b) { return a.kind == b.kind && a.width == b.width; }
    friend bool operator!=(ColumnType a, ColumnType b) { return !(a == b); }
};

/// The column a value would create: double -> Float, int64 -> Int, string -> String, bool ->
/// Bool, vector<double> of length k -> Array of width k (List when empty).
ColumnType column_type_of(const ResultValue& value);
ColumnType column_type_of(const ResultView& value);

/// "float64", "int64", "string", "bool", "float64[3]", "float64[] (any length)": the names
/// used in errors and the docs.
std::string describe(ColumnType type);

/// Whether a value of type `value` can go into a column of type `column` as it is: the same
/// type, an int64 into a float64 column (converted), any array into a List column.
bool fits(ColumnType value, ColumnType column);

/// Whether an array of type `value` makes an Array column of another width variable-length.
inline bool widens(ColumnType value, ColumnType column) {
    return column.kind == ColumnType::Kind::Array &&
           (value.kind == ColumnType::Kind::Array || value.kind == ColumnType::Kind::List) && value != column;
}

/// fits(column_type_of(value), column) without building the type: the check of every
/// result of every record.
inline bool value_fits(const ResultView& value, ColumnType column) {
    switch (column.kind) {
        case ColumnType::Kind::Float:
            return value.kind <= ResultView::Kind::Int;
        case ColumnType::Kind::Int:
            return value.kind == ResultView::Kind::Int;
        case ColumnType::Kind::String:
            return value.kind == ResultView::Kind::String;
        case ColumnType::Kind::Array:
            return value.kind == ResultView::Kind::Array && value.count == column.width;
        case ColumnType::Kind::List:
            return value.kind == ResultView::Kind::Array;
        case ColumnType::Kind::Bool:
            return value.kind == ResultView::Kind::Bool;
    }
    return false;
}

/// Throws StoreError unless `name` is a valid result field name: non-empty, no '/', not
/// "." (HDF5 link-name rules). `what` says what the name is ("result field", "param").
void check_field_name(std::string_view name, std::string_view what);

}  // namespace mpisweep::store
