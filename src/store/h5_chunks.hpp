#pragma once
// Which rows of a dataset are stored: the file keeps only the chunks something was written
// to (docs/hdf5-layout.md, "Storage"), so readers walk those and never the whole grid.
#include <vector>

#include "store/h5_check.hpp"

namespace mpisweep::h5 {

/// Rows [first, first + count) of a dataset.
struct RowRange {
    hsize_t first = 0;
    hsize_t count = 0;
};

/// The rows of `dataset` (1-D, or 2-D read by rows) that lie in allocated chunks, as
/// ascending ranges with neighbouring chunks merged, clipped to its extent; rows outside
/// them read the fill value. A contiguous or compact dataset is all its rows once allocated.
///
/// HDF5 1.10 finds the i-th allocated chunk by walking the chunk index from its start
/// (H5Dget_chunk_info), so chunks are found by bisection over the index: a run of chunks
/// without gaps is known from its two ends, and each gap costs a few look-ups. A sweep
/// settles tasks in id order, so the chunks are one run or a few: O(chunks) in all, where
/// one look-up per chunk would be O(chunks^2).
std::vector<RowRange> allocated_rows(hid_t dataset);

/// Rows per chunk of a chunked `dataset` (the first dimension of its chunks).
hsize_t rows_per_chunk(hid_t dataset);

/// Whether the chunks of `dataset` hold exactly the bytes of its values in `memory_type`
/// (no filter, the same type in the same byte order), so that whole chunks can go to the
/// file as they are with H5Dwrite_chunk: HDF5 then neither converts, caches nor allocates.
bool raw_chunks_match(hid_t dataset, hid_t memory_type);

}  // namespace mpisweep::h5
