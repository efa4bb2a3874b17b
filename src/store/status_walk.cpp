#include "store/status_walk.hpp"

#include <algorithm>
#include <vector>

#include "store/h5_chunks.hpp"
#include "store/h5_types.hpp"

namespace mpisweep::store {

namespace {

// Rows read per H5Dread: 64 KiB of statuses, a block reused, as a larger one would be
// memory touched afresh at each sweep's end (a page fault per 4 KiB).
constexpr hsize_t kBlockRows = hsize_t{1} << 16;

}  // namespace

std::uint64_t walk_statuses(
    hid_t status, const std::function<void(std::uint64_t, const std::int8_t*, std::size_t)>& visit) {
    h5::Datatype type = h5::status_enum();
    // Raw chunks are read as they are, into one buffer: through H5Dread each chunk would pass
    // HDF5's chunk cache, in memory allocated afresh (a page fault per 4 KiB).
    const hsize_t chunk_rows = h5::raw_chunks_match(status, type.get()) ? h5::rows_per_chunk(status) : 0;
    const hsize_t block_rows = chunk_rows > 0 ? chunk_rows : kBlockRows;
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, status));
    std::vector<std::int8_t> block;
    std::uint64_t visited = 0;
    for (const h5::RowRange& range : h5::allocated_rows(status)) {
        // Ranges of allocated chunks start on a chunk.
        for (hsize_t first = range.first; first < range.first + range.count; first += block_rows) {
            hsize_t count[1] = {std::min(block_rows, range.first + range.count - first)};
            hsize_t start[1] = {first};
            if (chunk_rows > 0) {
                block.resize(static_cast<std::size_t>(chunk_rows));
                std::uint32_t filters = 0;
                H5_CHECK(H5Dread_chunk, status, H5P_DEFAULT, start, &filters, block.data());
            } else {
                block.resize(static_cast<std::size_t>(count[0]));
                H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, count,
                         nullptr);
                h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, count, nullptr));
                H5_CHECK(H5Dread, status, type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                         block.data());
            }
            visit(first, block.data(), static_cast<std::size_t>(count[0]));
            visited += count[0];
        }
    }
    return visited;
}

}  // namespace mpisweep::store
