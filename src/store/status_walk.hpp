#pragma once
// Reading /tasks/status where it is stored: the allocated chunks only, a block at a time, so
// that what it costs grows with the tasks settled, not with the grid.
#include <cstdint>
#include <functional>

#include "store/h5_check.hpp"

namespace mpisweep::store {

/// Calls visit(first row, statuses, count) for consecutive blocks of the rows of `status`
/// (the /tasks/status dataset) in its allocated chunks, in ascending order; rows outside
/// them are pending. Returns the number of rows visited.
std::uint64_t walk_statuses(hid_t status,
                            const std::function<void(std::uint64_t, const std::int8_t*, std::size_t)>& visit);

}  // namespace mpisweep::store
