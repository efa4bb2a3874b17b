#pragma once
// Reading the settled rows of a results file (for results_reader.cpp): /tasks/status where it
// is stored, then every column at the rows that are settled, a block at a time.
#include <stdexcept>
#include <string>

#include "store/h5_check.hpp"
#include "store/results_reader.hpp"

namespace mpisweep::store {

/// The HDF5 file cannot be read: torn by a kill, truncated, missing a part. Its journal may
/// stand in. `foreign`: not an HDF5 file at all.
class DamagedFile : public std::runtime_error {
public:
    explicit DamagedFile(const std::string& what, bool foreign = false)
        : std::runtime_error(what), foreign_(foreign) {}
    bool foreign() const { return foreign_; }

private:
    bool foreign_;
};

/// "H5Dread: <what HDF5 says went wrong, innermost>": one line, no stack.
std::string short_reason(const h5::H5Error& error);

/// Reads /nodes and the settled rows of every column into `out` (its grid and n_tasks set).
/// Throws DamagedFile for a missing or malformed dataset, h5::H5Error when a read fails.
void read_settled_rows(hid_t file, ResultsSnapshot& out);

}  // namespace mpisweep::store
