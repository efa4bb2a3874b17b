#pragma once
// The /results datasets: one per result field, typed by its column (docs/hdf5-layout.md,
// "/results"): created at the first flush that has a value for it, written a segment of
// staged entries at a time, and rewritten variable-length when its arrays change length.
#include <cstdint>
#include <optional>

#include "store/column_type.hpp"
#include "store/h5_check.hpp"
#include "store/staging.hpp"

namespace mpisweep::store {

/// The column type of a /results dataset of a file with `n_tasks` rows, or nullopt when it is
/// not one this mpisweep writes.
std::optional<ColumnType> result_column_type(hid_t dataset, std::uint64_t n_tasks);

/// Creates /results/<column.name> in `group` for `n_tasks` rows, chunked, with the fill value
/// that stands for "no value" and an attribute `missing` saying what that reads as.
h5::Dataset create_result_dataset(hid_t group, const ResultColumn& column, std::uint64_t n_tasks);

/// Writes the staged entries [first, last) of `column` to `dataset`. `memory_space` and
/// `file_space` select their rows when the entries are exactly the rows they select (every
/// record of the segment has the field, and a row is one element); pass H5I_INVALID_HID
/// otherwise and the rows are selected here from `row_ids` (the task id of each position).
/// `transfer`: the transfer property list of the writes (h5::converting_transfer()).
void write_result_entries(hid_t dataset, const ResultColumn& column, std::size_t first, std::size_t last,
                          const RowId* row_ids, hid_t file_space, hid_t memory_space, hid_t transfer);

/// Replaces the [N, k] dataset /results/<name> of `group` by a variable-length one holding the
/// same rows (a row of k NaNs, the fill, becomes an empty array: no value); returns it.
h5::Dataset rewrite_as_list(hid_t group, const std::string& name, h5::Dataset old, std::uint64_t n_tasks);

}  // namespace mpisweep::store
