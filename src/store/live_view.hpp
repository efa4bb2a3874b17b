#pragma once
// The live view of a running sweep: which copies run where since when, and which workers are
// retired or lost. Rank 0's master builds it from the scheduler's state every few seconds
// (nothing per task) and the store keeps it in the owner record (file_owner.hpp), the one
// file per run beside the results that already says who runs the sweep; `mpisweep status FILE
// --running` reads it from there. Times are unix seconds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpisweep::store {

/// A copy of a task held by a worker.
struct LiveCopy {
    std::uint64_t task = 0;
    int attempt = 1;  ///< within this run
    int worker = 0;   ///< rank
    std::string host;
    int device = -1;
    bool speculative = false;
    double sent = 0;  ///< when the master handed it out
    double started =
        0;  ///< when it began to run (estimated: when the copy before it was answered); 0: queued
    bool operator==(const LiveCopy& o) const;
};

/// A worker that takes no more tasks.
struct LiveWorker {
    int rank = 0;
    std::string host;
    std::string state;  ///< "retired" or "lost"
    double since = 0;   ///< retired: when; lost: when it was last heard from
    std::string why;
    bool operator==(const LiveWorker& o) const;
};

struct LiveSnapshot {
    double written = 0;   ///< when the master made it
    double interval = 2;  ///< seconds between snapshots while things change
    std::string run;      ///< the run's name (as in the log folder); may be empty
    std::uint64_t total = 0, done = 0, failed = 0;
    int workers = 0;
    /// The copies that run (started > 0). Those queued behind them are only counted: with
    /// batching a worker holds thousands, and the record is rewritten every few seconds.
    std::vector<LiveCopy> copies;
    std::uint64_t queued = 0;  ///< copies queued on workers, not started
    std::vector<LiveWorker> stopped_workers;
    /// Equal but for `written`: nothing to rewrite.
    bool same_as(const LiveSnapshot& o) const;
};

/// The snapshot as one JSON object (text), and back; nullopt for text that is not one.
std::string live_to_json(const LiveSnapshot& snapshot);
std::optional<LiveSnapshot> live_from_json(const std::string& text);

}  // namespace mpisweep::store
