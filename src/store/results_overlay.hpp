#pragma once
// The journal beside a results file, as read_results lays it over the file: the records it
// settled since the file's last write, and the whole sweep when the file cannot be read.
#include <cstdint>
#include <optional>
#include <string>

#include "store/journal_codec.hpp"
#include "store/results_reader.hpp"

namespace mpisweep::store {

struct JournalView {
    std::string bytes;  ///< the scan's views point into this
    JournalScan scan;
    /// The offset the last Commit names (0 when there is none): the HDF5 file holds every
    /// record before it; those after it are in the journal only.
    std::uint64_t committed_end() const;
};

/// The journal beside `results_path`, or nullopt when there is none. Throws
/// UnreadableResults when its header is damaged or of a version this mpisweep cannot read
/// (it may hold results the file does not: refusing beats showing less than was settled).
std::optional<JournalView> read_journal_view(const std::string& results_path);

/// A snapshot with every task pending, from the journal's header alone (its grid spec).
ResultsSnapshot snapshot_from_journal_header(const std::string& path, const JournalHeader& header);

/// Lays every record of the Records frames at or after offset `from` over `snapshot`, in
/// order (a later record of a task replaces its row's task info and the results it has).
/// Returns the number of records laid over.
std::size_t overlay_journal(ResultsSnapshot& snapshot, const JournalView& journal, std::uint64_t from);

}  // namespace mpisweep::store
