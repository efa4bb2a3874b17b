#include "store/h5_chunks.hpp"

#include <algorithm>
#include <utility>

namespace mpisweep::h5 {

namespace {

// The chunk index of a chunked dataset: the i-th allocated chunk's position, in chunks.
class ChunkIndex {
public:
    ChunkIndex(hid_t dataset, hsize_t chunk_rows)
        : dataset_(dataset), space_(H5_CHECK(H5Dget_space, dataset)), chunk_rows_(chunk_rows) {
        H5_CHECK(H5Dget_num_chunks, dataset_, space_.get(), &count_);
    }
    hsize_t count() const { return count_; }
    hsize_t at(hsize_t i) const {
        hsize_t offset[H5S_MAX_RANK] = {};
        unsigned filter_mask = 0;
        haddr_t address = 0;
        hsize_t size = 0;
        H5_CHECK(H5Dget_chunk_info, dataset_, space_.get(), i, offset, &filter_mask, &address, &size);
        return offset[0] / chunk_rows_;
    }

private:
    hid_t dataset_;
    Dataspace space_;
    hsize_t chunk_rows_;
    hsize_t count_ = 0;
};

// Chunk positions of index entries [lo, hi] given the positions at both ends: bisection
// while the entries between are not consecutive positions. Returns false when the index is
// not in ascending order (then bisection cannot be trusted).
bool bisect(const ChunkIndex& index, hsize_t lo, hsize_t hi, hsize_t at_lo, hsize_t at_hi,
            std::vector<std::pair<hsize_t, hsize_t>>& runs) {
    std::vector<std::pair<std::pair<hsize_t, hsize_t>, std::pair<hsize_t, hsize_t>>> todo{
        {{lo, hi}, {at_lo, at_hi}}};
    while (!todo.empty()) {
        auto [entries, positions] = todo.back();
        todo.pop_back();
        if (positions.second < positions.first ||
            positions.second - positions.first < entries.second - entries.first)
            return false;
        if (positions.second - positions.first == entries.second - entries.first) {
            runs.emplace_back(positions.first, positions.second - positions.first + 1);
            continue;
        }
        if (entries.second - entries.first == 1) {
            runs.emplace_back(positions.first, 1);
            runs.emplace_back(positions.second, 1);
            continue;
        }
        const hsize_t mid = entries.first + (entries.second - entries.first) / 2;
        const hsize_t at_mid = index.at(mid);
        // The upper half first onto the stack, so runs come out in ascending order.
        todo.push_back({{mid, entries.second}, {at_mid, positions.second}});
        todo.push_back({{entries.first, mid}, {positions.first, at_mid}});
    }
    return true;
}

// Chunk runs (first chunk, chunks) to row ranges: neighbours merged, clipped to `rows`.
std::vector<RowRange> to_rows(std::vector<std::pair<hsize_t, hsize_t>> runs, hsize_t chunk_rows,
                              hsize_t rows) {
    std::sort(runs.begin(), runs.end());
    std::vector<RowRange> ranges;
    for (const auto& [first, count] : runs) {
        const hsize_t begin = first * chunk_rows;
        if (begin >= rows) continue;
        const hsize_t end = std::min(rows, (first + count) * chunk_rows);
        if (!ranges.empty() && ranges.back().first + ranges.back().count >= begin) {
            const hsize_t last = std::max(ranges.back().first + ranges.back().count, end);
            ranges.back().count = last - ranges.back().first;
        } else {
            ranges.push_back({begin, end - begin});
        }
    }
    return ranges;
}

}  // namespace

std::vector<RowRange> allocated_rows(hid_t dataset) {
    Dataspace space(H5_CHECK(H5Dget_space, dataset));
    hsize_t dims[H5S_MAX_RANK] = {};
    const int rank = H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims, nullptr);
    if (rank < 1 || dims[0] == 0) return {};
    PropList creation(H5_CHECK(H5Dget_create_plist, dataset));
    if (H5_CHECK(H5Pget_layout, creation.get()) != H5D_CHUNKED) {
        if (H5Dget_storage_size(dataset) == 0) return {};
        return {RowRange{0, dims[0]}};
    }
    hsize_t chunk[H5S_MAX_RANK] = {};
    H5_CHECK(H5Pget_chunk, creation.get(), rank, chunk);
    const ChunkIndex index(dataset, chunk[0]);
    if (index.count() == 0) return {};
    std::vector<std::pair<hsize_t, hsize_t>> runs;
    const hsize_t last = index.count() - 1;
    if (last == 0 || !bisect(index, 0, last, index.at(0), index.at(last), runs)) {
        runs.clear();  // an index not in order: every entry, one look-up each
        for (hsize_t i = 0; i <= last; ++i) runs.emplace_back(index.at(i), 1);
    }
    return to_rows(std::move(runs), chunk[0], dims[0]);
}

hsize_t rows_per_chunk(hid_t dataset) {
    PropList creation(H5_CHECK(H5Dget_create_plist, dataset));
    hsize_t chunk[1] = {0};
    H5_CHECK(H5Pget_chunk, creation.get(), 1, chunk);
    return chunk[0];
}

bool raw_chunks_match(hid_t dataset, hid_t memory_type) {
    PropList creation(H5_CHECK(H5Dget_create_plist, dataset));
    if (H5_CHECK(H5Pget_layout, creation.get()) != H5D_CHUNKED ||
        H5_CHECK(H5Pget_nfilters, creation.get()) != 0)
        return false;
    Datatype file_type(H5_CHECK(H5Dget_type, dataset));
    Datatype native(H5_CHECK(H5Tget_native_type, file_type.get(), H5T_DIR_DEFAULT));
    if (H5_CHECK(H5Tequal, native.get(), memory_type) <= 0) return false;
    const H5T_order_t stored = H5_CHECK(H5Tget_order, file_type.get());
    return stored == H5_CHECK(H5Tget_order, memory_type);
}

}  // namespace mpisweep::h5
