#pragma once
// Integer columns of the hot messages as runs on the wire: (first value, length), each value
// of a run `step` above the one before (task ids: 1; attempts, outcomes, exit codes: 0). The
// copies of a fresh batch are consecutive ids of attempt 1, so a batch of 30,000 copies is a
// few dozen bytes instead of 360 KB: it stays under MPI's eager limit, where a larger message
// needs the sender's progress for every fragment when the shared-memory transport has no
// single-copy mechanism (bench/README.md, "Batches as runs"). A column without runs goes raw.
#include <boost/serialization/array_wrapper.hpp>
#include <cstdint>
#include <vector>

#include "transport/wire_archive.hpp"

namespace mpisweep {

/// More rows than any batch holds: a corrupt length of a run-encoded column (whose bytes do
/// not bound it) throws instead of allocating.
inline constexpr std::uint64_t kMaxRunRows = std::uint64_t{1} << 26;

template <class T>
std::uint64_t count_runs(const std::vector<T>& column, T step) {
    std::uint64_t runs = column.empty() ? 0 : 1;
    for (std::size_t i = 1; i < column.size(); ++i) runs += column[i] != static_cast<T>(column[i - 1] + step);
    return runs;
}

/// Writes or reads `column` (n values) as runs, or raw when runs would not be shorter. The
/// run count comes first; 0 with n > 0 means raw.
template <class Archive, class T>
void serialize_runs(Archive& ar, std::vector<T>& column, std::uint64_t n, T step) {
    if (n > kMaxRunRows) throw WireError("a column of " + std::to_string(n) + " rows");
    std::uint64_t runs = 0;
    if constexpr (!Archive::is_loading::value) {
        runs = count_runs(column, step);
        if (runs * (sizeof(T) + sizeof(std::uint32_t)) >= n * sizeof(T)) runs = 0;
    }
    ar& runs;
    if (runs == 0) {
        if constexpr (Archive::is_loading::value) column.resize(static_cast<std::size_t>(n));
        if (n > 0) ar& boost::serialization::make_array(column.data(), n);
        return;
    }
    if constexpr (Archive::is_loading::value) {
        if (runs > n)
            throw WireError("a column of " + std::to_string(n) + " rows in " + std::to_string(runs) +
                            " runs");
        column.clear();
        column.reserve(static_cast<std::size_t>(n));
        for (std::uint64_t r = 0; r < runs; ++r) {
            T value{};
            std::uint32_t length = 0;
            ar& value;
            ar& length;
            if (length == 0 || length > n - column.size())
                throw WireError("a run past the end of its column");
            for (std::uint32_t k = 0; k < length; ++k, value = static_cast<T>(value + step))
                column.push_back(value);
        }
        if (column.size() != n) throw WireError("a column shorter than its length");
    } else {
        std::size_t i = 0;
        while (i < column.size()) {
            std::size_t end = i + 1;
            while (end < column.size() && column[end] == static_cast<T>(column[end - 1] + step)) ++end;
            T first = column[i];
            auto length = static_cast<std::uint32_t>(end - i);
            ar& first;
            ar& length;
            i = end;
        }
    }
}

}  // namespace mpisweep
