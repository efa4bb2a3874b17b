#pragma once
// Selecting a batch of rows of a [N] or [N, k] dataset in one dataspace, so that a batch is
// one H5Dwrite whatever its ids.
#include <cstddef>
#include <vector>

#include "store/h5_check.hpp"

namespace mpisweep::h5 {

enum class RowSelectionMethod {
    Points,      ///< H5Sselect_elements: one coordinate per element
    Hyperslabs,  ///< a union of hyperslabs, one per run of consecutive rows
    Automatic,   ///< hyperslabs when the rows form few runs, points otherwise
};

/// Automatic uses hyperslabs up to this many runs of consecutive rows (see the measurement
/// in docs/hdf5-layout.md, "Write path").
inline constexpr std::size_t kMaxHyperslabRuns = 64;

/// Selects `rows` (ascending, no duplicates, non-empty) of `file_space`, every column of
/// each when the space is [N, columns] (columns > 0). Returns the matching memory space:
/// [rows.size()] or [rows.size(), columns], packed in the same order.
Dataspace select_rows(hid_t file_space, const std::vector<hsize_t>& rows, hsize_t columns,
                      RowSelectionMethod method = RowSelectionMethod::Automatic);
/// The same for the `count` rows at `rows`.
Dataspace select_rows(hid_t file_space, const hsize_t* rows, std::size_t count, hsize_t columns,
                      RowSelectionMethod method = RowSelectionMethod::Automatic);

}  // namespace mpisweep::h5
