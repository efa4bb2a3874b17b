// Resuming a results file with its journal: the file as it is when its journal says no write
// was under way; otherwise repaired from the journal (replayed on top, or the file rebuilt).
#include <sys/stat.h>

#include "store/pending_file.hpp"
#include "store/spec_diff.hpp"
#include "store/store_impl.hpp"

namespace mpisweep {

namespace {

std::string not_resumable(const std::string& path, const std::string& why) {
    return "cannot resume from '" + path + "': " + why;
}

store::FileIdentity identity_of(const store::JournalHeader& header) {
    return store::FileIdentity{header.file_id, header.created, header.mpi_size, header.command};
}

// The journal beside a results file, with the bytes its scan points into.
struct ExistingJournal {
    std::string path;
    std::string bytes;
    store::JournalScan scan;
};

// The journal beside `path`, if there is one. A damaged header is refused, touching nothing:
// the journal may hold settled tasks the file does not (replacing it would run them again, or
// leave a torn file without its repair), and only a person can tell it is not needed.
std::optional<ExistingJournal> read_existing_journal(const std::string& path,
                                                     const std::string& journal_path) {
    std::optional<std::string> bytes = store::read_whole_file(journal_path);
    if (!bytes) return std::nullopt;
    ExistingJournal journal{journal_path, std::move(*bytes), {}};
    try {
        journal.scan = store::scan_journal(journal.bytes);
    } catch (const store::JournalError& e) {
        throw StoreError(
            not_resumable(path, "its journal '" + journal_path + "' is damaged (" + e.what() +
                                    "), and it may hold tasks the file does not: move it aside to "
                                    "resume from the file alone (those tasks then run again)"));
    }
    return journal;
}

// Refuses a journal made by another grid, touching nothing.
void check_journal_grid(const ExistingJournal& journal, const Grid& grid, const std::string& path) {
    const store::JournalHeader& header = journal.scan.header;
    std::string difference = store::describe_spec_difference(header.spec, grid.to_json());
    if (difference.empty() && header.n_tasks != grid.size())
        difference = "it holds " + std::to_string(header.n_tasks) + " tasks, this grid has " +
                     std::to_string(grid.size());
    if (!difference.empty())
        throw StoreError(not_resumable(
            path, "its journal '" + journal.path + "' was made by a different grid: " + difference +
                      " (give the same parameters to resume, or --force to start over)"));
}

// Every record of the journal's Records frames from offset `from` on, in order, staged into
// `impl` (whose journal is closed: they are not journaled again); `flush_every` records
// written at a time (0: none written).
void stage_journal(ResultStore::Impl& impl, const store::JournalScan& scan, std::size_t flush_every,
                   std::uint64_t from) {
    std::vector<TaskRecord> records;
    for (const store::FrameInfo& frame : scan.frames) {
        if (frame.kind != store::FrameKind::Records || frame.offset < from) continue;
        records.clear();
        store::decode_records(frame, records);
        for (TaskRecord& record : records) impl.add(record);
        if (flush_every > 0 && impl.staging.rows.size() >= flush_every) impl.writer.write(impl.staging);
    }
}

// Every record of the journal written into `impl`'s file, in order.
void replay(ResultStore::Impl& impl, const store::JournalScan& scan, std::size_t flush_every) {
    stage_journal(impl, scan, flush_every, 0);
    impl.writer.write(impl.staging);
}

// Writes a fresh file from `grid` beside the path, replays every record of the journal into
// it in order, and renames it onto the path: the torn file's settled rows all come back.
void rebuild_from_journal(const Grid& grid, const StoreOptions& options, const store::JournalScan& scan) {
    store::PendingFile pending(options.path);
    store::write_new_file(pending.path(), grid, identity_of(scan.header));
    std::unique_ptr<ResultStore::Impl> rebuilt = ResultStore::Impl::open_new(pending.path(), options, grid);
    replay(*rebuilt, scan, 65536);
    rebuilt->finish();
    pending.commit();
}

// The file needs the journal's records after its last Commit (or cannot be read at all):
// replays them on top of it, or rebuilds it. Returns the repaired file, opened.
std::unique_ptr<ResultStore::Impl> repair(std::unique_ptr<ResultStore::Impl> impl,
                                          const std::string& open_error, const ExistingJournal& journal,
                                          const Grid& grid, const StoreOptions& options) {
    const std::string& path = options.path;
    if (!journal.scan.header.since_creation) {
        if (!impl)
            throw StoreError(not_resumable(path, open_error + "; its journal '" + journal.path +
                                                     "' started after rows were already written, so the "
                                                     "file cannot be rebuilt from it"));
        // The journal covers this file's rows written since it started: replay it on top.
        replay(*impl, journal.scan, 0);
        impl->writer.flush();
        return impl;
    }
    const bool was_open = impl != nullptr;
    impl.reset();  // closes the torn file before it is replaced
    tell(options, MessageLevel::Warning,
         "'" + path + "' " +
             (was_open ? "was left in the middle of a write (killed, or its disk full)"
                       : "cannot be read (" + open_error + ")") +
             "; rebuilding it from its journal '" + journal.path + "'");
    try {
        rebuild_from_journal(grid, options, journal.scan);
    } catch (const StoreError&) {
        throw;
    } catch (const h5::H5Error& e) {
        // One line, not HDF5's stack.
        if (auto failure = storage_failure("the results file", path, e.system_error())) throw *failure;
        throw StoreError(
            not_resumable(path, std::string("rebuilding it from its journal failed: ") + e.what()));
    } catch (const std::exception& e) {
        throw StoreError(
            not_resumable(path, std::string("rebuilding it from its journal failed: ") + e.what()));
    }
    return ResultStore::Impl::open_existing(grid, options);
}

// No HDF5 write was under way: the file is whole, but the records journaled as they arrived
// after its last Commit are not in it yet. Writes them, bracketed in the journal as any
// flush (a Records frame, here empty, then the Commit), and opens the journal for this run.
void write_journaled_only(ResultStore::Impl& impl, const store::JournalScan& scan,
                          const std::string& journal_path) {
    const std::uint64_t from = scan.committed_offset();
    stage_journal(impl, scan, 0, from);  // the journal is not open yet: not journaled again
    impl.journal = store::JournalWriter(journal_path, scan);
    impl.committed = from;
    impl.period_start = impl.journal.size();
    if (impl.staging.rows.empty()) return;
    // This run adds its attempts to those of the failed rows the file holds: these now.
    const store::TaskRows& rows = impl.staging.rows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (static_cast<TaskStatus>(rows.status[i]) == TaskStatus::Failed)
            impl.at_open.failed_attempts[rows.ids[i]] = rows.attempts[i];
        else
            impl.at_open.failed_attempts.erase(rows.ids[i]);
    }
    impl.journal_records();
    impl.writer.write(impl.staging);
    impl.writer.flush();
    impl.journal_commit();
}

// No journal (a file from before journals, or one created but killed before its journal
// was): starts one. It can rebuild the file only if no row was written before it.
void start_journal(ResultStore::Impl& impl, const Grid& grid, const StoreOptions& options) {
    store::JournalHeader header;
    header.n_tasks = grid.size();
    header.file_id = store::new_journal_id();
    const std::uint64_t settled = impl.at_open.done + impl.at_open.failed;
    header.since_creation = settled == 0;
    const hid_t file = impl.writer.file();
    header.mpi_size = h5::has_attribute(file, "mpi_size")
                          ? static_cast<std::int32_t>(h5::read_int64_attribute(file, "mpi_size"))
                          : options.mpi_size;
    header.created = h5::has_attribute(file, "created") ? h5::read_string_attribute(file, "created")
                                                        : store::utc_timestamp();
    header.spec = grid.to_json();
    header.command =
        h5::has_attribute(file, "command") ? h5::read_string_attribute(file, "command") : options.command;
    store::write_journal_id(file, header.file_id);
    impl.writer.flush();
    const std::string journal_path = store::journal_path_of(options.path);
    store::create_journal_file(journal_path, header);
    if (settled > 0 && impl.at_open.done < impl.n_tasks)
        tell(options, MessageLevel::Warning,
             "'" + options.path +
                 "' has no journal (it was made before journals, or its journal was moved aside); a new one "
                 "is started, but if this run is "
                 "killed in the middle of a write, the " +
                 std::to_string(settled) + " rows written before cannot be rebuilt");
    impl.journal = store::JournalWriter(journal_path, store::encode_header(header).size());
    impl.committed = impl.journal.size();
    impl.period_start = impl.committed;
}

}  // namespace

ResultStore ResultStore::open_for_resume(const Grid& grid, const StoreOptions& options) {
    const h5::SilenceErrors quiet;
    const std::string& path = options.path;
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0)
        throw StoreError("cannot resume from '" + path +
                         "': no such file (leave out --resume to start a new sweep)");
    // Before the journal or the file is read: a file in use is refused naming its owner.
    std::unique_ptr<store::FileOwner> owner = Impl::take(options, "resume from");
    std::optional<ExistingJournal> journal = read_existing_journal(path, store::journal_path_of(path));
    if (journal) check_journal_grid(*journal, grid, path);

    // The file as it is; an error here may be a torn file that the journal repairs.
    std::unique_ptr<Impl> impl;
    std::string open_error;
    try {
        impl = Impl::open_existing(grid, options);
    } catch (const UnreadableFile& e) {
        if (!journal) throw;
        open_error = e.what();
    }
    if (impl && journal && store::read_journal_id(impl->writer.file()) != journal->scan.header.file_id) {
        // The journal of another file at this path (a --force run killed between its two
        // renames): it says nothing about this file.
        tell(options, MessageLevel::Warning,
             "'" + journal->path + "' belongs to another results file; replacing it");
        journal.reset();
    }
    if (!journal) {
        start_journal(*impl, grid, options);
        impl->owner = std::move(owner);
        return ResultStore(std::move(impl));
    }
    const bool needs_repair = !impl || !journal->scan.settled_in_file();
    if (needs_repair) {
        impl = repair(std::move(impl), open_error, *journal, grid, options);
        impl->journal = store::JournalWriter(journal->path, journal->scan);
        impl->journal_commit();
    } else {
        write_journaled_only(*impl, journal->scan, journal->path);
    }
    impl->owner = std::move(owner);
    return ResultStore(std::move(impl));
}

}  // namespace mpisweep
