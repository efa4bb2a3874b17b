// ResultStore: recording (validate, stage, journal) and flushing in batches
// (store/file_writer.hpp). Every record goes to the journal beside the file as soon as the master
// hands it over (at most journal_interval later, when records come faster than that), and
// every batch is in the journal before its HDF5 write (store/journal_codec.hpp): resume writes
// the journaled records the file does not hold into it, and rebuilds a file killed in the
// middle of a write from the journal (store_resume.cpp).
#include "store/result_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "grid/utf8.hpp"
#include "store/store_impl.hpp"

namespace mpisweep {

StoreWriteError::StoreWriteError(const std::string& what, std::string path, int error)
    : StoreError("cannot write " + what + " '" + path + "': " + std::strerror(error) + " (errno " +
                 std::to_string(error) + ")"),
      path_(std::move(path)),
      error_(error) {}

void no_hdf5_cleanup_at_exit() noexcept {
    (void)H5dont_atexit();  // fails, harmlessly, once HDF5 has started
}

bool is_storage_errno(int error) {
    return error == ENOSPC || error == EDQUOT || error == EFBIG || error == EIO;
}

std::optional<StoreWriteError> storage_failure(const std::string& what, const std::string& path, int error) {
    if (!is_storage_errno(error)) return std::nullopt;
    return StoreWriteError(what, path, error);
}

// ---- recording ---------------------------------------------------------------------------

void ResultStore::Impl::refuse_row(TaskId id, TaskStatus status) const {
    check_open();
    if (id.value() >= n_tasks)
        throw StoreError("task id " + std::to_string(id.value()) + " is out of range: '" + path +
                         "' holds tasks 0.." + std::to_string(n_tasks - 1));
    if (status == TaskStatus::Pending)
        throw StoreError("task " + std::to_string(id.value()) +
                         ": a record must be done or failed, not pending");
    throw StoreError("task " + std::to_string(id.value()) + ": refused");  // not reached
}

// Inlined into its callers here, as record_row is: each call layer is paid once per task
// (bench/README.md, "Batching against mpi4py's best chunksize").
[[gnu::always_inline]] inline void ResultStore::Impl::stage_validated(const RowView& row) {
    if (journal) {
        frame.add(row);
        if (row.wall_s * 1e6 >= static_cast<double>(options.journal_interval.count())) slow_result = true;
    }
    if (staging.rows.empty()) oldest_staged = Clock::now();
    staging.stage(row);
}

void ResultStore::Impl::add(TaskRecord& record) {
    check_row(record.id, record.status);
    view_fields(record.results, record_fields);
    staging.validate(record_fields.data(), record_fields.size());
    stage_validated(row_view(record, record_fields));
}

[[gnu::always_inline]] inline void ResultStore::Impl::record_row(const RowView& given, bool fields_checked) {
    check_row(given.id, given.status);
    if (!fields_checked) staging.validate(given.fields, given.n_fields);
    // The usual row (no error, no failed attempts of an earlier run) is staged as it came.
    if (given.error == nullptr && at_open.failed_attempts.empty()) {
        stage_validated(given);
    } else {
        RowView row = given;
        // An error message quotes the task's own output, which may be any bytes.
        if (row.error != nullptr &&
            (row.error->find('\0') != std::string::npos || detail::first_invalid_utf8(*row.error))) {
            clean_error = detail::to_valid_utf8(*row.error);
            row.error = &clean_error;
        }
        if (!at_open.failed_attempts.empty()) {
            auto prior = at_open.failed_attempts.find(row.id.value());
            if (prior != at_open.failed_attempts.end()) row.attempts += prior->second;
        }
        stage_validated(row);
    }
    // Only a flush of a full batch holds the /tasks chunks still filling: rows come fast then,
    // and the next full batch follows soon.
    if (staging.rows.size() >= std::max<std::size_t>(1, options.flush_rows))
        write_buffer(sync_due(Clock::now()));
    else if (staging.value_bytes >= kFlushValueBytes)
        write_buffer(sync_due(Clock::now()), true);
}

// ---- writing -----------------------------------------------------------------------------

// What reached the master is settled once this returns: a kill from here on finds it in the
// journal. The Commit after it repeats the last one's offset: the HDF5 file holds the same
// rows as before and no write of it is under way (resume writes these records into it).
void ResultStore::Impl::journal_received() {
    if (frame.count() == 0) return;
    if (write_failure) return journal_only();
    commit_frame.clear();
    store::append_commit_frame(committed, commit_frame);
    try {
        journal.append(frame.seal(), commit_frame);
    } catch (const StoreWriteError& e) {
        note_failure(e);
        journal_failed = true;
        return;
    }
    frame_journaled();
    keep_reserve();
}

void ResultStore::Impl::journal_only(bool mark) {
    staging.clear();  // never written to the file now: --resume takes them from the journal
    if (!journal || journal_failed || (frame.count() == 0 && !mark)) return;
    try {
        journal.append(frame.seal());
    } catch (const StoreWriteError&) {
        journal_failed = true;  // kept for one last try at the close
        return;
    }
    frame_journaled();
}

bool ResultStore::Impl::absorb_write_failure() {
    try {
        throw;
    } catch (const StoreWriteError& e) {
        note_failure(e);
        return true;
    } catch (const h5::H5Error& e) {
        const std::optional<StoreWriteError> failure =
            storage_failure("the results file", path, e.system_error());
        if (failure) note_failure(*failure);
        return failure.has_value();
    } catch (...) {
        return false;
    }
}

// Before an HDF5 write: the records not journaled yet, in a Records frame that is there even
// when empty, since a Records frame after the last Commit says an HDF5 write was under way.
void ResultStore::Impl::journal_records() {
    journal.append(frame.seal());
    frame_journaled();
}

// After H5Fflush (or H5Fclose) returned: the file holds every record before this point.
void ResultStore::Impl::journal_commit() {
    commit_frame.clear();
    const std::uint64_t offset = writer.held_from().value_or(journal.size());
    store::append_commit_frame(offset, commit_frame);
    journal.append(commit_frame);
    committed = offset;
    period_start = journal.size();
}

void ResultStore::Impl::start_sync() {
    if (syncer.start(writer.descriptor(), journal ? journal.descriptor() : -1)) synced_at = Clock::now();
}

void ResultStore::Impl::take_sync_failure() {
    const std::optional<store::SyncFailure> failure = syncer.take_failure();
    if (!failure) return;
    // Said as an fsync on this thread would say it; a full or failing disk stops the sweep.
    try {
        if (failure->journal) store::JournalWriter::fsync_failed(journal.path(), failure->error);
        store::FileWriter::fsync_failed(path, failure->error);
    } catch (const StoreWriteError& e) {
        note_failure(e);
    }
}

// A full or failing disk on the way (the journal, the HDF5 writes, the fsyncs) does not throw:
// it becomes write_failure, the master's cue to stop. The Records frame went first, so every
// record is in the journal, and no Commit follows it: the file may be torn.
void ResultStore::Impl::write_buffer(bool sync, bool everything) {
    take_sync_failure();
    if (write_failure) return journal_only();
    const bool was_holding = writer.held_from().has_value();
    if (staging.rows.empty() && !(everything && was_holding)) return;
    const h5::SilenceErrors quiet;
    if (owner) owner->check();  // a run whose file was taken over writes nothing more
    try {
        if (journal) journal_records();
        const bool hold = journal && !everything;
        writer.write(staging, hold ? std::optional<std::uint64_t>(period_start) : std::nullopt);
        if (!hold) writer.write_held();
        if (!was_holding) held_at = Clock::now();
        writer.flush();
        if (journal) journal_commit();
        // The master never waits for the disk here: a thread of its own fsyncs (a node
        // crash loses what came after the last fsync that ended).
        if (sync || syncer.due_by_pace(Clock::now())) start_sync();
    } catch (...) {
        if (!absorb_write_failure()) throw;
        return journal_only();
    }
    keep_reserve();
}

void ResultStore::Impl::finish() {
    if (closed) return;
    const h5::SilenceErrors quiet;
    syncer.wait();  // before the descriptors close
    if (owner) owner->check();
    take_sync_failure();
    if (write_failure) return finish_failed();
    try {
        // H5Fclose writes to the file too: a Records frame (empty when nothing is staged)
        // marks the close as a write under way until its Commit.
        if (journal) journal_records();
        writer.write(staging);
        writer.write_held();
        const bool final_file = journal && writer.every_task_done();
        closed = true;
        writer.close();
        store::FileWriter::sync_closed(path);
        if (journal) {
            journal_commit();
            // Every task done: nothing will write the file again, so it needs no journal
            // (the file is on the disk: no need to fsync what is removed).
            if (!final_file) journal.sync();
            journal.close();
            if (final_file) store::remove_journal_file(journal.path());
        }
    } catch (...) {
        if (!absorb_write_failure()) throw;
        return finish_failed();
    }
    if (owner) owner->release();  // last: the file and journal are complete
}

void ResultStore::Impl::finish_failed() {
    closed = true;
    journal_failed = false;  // one last try: the space may be back
    // Even empty: the last frame a Records one, --resume repairs the file whatever the close
    // below leaves of it.
    journal_only(true);
    // The HDF5 file is abandoned, not closed: H5Dclose and H5Fclose flush HDF5's caches and
    // fail again on a full disk, and a failed H5Fclose (HDF5 1.10) leaves an id whose file is
    // half torn down, which the library's own clean-up at exit then crashes on. So its ids
    // stay open (the writer is moved into an object never destroyed), nothing more is
    // written, and the descriptor goes with the process; the mpisweep program does not run
    // HDF5's clean-up at exit (H5dont_atexit). The file may be torn: no Commit follows the
    // journal's last Records frame, so --resume rebuilds it from the journal.
    static_cast<void>(new store::FileWriter(std::move(writer)));
    if (journal) {
        try {
            journal.sync();
        } catch (const std::exception&) {}
        journal.close();
    }
    if (owner) owner->release();  // the next run may take the file: the journal is whole
}

// ---- public interface --------------------------------------------------------------------

ResultStore::ResultStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultStore::ResultStore(ResultStore&&) noexcept = default;
ResultStore& ResultStore::operator=(ResultStore&& other) noexcept {
    if (this != &other) {
        ResultStore old(std::move(*this));  // flushes and closes what this held
        impl_ = std::move(other.impl_);
    }
    return *this;
}

ResultStore::~ResultStore() {
    if (!impl_ || impl_->closed) return;
    try {
        impl_->finish();
    } catch (const std::exception& e) {
        tell(impl_->options, MessageLevel::Error,
             "could not finish writing '" + impl_->path + "': " + e.what());
    } catch (...) {
        tell(impl_->options, MessageLevel::Error, "could not finish writing '" + impl_->path + "'");
    }
}

namespace {

// `file` with the (id, status) points laid over it (ascending ids, no id twice): O(runs +
// points), never one entry per settled task.
SettledTasks overlay(const SettledTasks& file,
                     const std::vector<std::pair<std::uint64_t, TaskStatus>>& points) {
    SettledTasks out;
    std::size_t p = 0;
    for (const SettledRun& run : file.runs()) {
        std::uint64_t at = run.first;
        for (; p < points.size() && points[p].first < run.end(); ++p) {
            const auto [id, status] = points[p];
            if (id >= at) {
                if (id > at) out.add(at, id - at, run.status);
                at = id + 1;
            }
            out.add(id, 1, status);
        }
        if (run.end() > at) out.add(at, run.end() - at, run.status);
    }
    for (; p < points.size(); ++p) out.add(points[p].first, 1, points[p].second);
    return out;
}

}  // namespace

SettledTasks ResultStore::settled() const {
    if (!impl_) throw StoreError("results store was moved from");
    impl_->check_open();
    const h5::SilenceErrors quiet;
    // Records staged but not written yet (none on resume, which writes what it replays) are
    // laid over the file's rows: the later record of an id wins.
    const store::TaskRows& rows = impl_->staging.rows;
    std::vector<std::pair<std::uint64_t, TaskStatus>> staged;
    for (std::size_t i = 0; i < rows.size(); ++i)
        staged.emplace_back(rows.ids[i], static_cast<TaskStatus>(rows.status[i]));
    std::stable_sort(staged.begin(), staged.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::uint64_t, TaskStatus>> last;
    for (std::size_t i = 0; i < staged.size(); ++i)
        if (i + 1 == staged.size() || staged[i + 1].first != staged[i].first) last.push_back(staged[i]);
    return overlay(impl_->writer.settled(), last);
}

std::uint64_t ResultStore::size() const {
    return impl_ ? impl_->n_tasks : 0;
}

void ResultStore::record(TaskRecord record) {
    if (!impl_) throw StoreError("results store was moved from");
    Impl& s = *impl_;
    s.checked.valid = false;
    view_fields(record.results, s.record_fields);
    s.record_row(row_view(record, s.record_fields), false);
}

void ResultStore::check(TaskId id, const FieldView* fields, std::size_t n_fields) {
    if (!impl_) throw StoreError("results store was moved from");
    Impl::Checked& checked = impl_->checked;
    checked.valid = false;
    impl_->staging.validate(fields, n_fields);
    checked = Impl::Checked{id, fields, n_fields, true};
}

void ResultStore::record(const RowView& row) {
    if (!impl_) throw StoreError("results store was moved from");
    Impl::Checked& c = impl_->checked;
    const bool checked = c.valid && c.id == row.id && c.fields == row.fields && c.n_fields == row.n_fields;
    c.valid = false;
    impl_->record_row(row, checked);
}

void ResultStore::maybe_flush() {
    if (!impl_ || impl_->closed) return;
    Impl& s = *impl_;
    if (s.frame.count() == 0 && s.staging.rows.empty() && !s.writer.held_from()) return;
    const Impl::Clock::time_point now = Impl::Clock::now();
    if (!s.staging.rows.empty() && now - s.oldest_staged >= s.options.flush_interval) {
        s.write_buffer(s.sync_due(now), true);
    } else if (s.writer.held_from() && now - s.held_at >= s.options.flush_interval) {
        s.write_buffer(s.sync_due(now), true);  // rows stopped coming: the held chunks go too
    } else if (s.frame.count() > 0 && now - s.journaled_at >= s.options.journal_interval) {
        s.journal_received();
    }
}

void ResultStore::journal_slow_results() {
    if (impl_ && impl_->slow_result && !impl_->closed) impl_->journal_received();
}

void ResultStore::write_journal() {
    if (impl_ && !impl_->closed && impl_->journal) impl_->journal_received();
}

std::chrono::duration<double> ResultStore::next_write_in() const {
    using Seconds = std::chrono::duration<double>;
    Seconds wait = Seconds::max();
    if (!impl_ || impl_->closed) return wait;
    const Impl& s = *impl_;
    // After a failed append nothing is tried again before the close: no reason to wake.
    if (s.write_failure && s.journal_failed) return wait;
    const Impl::Clock::time_point now = Impl::Clock::now();
    if (!s.staging.rows.empty()) wait = s.oldest_staged + s.options.flush_interval - now;
    if (s.writer.held_from()) wait = std::min<Seconds>(wait, s.held_at + s.options.flush_interval - now);
    if (s.frame.count() > 0)
        wait = std::min<Seconds>(wait, s.journaled_at + s.options.journal_interval - now);
    return std::max(wait, Seconds::zero());
}

void ResultStore::flush() {
    if (!impl_) throw StoreError("results store was moved from");
    impl_->check_open();
    impl_->write_buffer(true, true);
}

void ResultStore::close() {
    if (!impl_) return;
    impl_->finish();
}

const StoreWriteError* ResultStore::write_failure() const {
    return impl_ && impl_->write_failure ? &*impl_->write_failure : nullptr;
}

std::uint64_t ResultStore::unjournaled() const {
    return impl_ && impl_->write_failure && impl_->journal_failed ? impl_->frame.count() : 0;
}

void ResultStore::publish_live(store::LiveSnapshot snapshot) {
    if (impl_ && !impl_->closed && impl_->owner) impl_->owner->publish(std::move(snapshot));
}

const std::string& ResultStore::path() const {
    static const std::string none;
    return impl_ ? impl_->path : none;
}

}  // namespace mpisweep
