// ResultStore: recording (validate, stage, journal) and flushing in batches, one H5Dwrite per
// dataset per flush. Every batch goes to the journal beside the file first
// (store/journal_codec.hpp): a kill in the middle of an HDF5 write is repaired on resume by
// rebuilding the file from the journal (store_resume.cpp).
#include "store/result_store.hpp"

#include "store/store_impl.hpp"

namespace mpisweep {

// ---- recording ---------------------------------------------------------------------------

void ResultStore::Impl::check_record(const TaskRecord& record) const {
    check_open();
    if (record.id.value() >= n_tasks)
        throw StoreError("task id " + std::to_string(record.id.value()) + " is out of range: '" + path +
                         "' holds tasks 0.." + std::to_string(n_tasks - 1));
    if (record.status == TaskStatus::Pending)
        throw StoreError("task " + std::to_string(record.id.value()) +
                         ": a record must be done or failed, not pending");
}

void ResultStore::Impl::stage_validated(TaskRecord& record) {
    if (journal) frame.add(record);
    if (staging.rows.empty()) oldest_staged = Clock::now();
    staging.stage(record);
}

void ResultStore::Impl::add(TaskRecord& record) {
    check_record(record);
    staging.validate(record);
    stage_validated(record);
}

// ---- writing -----------------------------------------------------------------------------

// The journal first: once this returns, the staged records are settled (a kill from here on
// finds them in the journal), and a Records frame with no Commit after it says an HDF5 write
// was under way.
void ResultStore::Impl::journal_records() {
    journal.append(frame.seal());
    frame.clear();
}

// After H5Fflush (or H5Fclose) returned: the file holds every record before this point.
void ResultStore::Impl::journal_commit() {
    commit_frame.clear();
    store::append_commit_frame(journal.size(), commit_frame);
    journal.append(commit_frame);
}

void ResultStore::Impl::write_buffer() {
    if (staging.rows.empty()) return;
    if (journal) journal_records();
    writer.write(staging);
    writer.flush();
    if (journal) journal_commit();
}

void ResultStore::Impl::finish() {
    if (closed) return;
    // H5Fclose writes to the file too: a Records frame (empty when nothing is staged) marks
    // the close as a write under way until its Commit.
    if (journal) journal_records();
    writer.write(staging);
    const bool final_file = journal && writer.every_task_done();
    closed = true;
    writer.close();
    if (!journal) return;
    journal_commit();
    journal.close();
    // Every task done: nothing will write the file again, so it needs no journal.
    if (final_file) store::remove_journal_file(journal.path());
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

std::vector<TaskStatus> ResultStore::statuses() const {
    if (!impl_) throw StoreError("results store was moved from");
    impl_->check_open();
    std::vector<TaskStatus> statuses = impl_->writer.statuses();
    const store::TaskRows& rows = impl_->staging.rows;
    for (std::size_t i = 0; i < rows.size(); ++i)
        statuses[rows.ids[i]] = static_cast<TaskStatus>(rows.status[i]);
    return statuses;
}

std::uint64_t ResultStore::size() const {
    return impl_ ? impl_->n_tasks : 0;
}

void ResultStore::record(TaskRecord record) {
    if (!impl_) throw StoreError("results store was moved from");
    Impl& s = *impl_;
    s.check_record(record);
    s.staging.validate(record);
    // Absolute attempts: the journal's records then replay the same whatever the file holds.
    if (!s.at_open.failed_attempts.empty()) {
        auto prior = s.at_open.failed_attempts.find(record.id.value());
        if (prior != s.at_open.failed_attempts.end()) record.attempts += prior->second;
    }
    s.stage_validated(record);
    if (s.staging.rows.size() >= std::max<std::size_t>(1, s.options.flush_rows)) s.write_buffer();
}

void ResultStore::maybe_flush() {
    if (!impl_ || impl_->closed) return;
    impl_->writer.write_params_slice();
    if (impl_->staging.rows.empty()) return;
    if (Impl::Clock::now() - impl_->oldest_staged >= impl_->options.flush_interval) impl_->write_buffer();
}

void ResultStore::flush() {
    if (!impl_) throw StoreError("results store was moved from");
    impl_->check_open();
    impl_->write_buffer();
}

void ResultStore::close() {
    if (!impl_) return;
    impl_->finish();
}

const std::string& ResultStore::path() const {
    static const std::string none;
    return impl_ ? impl_->path : none;
}

}  // namespace mpisweep
