#pragma once
// One sweep at a time per results file, across the nodes that share its filesystem, also
// where POSIX locks are off or unreliable (Lustre without flock, some NFS): an owner record
// `<file>.owner` beside the file, created with O_EXCL, naming the run that owns the file
// (host, pid, boot id, start) and refreshed by a heartbeat thread. A record whose owner is
// gone is stale and taken over: a dead pid on the same host and boot; elsewhere a heartbeat
// older than stale_after. The HDF5 lock of the file is checked too (a writer without a
// record: an older mpisweep, h5py). The record also carries the sweep's live view
// (live_view.hpp): one file per run says who runs the sweep and what runs where. It is
// rewritten in place (pwrite, then ftruncate when shorter: one create per run, never a
// rename), with its length and checksum in a first line so that a reader who catches a
// rewrite halfway sees it and reads again. Format: docs/hdf5-layout.md.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/live_view.hpp"
#include "store/result_store.hpp"

namespace mpisweep::store {

/// The file is owned by another run (or cannot be owned: its folder is not writable). The
/// message is the one line for the user: who owns it and what to do.
class OwnedElsewhere : public StoreError {
public:
    using StoreError::StoreError;
};

/// What an owner record says.
struct OwnerRecord {
    std::string host;
    std::int64_t pid = 0;
    std::string boot_id;               ///< /proc/sys/kernel/random/boot_id
    std::string pid_namespace;         ///< readlink /proc/self/ns/pid
    std::uint64_t process_start = 0;   ///< starttime of /proc/<pid>/stat (ticks since boot)
    std::string token;                 ///< random, one per run
    double started = 0;                ///< unix seconds
    double heartbeat = 0;              ///< unix seconds of the last beat
    std::optional<LiveSnapshot> live;  ///< what the sweep runs now, once its master said
    /// The file's bytes: "mpisweep-owner 2 <length> <checksum>\n" then one JSON object.
    std::string to_text() const;
    /// nullopt for text that is not a whole record (being written, damaged). Also reads the
    /// records of format 1 (a JSON object padded with spaces, no live view).
    static std::optional<OwnerRecord> from_text(const std::string& text);
    /// "pid 1234 on host node7 (started 2024-05-01T10:00:00Z, last heartbeat 3 s ago)"
    std::string describe(double now) const;
};

struct OwnershipOptions {
    bool break_lock = false;  ///< take the file whatever its record says (--break-lock)
    /// Told when a stale record is taken over (one line); the store never prints.
    std::function<void(const std::string&)> note;
    std::chrono::duration<double> heartbeat_interval{10.0};
    std::chrono::duration<double> stale_after{60.0};
};

/// `<results>.owner`
std::string owner_path_of(const std::string& results_path);

/// The record of the run that owns `results_path` now, if any (for status).
std::optional<OwnerRecord> read_owner(const std::string& results_path);

/// Holds a results file for this run: acquired before the file or its journal is touched,
/// released (the record removed) when the store is done with them.
class FileOwner {
public:
    /// Takes `results_path` for this process or throws OwnedElsewhere naming the owner.
    /// A stale record (or any record with break_lock) is taken over, saying so to options.note.
    static std::unique_ptr<FileOwner> acquire(const std::string& results_path,
                                              const OwnershipOptions& options);
    FileOwner(const FileOwner&) = delete;
    FileOwner& operator=(const FileOwner&) = delete;
    ~FileOwner();  ///< release()

    /// Throws StoreError when another run has taken the file over (after this process was
    /// frozen longer than stale_after, or with --break-lock): nothing more may be written.
    /// Cheap while the heartbeat is on time; reads the record when it was late.
    void check();
    bool lost() const { return lost_.load(); }
    /// Puts the live view in the record; the heartbeat thread writes it soon after, unless it
    /// is the same as the one there. Never blocks: while a beat is being written the snapshot
    /// is dropped (the caller sends a new one every interval).
    void publish(LiveSnapshot snapshot);
    /// Stops the heartbeat and removes the record if it is still this run's. Never throws.
    void release() noexcept;

private:
    FileOwner(std::string results_path, OwnershipOptions options, OwnerRecord record, int fd);
    void heartbeat_loop();
    void beat();
    void write_record();  ///< with mutex_ held
    bool record_is_mine() const;

    std::string results_path_;
    std::string path_;
    OwnershipOptions options_;
    OwnerRecord record_;
    int fd_ = -1;  ///< the record as created: beats go there even if it was renamed away
    std::atomic<bool> lost_{false};
    std::atomic<std::int64_t> last_beat_ns_{0};  ///< steady clock
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool live_due_ = false;         ///< publish() gave a snapshot not written yet
    std::size_t written_size_ = 0;  ///< bytes of the record now in the file
    std::thread thread_;
};

}  // namespace mpisweep::store
