#pragma once
// What `mpisweep best` ranks: one entry per done task, or per parameter set when values are
// averaged over some axes (--mean-over), each with the value it is ranked by. An array
// result (a curve) is ranked by its best element, and the entry says at which index.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/results_table.hpp"

namespace mpisweep::cli {

struct Ranked {
    std::size_t row = 0;               ///< a row of the table: the task, or the first task of the set
    double value = 0;                  ///< the metric (its best element for an array; the mean of a set)
    std::optional<std::size_t> index;  ///< arrays: where in the array (or mean curve) it is
    double spread = 0;                 ///< sets: the standard deviation of the values averaged
    std::size_t count = 1;             ///< sets: how many values were averaged
};

/// Every done row with a value for `metric`, best first (ties by task id).
std::vector<Ranked> rank_tasks(const store::SettledTable& rows, const store::ValueColumn& metric,
                               bool maximize);

/// The done rows grouped by the params not in `mean_over` (indexes into rows.params), each
/// group's values averaged (element-wise for arrays: each index over the rows that reach it,
/// then the best element of the mean curve), best first (ties by the group's first task).
std::vector<Ranked> rank_sets(const store::SettledTable& rows, const store::ValueColumn& metric,
                              bool maximize, const std::vector<std::size_t>& mean_over);

}  // namespace mpisweep::cli
