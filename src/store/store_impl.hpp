#pragma once
// The state behind a ResultStore, shared by its files: result_store.cpp (recording and
// flushing), store_open.cpp (create, open an existing file) and store_resume.cpp (resume
// with the journal). Ingestion is store/staging.hpp, the HDF5 writes store/file_writer.hpp.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/background_sync.hpp"
#include "store/file_owner.hpp"
#include "store/file_writer.hpp"
#include "store/journal_file.hpp"
#include "store/result_store.hpp"
#include "store/staging.hpp"

namespace mpisweep {

/// Passes a message to StoreOptions::on_message, if set; what it throws is ignored (this runs
/// in a destructor too). The store never prints.
inline void tell(const StoreOptions& options, MessageLevel level, const std::string& text) noexcept {
    if (!options.on_message) return;
    try {
        options.on_message(level, text);
    } catch (...) {}
}

/// A results file that exists but cannot be read as one: a journal may repair it.
class UnreadableFile : public StoreError {
public:
    using StoreError::StoreError;
};

struct ResultStore::Impl {
    using Clock = std::chrono::steady_clock;

    // First, so that it is released last: the record goes once the file and journal are closed.
    std::unique_ptr<store::FileOwner> owner;

    std::string path;
    StoreOptions options;
    std::uint64_t n_tasks = 0;
    bool closed = false;

    store::FileWriter writer;
    store::Staging staging;
    Clock::time_point oldest_staged{};
    // The last write of records to the journal, and the last fsync of the file and journal
    // (at first: long ago).
    Clock::time_point journaled_at = Clock::now() - std::chrono::hours(24 * 365);
    Clock::time_point synced_at = journaled_at;

    // Resume: what the file held when opened; attempts of its failed rows (only those run
    // again, and a record's attempts are added to them).
    store::RowsAtOpen at_open;

    // The journal (closed, false, while replaying it into a rebuilt file); the staged records
    // encoded as they arrive, and a buffer for Commit frames.
    store::JournalWriter journal;
    std::string clean_error;  ///< a record's error made valid UTF-8 (record_row), reused
    store::RecordsFrame frame;
    std::string commit_frame;
    /// The offset of the last Commit: the HDF5 file holds every record of the frames before
    /// it; those after it are in the journal only (until the next flush).
    std::uint64_t committed = 0;
    /// Where the records of the rows staged since the last flush start in the journal (just
    /// after that flush's Commit).
    std::uint64_t period_start = 0;
    /// When the writer began holding rows in memory (FileWriter::held_from).
    Clock::time_point held_at{};
    /// A record not journaled yet is of a task that ran journal_interval or longer.
    bool slow_result = false;
    /// The first write that failed for want of space (ResultStore::write_failure): from then
    /// on nothing more goes to the HDF5 file, and the journal gets Records frames only.
    std::optional<StoreWriteError> write_failure;
    /// An append of the journal failed: none is tried again before the close.
    bool journal_failed = false;
    /// The fsyncs of the file and journal: after `writer` and `journal`, so that it is
    /// destroyed (its fsync waited for) before their descriptors are closed.
    store::BackgroundSync syncer;

    /// The frame of received records went to the journal: a new one starts.
    void frame_journaled() {
        frame.clear();
        slow_result = false;
        journaled_at = Clock::now();
    }

    void check_open() const {
        if (closed) throw StoreError("results file '" + path + "' is already closed");
    }
    // What the last check() accepted, for the record(RowView) that follows it.
    struct Checked {
        TaskId id;
        const FieldView* fields = nullptr;
        std::size_t n_fields = 0;
        bool valid = false;
    } checked;
    std::vector<FieldView> record_fields;  // views of the TaskRecord being recorded

    /// Throws StoreError for an id outside the grid or a pending record (inline: per row).
    void check_row(TaskId id, TaskStatus status) const {
        if (closed || id.value() >= n_tasks || status == TaskStatus::Pending) refuse_row(id, status);
    }
    [[noreturn]] void refuse_row(TaskId id, TaskStatus status) const;
    /// Encodes a row whose results Staging::validate accepted into the journal frame and
    /// stages it.
    void stage_validated(const RowView& row);
    /// Checks, validates (unless checked) and stages a row from this run: its attempts are
    /// added to those of the file (the journal's then replay the same whatever the file
    /// holds).
    void record_row(const RowView& row, bool fields_checked);
    /// Checks, validates and stages one record whose attempts are absolute (as the journal
    /// holds them).
    void add(TaskRecord& record);
    /// Journal, HDF5 rows, H5Fflush, Commit: one flush. Then an fsync of the file and then
    /// the journal, started on the syncer's thread (a node crash keeps what they hold), when
    /// `sync` or when the syncer's pace allows. With a journal, /tasks chunks still filling
    /// stay in memory (FileWriter::write) unless `everything`: the flush of a full batch
    /// holds them, one by time, by size of values, or asked for (flush()) writes them all.
    void write_buffer(bool sync, bool everything = false);
    /// The records not journaled yet, as a Records frame and a Commit repeating the last
    /// one's offset (no HDF5 write under way), in one write(2). Nothing when there are none.
    void journal_received();
    void journal_records();
    /// Appends a Commit for everything journaled so far, less the records of rows the writer
    /// holds in memory (the Commit names the offset they start at).
    void journal_commit();
    /// fsync of the HDF5 file and of the journal, when `flush_interval` passed since the last
    /// one started.
    bool sync_due(Clock::time_point now) const { return now - synced_at >= options.flush_interval; }
    /// The fsyncs started on the syncer's thread (not when the last one is still under way).
    void start_sync();
    /// An fsync of the syncer's thread that failed: write_failure for a full or failing disk,
    /// else thrown as StoreError.
    void take_sync_failure();
    /// Called in a catch block: a full or failing disk (StoreWriteError, or an H5Error whose
    /// errno says so) becomes write_failure and true; anything else false (rethrow it).
    bool absorb_write_failure();
    void note_failure(const StoreWriteError& error) {
        if (!write_failure) write_failure = error;
    }
    /// The journal's space ahead renewed (JournalWriter::keep_reserve); when the disk has none
    /// left, write_failure (the reserve still there takes the results in flight).
    void keep_reserve() {
        if (!journal || write_failure) return;
        try {
            journal.keep_reserve();
        } catch (const StoreWriteError& e) {
            note_failure(e);
        }
    }
    /// After a write failure: the records not journaled yet to the journal (a Records frame
    /// and no Commit: the file may be torn, and --resume rebuilds it from the journal), none
    /// to the file. `mark`: a Records frame even when there are none (a write under way).
    void journal_only(bool mark = false);
    /// finish() after a write failure: journal_only, the file closed as well as it can be;
    /// throws nothing that the full disk causes.
    void finish_failed();
    /// Writes what is staged and closes the file (and removes the journal once every task is
    /// done). The object is unusable afterwards.
    void finish();

    /// A store writing the complete file at `path` (made by store::write_new_file).
    static std::unique_ptr<Impl> open_new(const std::string& path, const StoreOptions& options,
                                          const Grid& grid);
    /// The ownership of options.path for this run, and the file writable (file_owner.hpp).
    static std::unique_ptr<store::FileOwner> take(const StoreOptions& options, const char* action);
    /// Opens `options.path` as it is. Throws UnreadableFile when it cannot be read (maybe torn
    /// by a kill), StoreError when it is another grid's file or not an mpisweep file.
    static std::unique_ptr<Impl> open_existing(const Grid& grid, const StoreOptions& options);
};

}  // namespace mpisweep
