#pragma once
// The live view of a running sweep: `<results file>.live`, one small file that rank 0 of
// `mpisweep run` rewrites in place (no new file, no rename: one write on the same inode)
// about every flush interval while something changed, and removes at the end. It says which
// copies run where since when, and which workers are retired or lost; `mpisweep status FILE
// --running` reads it. Why a file of its own and not the journal: the journal keeps every
// record since the file was created, and a snapshot of 10^4 running copies every 2 s would
// outgrow the results in it; rewritten in place, the live view stays O(running copies).
//
// Format: a first line "mpisweep-live 1 <length> <checksum>\n" (decimal length and FNV-1a
// 64 hex of the rest), then one JSON object. A reader that meets a half-rewritten file sees
// a checksum that does not match and reads again.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpisweep::cli {

/// A copy of a task held by a worker.
struct LiveCopy {
    std::uint64_t task = 0;
    int attempt = 1;  ///< within this run
    int worker = 0;   ///< rank
    std::string host;
    int device = -1;
    bool speculative = false;
    double sent = 0;     ///< unix seconds when the master handed it out
    double started = 0;  ///< unix seconds when it began to run (estimated); 0: queued
};

/// A worker that takes no more tasks.
struct LiveWorker {
    int rank = 0;
    std::string host;
    std::string state;  ///< "retired" or "lost"
    double since = 0;   ///< unix seconds
    std::string why;
};

struct LiveSnapshot {
    double written = 0;   ///< unix seconds of this snapshot
    double interval = 2;  ///< seconds between snapshots while things change
    std::string host;     ///< of rank 0
    std::int64_t pid = 0;
    std::string run;  ///< the run's name (as in the log folder)
    std::uint64_t total = 0, done = 0, failed = 0;
    int workers = 0;
    std::vector<LiveCopy> copies;
    std::vector<LiveWorker> stopped_workers;
};

/// "<results>.live"
std::string live_path_of(const std::string& results_path);

/// The file's bytes for a snapshot (header line and JSON).
std::string encode_live(const LiveSnapshot& snapshot);
/// nullopt when the bytes are not a whole snapshot (being rewritten, damaged, foreign).
std::optional<LiveSnapshot> decode_live(const std::string& bytes);

/// Reads the live view of `results_path`; retries a few times while a rewrite is caught
/// halfway. nullopt when there is none (`why` says: no file, or unreadable).
std::optional<LiveSnapshot> read_live(const std::string& results_path, std::string* why);

/// Rank 0's side: the file, created (or taken over from a run that was killed) on the first
/// write, rewritten in place, removed by remove() or the destructor.
class LiveFile {
public:
    explicit LiveFile(std::string results_path);
    ~LiveFile();
    LiveFile(const LiveFile&) = delete;
    LiveFile& operator=(const LiveFile&) = delete;

    /// Writes the snapshot over the previous one. Returns false (and keeps going) when the
    /// system refuses: the live view is a convenience, the sweep does not stop for it.
    bool write(const LiveSnapshot& snapshot);
    void remove() noexcept;

private:
    std::string path_;
    int fd_ = -1;
    std::size_t size_ = 0;
};

}  // namespace mpisweep::cli
