#include "store/row_selection.hpp"

#include <cstddef>

namespace mpisweep::h5 {

namespace {

struct Run {
    hsize_t first;
    hsize_t count;
};

std::vector<Run> runs_of(const hsize_t* rows, std::size_t count) {
    std::vector<Run> runs;
    for (const hsize_t* at = rows; at != rows + count; ++at) {
        const hsize_t row = *at;
        if (!runs.empty() && runs.back().first + runs.back().count == row)
            ++runs.back().count;
        else
            runs.push_back({row, 1});
    }
    return runs;
}

void select_runs(hid_t file_space, const std::vector<Run>& runs, hsize_t columns) {
    bool first = true;
    for (const Run& run : runs) {
        hsize_t start[2] = {run.first, 0};
        hsize_t count[2] = {run.count, columns};
        H5_CHECK(H5Sselect_hyperslab, file_space, first ? H5S_SELECT_SET : H5S_SELECT_OR, start, nullptr,
                 count, nullptr);
        first = false;
    }
}

void select_points(hid_t file_space, const hsize_t* rows, std::size_t count, hsize_t columns) {
    const hsize_t width = columns > 0 ? columns : 1;
    const std::size_t rank = columns > 0 ? 2 : 1;
    std::vector<hsize_t> coordinates;
    coordinates.reserve(count * width * rank);
    for (const hsize_t* at = rows; at != rows + count; ++at) {
        const hsize_t row = *at;
        for (hsize_t column = 0; column < width; ++column) {
            coordinates.push_back(row);
            if (rank == 2) coordinates.push_back(column);
        }
    }
    H5_CHECK(H5Sselect_elements, file_space, H5S_SELECT_SET, count * width, coordinates.data());
}

}  // namespace

Dataspace select_rows(hid_t file_space, const std::vector<hsize_t>& rows, hsize_t columns,
                      RowSelectionMethod method) {
    return select_rows(file_space, rows.data(), rows.size(), columns, method);
}

Dataspace select_rows(hid_t file_space, const hsize_t* rows, std::size_t count, hsize_t columns,
                      RowSelectionMethod method) {
    std::vector<Run> runs = runs_of(rows, count);
    if (method == RowSelectionMethod::Automatic) {
        // Measured on HDF5 1.10.8 (docs/hdf5-layout.md, "Write path"): a union of
        // hyperslabs wins while runs are few; OR-ing many small ones costs more than points.
        method =
            runs.size() <= kMaxHyperslabRuns ? RowSelectionMethod::Hyperslabs : RowSelectionMethod::Points;
    }
    if (method == RowSelectionMethod::Hyperslabs)
        select_runs(file_space, runs, columns);
    else
        select_points(file_space, rows, count, columns);
    hsize_t dims[2] = {count, columns};
    return Dataspace(H5_CHECK(H5Screate_simple, columns > 0 ? 2 : 1, dims, nullptr));
}

}  // namespace mpisweep::h5
