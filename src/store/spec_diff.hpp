#pragma once
// Telling a user which axis differs when a results file was made by another grid.
#include <string>

namespace mpisweep::store {

/// Compares two grid specs (Grid::to_json() texts). Returns "" when they are the same grid,
/// else one phrase naming the first difference, e.g.
///   axis 'lr' differs: values[2] is 0.3 in the file, 0.4 in this grid
///   axis 'seed' is in this grid but not in the file
std::string describe_spec_difference(const std::string& file_spec, const std::string& grid_spec);

}  // namespace mpisweep::store
