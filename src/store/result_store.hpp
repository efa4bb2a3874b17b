#pragma once
// The results file: one HDF5 file written by rank 0 only, in the layout of docs/hdf5-layout.md
// (DESIGN.md). Rows are indexed by task id. Each record is in the journal within
// journal_interval of its arrival; HDF5 writes are buffered and flushed in batches.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "exec/result_view.hpp"
#include "mpisweep/grid.hpp"
#include "mpisweep/ids.hpp"
#include "mpisweep/observer.hpp"
#include "mpisweep/task.hpp"
#include "schedule/settled_tasks.hpp"
#include "store/live_view.hpp"

namespace mpisweep {

/// A results file that cannot be used as asked: exists without overwrite, made by another
/// grid, not an mpisweep file. The message names the path and what differs. (A failing HDF5
/// call itself throws a std::runtime_error naming the routine and HDF5's error stack.)
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Rank 0 cannot write the results file or its journal for want of space or a failing disk
/// (is_storage_errno): not a fault of the file or of the sweep, and nothing to retry now. A
/// ResultStore keeps the first one (write_failure()) instead of throwing it from record() and
/// the flushes. what(): "cannot write the journal '<path>': No space left on device (errno 28)".
class StoreWriteError : public StoreError {
public:
    /// `what` says which file: "the results file", "the journal".
    StoreWriteError(const std::string& what, std::string path, int error);
    const std::string& path() const { return path_; }
    int error_number() const { return error_; }

private:
    std::string path_;
    int error_ = 0;
};

/// ENOSPC, EDQUOT, EFBIG, EIO: the write errors that say the disk, not the data, is at fault.
bool is_storage_errno(int error);
/// The rule in one place: `error` met writing `what` ("the results file", "the journal") at
/// `path` is a StoreWriteError when the disk is at fault, and nothing (nullopt) otherwise.
std::optional<StoreWriteError> storage_failure(const std::string& what, const std::string& path, int error);

/// HDF5's own clean-up at exit turned off (H5dont_atexit); a program calls it before any HDF5
/// call. A results file whose disk filled up is abandoned open (it cannot be closed: see
/// ResultStore::write_failure), and that clean-up would crash on it. Every other file is
/// closed by its owner, so nothing else changes. The mpisweep program calls it; the Python
/// module does not: the process's HDF5 is h5py's too, and a user's h5py file left open at
/// exit is flushed by that clean-up.
void no_hdf5_cleanup_at_exit() noexcept;

/// Everything the file keeps about one settled task.
struct TaskRecord {
    TaskId id;
    TaskStatus status = TaskStatus::Done;
    int attempts = 0;  ///< attempts made in this run (added to those already in the file)
    int worker = -1;   ///< rank that produced the kept result
    int device = -1;   ///< CUDA device of that worker, -1 for CPU
    std::string node;  ///< host name; stored as an index into /nodes
    double start = 0;  ///< unix seconds
    double wall_s = 0;
    int exit_code = 0;  ///< for commands; -signal for a signal
    std::string error;  ///< last error; empty when done
    TaskResult results;
};

/// One settled task as the master hands it over without building a TaskRecord: the /tasks
/// fields, and the results as views (into a report batch). Nothing is moved out of it.
struct RowView {
    TaskId id;
    TaskStatus status = TaskStatus::Done;
    int attempts = 0;                   ///< as TaskRecord::attempts
    int worker = -1;                    ///< rank that produced the kept result
    int device = -1;                    ///< CUDA device of that worker, -1 for CPU
    const std::string* node = nullptr;  ///< host name; null: none
    double start = 0;                   ///< unix seconds
    double wall_s = 0;
    int exit_code = 0;
    const std::string* error = nullptr;  ///< last error of a failed task; null: none
    const FieldView* fields = nullptr;   ///< its results
    std::size_t n_fields = 0;
};

/// The row of `record`, its results seen through `fields` (filled by view_fields(record.results,
/// fields)).
inline RowView row_view(const TaskRecord& record, const std::vector<FieldView>& fields) {
    RowView row;
    row.id = record.id;
    row.status = record.status;
    row.attempts = record.attempts;
    row.worker = record.worker;
    row.device = record.device;
    row.node = &record.node;
    row.start = record.start;
    row.wall_s = record.wall_s;
    row.exit_code = record.exit_code;
    row.error = &record.error;
    row.fields = fields.data();
    row.n_fields = fields.size();
    return row;
}

/// Result values buffered before a flush whatever flush_rows says (wide arrays, long strings).
constexpr std::size_t kFlushValueBytes = std::size_t{32} << 20;

struct StoreOptions {
    std::string path;
    std::string command;  ///< the command line, kept in the root attribute "command"
    int mpi_size = 1;
    bool overwrite = false;  ///< replace an existing file (create only)
    /// Flush once this many records are buffered (0 acts as 1), or kFlushValueBytes of their
    /// result values. A chunk's rows (65,536 at most): each flush rewrites the chunks it
    /// touches whole, so a smaller batch writes a chunk many times (4,096: 14x the file's
    /// bytes, bench/README.md).
    std::size_t flush_rows = 65536;
    std::chrono::milliseconds flush_interval{2000};  ///< or once the oldest is this old
    /// Records go to the journal (one write(2)) at once when their task ran this long or
    /// longer (journal_slow_results()), else at the first maybe_flush() after they arrive but
    /// not more often than this: faster ones are batched.
    std::chrono::microseconds journal_interval{1000};
    /// Told what the store notices and carries on from (a journal ignored or replayed, a
    /// failure to finish the file in the destructor); the store never prints. Empty: nobody.
    std::function<void(MessageLevel, const std::string&)> on_message;
    /// Ownership (store/file_owner.hpp): take the file whatever its owner record says, and
    /// the heartbeat of this run's record and the age after which another host's is stale.
    bool break_lock = false;
    std::chrono::duration<double> heartbeat_interval{10.0};
    std::chrono::duration<double> stale_after{60.0};
};

class ResultStore {
public:
    /// Creates a new file for `grid`, with /params written and every task pending. An
    /// existing file is refused unless options.overwrite; then it is replaced only once the
    /// new file is complete (written beside it, then renamed), so a failure loses nothing.
    /// Both this and open_for_resume first take the file for this run (store/file_owner.hpp):
    /// a file in use by another sweep is refused (store::OwnedElsewhere), and so is a file
    /// this user may not write (read-only mode or filesystem, another user's).
    static ResultStore create(const Grid& grid, const StoreOptions& options);
    /// Opens an existing file to resume. Refuses a file that is not an mpisweep file or was
    /// made by a different grid (the message says which axis differs).
    static ResultStore open_for_resume(const Grid& grid, const StoreOptions& options);

    ResultStore(ResultStore&&) noexcept;
    ResultStore& operator=(ResultStore&&) noexcept;
    ~ResultStore();  ///< flushes and closes; never throws (errors go to StoreOptions::on_message)

    /// The tasks settled in the file (for the scheduler on resume), with the records buffered
    /// but not yet written laid over: sorted runs, as many as it takes to describe the
    /// settled tasks, whatever the grid's size. Reads only the stored chunks of the file.
    SettledTasks settled() const;
    std::uint64_t size() const;

    /// Buffers a record; flushes when a batch is full. A result field whose type conflicts
    /// with its column throws StoreError naming the field and both types, before buffering;
    /// so do an invalid field name, a task id >= size() and a pending status.
    void record(TaskRecord record);
    /// Throws StoreError, as record() would, when the results of task `id` cannot go into
    /// the file (a bad field name, an empty array, a value its column cannot hold); changes
    /// nothing. The master calls this before the scheduler hears "done": a result the file
    /// cannot take is a failed attempt.
    void check(TaskId id, const FieldView* fields, std::size_t n_fields);
    /// record() without a TaskRecord. When the last call was a check() that accepted this
    /// row's id and fields, they are not checked again.
    void record(const RowView& row);
    /// The master calls this every turn: writes the records not journaled yet to the journal
    /// when the last journal write is journal_interval old (at once for a record that comes
    /// alone), and flushes to HDF5 when the oldest buffered record is older than
    /// flush_interval (fsync-ing the file and the journal when the last fsync is that old).
    void maybe_flush();
    /// Writes the records not journaled yet to the journal when one of them is of a task that
    /// ran journal_interval or longer: the master calls it after each report, before that
    /// worker gets more work. Faster results wait for maybe_flush(), batched.
    void journal_slow_results();
    /// Writes the records not journaled yet to the journal now (before this process blocks
    /// in a task: a rank working alone).
    void write_journal();
    /// How long until maybe_flush() has something to write (the master wakes for it);
    /// duration::max() when nothing is buffered.
    std::chrono::duration<double> next_write_in() const;
    /// Writes buffered records, H5Fflush-es the file and fsyncs it and the journal.
    void flush();
    /// Flushes and closes; the object is unusable afterwards.
    void close();
    /// The first write of the file or journal that failed for want of space or a failing disk
    /// (StoreWriteError), null while there was none. From then on the store writes no more to
    /// the HDF5 file and no Commit to the journal (the file may be torn: --resume rebuilds it
    /// from the journal); records still go to the journal, while it takes them, so that what
    /// is recorded stays settled. record() and the flushes do not throw it: the caller asks
    /// here (the master stops the sweep, exit 75), and close() closes what it can, quietly.
    const StoreWriteError* write_failure() const;
    /// Records the journal could not take after a write failure (kept for one last try at the
    /// close): their tasks run again on --resume unless that try succeeds.
    std::uint64_t unjournaled() const;
    /// The sweep's live view, kept in the owner record for `status --running`; written by the
    /// record's own thread, not the caller's. Ignored after close().
    void publish_live(store::LiveSnapshot snapshot);

    const std::string& path() const;

    /// The state behind the store (store/store_impl.hpp), named here so that the store's own
    /// files can share it.
    struct Impl;
    explicit ResultStore(std::unique_ptr<Impl> impl);

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace mpisweep
