#pragma once
// What a results file holds about its settled tasks, in memory: one row per done or failed
// task, ascending by id, column by column. Pending tasks have no row: a grid of 10^15 points
// with 10^6 settled is 10^6 rows. Filled by store/results_reader.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "mpisweep/task.hpp"
#include "schedule/task_status.hpp"
#include "store/column_type.hpp"

namespace mpisweep::store {

/// The values of one column (a parameter or a result) for the rows of a SettledTable.
struct ValueColumn {
    std::string name;
    ColumnType type;                         ///< a parameter is Float, Int, String or Bool
    std::vector<double> doubles;             ///< Float: one a row; Array: type.width a row
    std::vector<std::int64_t> ints;          ///< Int; Bool as 0 or 1
    std::vector<std::string> strings;        ///< String
    std::vector<std::vector<double>> lists;  ///< List: one array a row, empty for none

    bool is_array() const {
        return type.kind == ColumnType::Kind::Array || type.kind == ColumnType::Kind::List;
    }
    /// Float, Int or Bool: number(row) is its value.
    bool is_scalar_number() const;
    double number(std::size_t row) const;
    /// The array of row `row` (Array or List): NaNs only (an Array's fill) reads as empty.
    std::vector<double> array(std::size_t row) const;

    /// Appends one row with the value that stands for none (NaN, 0, "", false, empty).
    void append_missing();
    /// Sets row `row` to `value` if it fits (an int into a float column is converted; an array
    /// of another length makes an Array column a List). Returns false, changing nothing, when
    /// it does not fit (a string into a float column).
    bool set(std::size_t row, const ResultValue& value);
    /// Reorders the rows: row i becomes old row order[i].
    void permute(const std::vector<std::size_t>& order);

private:
    void widen();
};

/// The settled tasks of a results file.
struct SettledTable {
    std::vector<std::uint64_t> ids;  ///< ascending
    std::vector<TaskStatus> status;  ///< Done or Failed
    std::vector<std::int32_t> attempts, worker, device, node, exit_code;
    std::vector<double> start, wall_s;
    std::vector<std::string> error;
    std::vector<ValueColumn> params;   ///< one per grid axis, in grid order
    std::vector<ValueColumn> results;  ///< in the order they were created

    std::size_t size() const { return ids.size(); }
    /// The row of task `id`, or npos when it is not settled.
    std::size_t find(std::uint64_t id) const;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    const ValueColumn* result(const std::string& name) const;

    /// Appends a row for task `id` (above every id so far, or sort() after): task info as a
    /// pending row has, results missing; params are the caller's to append.
    void append_row(std::uint64_t id);
    /// Puts the rows in id order (after rows were appended out of order).
    void sort();
};

}  // namespace mpisweep::store
