#pragma once
// The journal beside a results file (docs/hdf5-layout.md), read by the post-hoc commands so
// that they show a running sweep as it is: the records settled since the file's last write
// are laid over what the file holds, and a file caught in the middle of a write is read from
// its journal alone.
#include <cstdint>
#include <optional>
#include <string>

#include "cli/results_file.hpp"
#include "store/journal_codec.hpp"

namespace mpisweep::cli {

struct JournalView {
    std::string bytes;  // the scan's views point into this
    store::JournalScan scan;
    /// Offset after the last Commit frame (0 when there is none): records before it are in
    /// the HDF5 file.
    std::uint64_t committed_end() const;
};

/// The journal beside `results_path`, or nullopt when there is none or it cannot be read.
std::optional<JournalView> read_journal_view(const std::string& results_path);

/// A ResultsFile with every task pending, built from the journal's header alone (params
/// from its grid spec).
ResultsFile results_from_journal_header(const std::string& path, const store::JournalHeader& header);

/// Applies every Records frame that starts at or after `from` to `file`, in order.
/// Returns the number of records applied.
std::size_t overlay_journal(ResultsFile& file, const JournalView& journal, std::uint64_t from);

}  // namespace mpisweep::cli
