// The store's use of its journal as results arrive (journaled before the HDF5 flush) and on
// resume (a torn file rebuilt, replay idempotent, foreign journals ignored, journaled records
// written into the file); the journal file's appends. Files are read back with the HDF5 C API.
#include "unit/journal_test_support.hpp"

namespace mpisweep {
namespace {

using namespace journal_test;
namespace fs = std::filesystem;
using store::FrameKind;

TEST(StoreJournal, CreateWritesAJournalWithTheFilesId) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    const auto bytes = file_bytes(path + ".journal");
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.header.file_id, journal_id_of(path));
    EXPECT_NE(scan.header.file_id, 0u);
    EXPECT_EQ(scan.header.spec, small_grid().to_json());
    EXPECT_EQ(scan.header.command, options_for(path).command);
    EXPECT_TRUE(scan.settled_in_file());
}

TEST(StoreJournal, EveryFlushIsOneRecordsFrameThenOneCommit) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id : {0, 1, 2, 3}) s.record(record_of(id));  // two batches of 2
        const store::JournalScan scan = store::scan_journal(file_bytes(path + ".journal"));
        ASSERT_EQ(scan.frames.size(), 4u);
        EXPECT_EQ(scan.frames[0].kind, FrameKind::Records);
        EXPECT_EQ(scan.frames[1].kind, FrameKind::Commit);
        EXPECT_EQ(scan.frames[2].kind, FrameKind::Records);
        EXPECT_EQ(scan.frames[3].kind, FrameKind::Commit);
    }
    // Closing adds its own Records (empty here) + Commit pair around H5Fclose.
    const store::JournalScan scan = store::scan_journal(file_bytes(path + ".journal"));
    EXPECT_EQ(scan.frames.size(), 6u);
    EXPECT_TRUE(scan.settled_in_file());
}

TEST(StoreJournal, ATornFileIsRebuiltFromTheJournal) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id : {0, 1, 2, 5}) s.record(record_of(id));
        s.record(record_of(7, TaskStatus::Failed));
    }
    const std::uint64_t id = journal_id_of(path);
    // A kill in the middle of a flush: its records reached the journal, the file is torn.
    append_uncommitted(path + ".journal", {record_of(9), record_of(10)});
    tear(path);
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        auto st = statuses_of(s);
        for (std::uint64_t done : {0, 1, 2, 5, 9, 10}) EXPECT_EQ(st[done], TaskStatus::Done) << done;
        EXPECT_EQ(st[7], TaskStatus::Failed);
        EXPECT_EQ(st[3], TaskStatus::Pending);
        s.record(record_of(3));
    }
    EXPECT_EQ(journal_id_of(path), id);  // the rebuilt file is the same file to its journal
    const Rows rows = read_rows(path);
    for (std::uint64_t done : {0, 1, 2, 3, 5, 9, 10}) {
        EXPECT_EQ(rows.status[done], 1) << done;
        EXPECT_EQ(rows.loss[done], 0.25 * static_cast<double>(done));
        EXPECT_EQ(rows.tag[done], "t" + std::to_string(done));
        EXPECT_EQ(rows.attempts[done], record_of(done).attempts);
    }
    EXPECT_EQ(rows.status[7], 2);
    EXPECT_EQ(rows.error[7], "boom 7");
    EXPECT_EQ(rows.nodes, (std::vector<std::string>{"node-b", "node-a"}));
}

TEST(StoreJournal, ReplayIsIdempotent) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        s.record(record_of(4, TaskStatus::Failed));
    }
    {
        // A resumed run retries task 4 (attempts add up: 2 + 1) and is killed mid-write.
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        TaskRecord retry = record_of(4);
        retry.attempts = 1;
        s.record(retry);
        s.record(record_of(6));
    }
    const Rows expected = read_rows(path);
    EXPECT_EQ(expected.attempts[4], 3);
    for (int round = 0; round < 2; ++round) {
        // The same records again after the last Commit, and the file torn: replayed twice.
        TaskRecord retry = record_of(4);
        retry.attempts = 3;  // the journal holds absolute attempts
        append_uncommitted(path + ".journal", {retry, record_of(6)});
        tear(path);
        ResultStore::open_for_resume(small_grid(), options_for(path)).close();
        const Rows rows = read_rows(path);
        EXPECT_EQ(rows.status, expected.status);
        EXPECT_EQ(rows.attempts, expected.attempts);
        EXPECT_EQ(rows.error, expected.error);
        EXPECT_EQ(rows.nodes, expected.nodes);
    }
}

TEST(StoreJournal, RecordsAfterTheLastCommitRebuildEvenAnIntactFile) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    append_uncommitted(path + ".journal", {record_of(11)});
    auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
    EXPECT_EQ(statuses_of(s)[11], TaskStatus::Done);
}

TEST(StoreJournal, AJournalOfAnotherFileIsReplaced) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    // --force killed between its two renames: the new file, the old file's journal.
    store::JournalHeader foreign = header_for(small_grid().to_json());
    foreign.file_id = 42;
    std::string bytes = store::encode_header(foreign);
    std::vector<TaskRecord> old = {record_of(1)};
    store::append_records_frame({&old[0]}, bytes);
    write_bytes(path + ".journal", bytes);
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        EXPECT_EQ(statuses_of(s)[1], TaskStatus::Pending);
    }
    EXPECT_EQ(store::scan_journal(file_bytes(path + ".journal")).header.file_id, journal_id_of(path));
}

TEST(StoreJournal, AJournalOfAnotherGridIsRefusedAndNothingIsTouched) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    ResultStore::create(small_grid(), options_for(path)).close();
    Grid other;
    other.add(Axis::range("a", 0, 4));
    other.add(Axis::list("b", {Value(std::string("x")), Value(std::string("y")), Value(std::string("w"))}));
    store::JournalHeader header = header_for(other.to_json());
    header.file_id = journal_id_of(path);
    write_bytes(path + ".journal", store::encode_header(header));
    const std::string file_before = file_bytes(path);
    const std::string journal_before = file_bytes(path + ".journal");
    try {
        ResultStore::open_for_resume(small_grid(), options_for(path));
        FAIL() << "expected a StoreError";
    } catch (const StoreError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("journal"), std::string::npos) << message;
        EXPECT_NE(message.find("'b'"), std::string::npos) << message;
    }
    EXPECT_EQ(file_bytes(path), file_before);
    EXPECT_EQ(file_bytes(path + ".journal"), journal_before);
}

TEST(StoreJournal, ATornJournalTailIsCutBeforeAppending) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        s.record(record_of(0));
        s.record(record_of(1));
    }
    std::string bytes = file_bytes(path + ".journal");
    std::vector<TaskRecord> torn = {record_of(2)};
    std::string frame;
    store::append_records_frame({&torn[0]}, frame);
    write_bytes(path + ".journal", bytes + frame.substr(0, frame.size() / 2));
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        EXPECT_EQ(statuses_of(s)[2], TaskStatus::Pending);  // never settled: it runs again
        s.record(record_of(2));
        s.record(record_of(3));
    }
    // The scan holds views into the bytes: keep them alive while it is used.
    const std::string journal = file_bytes(path + ".journal");
    const store::JournalScan scan = store::scan_journal(journal);
    EXPECT_FALSE(scan.torn_tail);
    std::vector<TaskRecord> all;
    for (const auto& f : scan.frames)
        if (f.kind == FrameKind::Records) store::decode_records(f, all);
    EXPECT_EQ(all.size(), 4u);
}

TEST(StoreJournal, TheJournalIsRemovedOnceEveryTaskIsDone) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id = 0; id < 11; ++id) s.record(record_of(id));
    }
    EXPECT_TRUE(fs::exists(path + ".journal"));
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        s.record(record_of(11));
    }
    EXPECT_FALSE(fs::exists(path + ".journal"));
    EXPECT_EQ(read_rows(path).status, std::vector<std::int8_t>(12, 1));
}

TaskRecord float_record(std::uint64_t id) {
    TaskRecord r = record_of(id);
    r.results = {{"loss", 0.25 * static_cast<double>(id)}};
    return r;
}

// A sweep whose journal a version 1 mpisweep wrote: the resume reads its Records frames,
// raises its header to version 2 (an older mpisweep then refuses it rather than misreading
// the Rows frames appended after them) and keeps every record.
TEST(StoreJournal, AResumeRaisesAVersion1JournalTo2AndKeepsItsRecords) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    const std::string journal = path + ".journal";
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        for (std::uint64_t id = 0; id < 6; ++id) s.record(float_record(id));
    }
    // The same journal as version 1 wrote it: its records in one Records frame, then a Commit
    // (the file holds them all).
    const std::string written_bytes = file_bytes(journal);  // the scan's views point into it
    const store::JournalScan written = store::scan_journal(written_bytes);
    std::vector<TaskRecord> records;
    for (const store::FrameInfo& f : written.frames)
        if (f.kind == FrameKind::Records) store::decode_records(f, records);
    ASSERT_EQ(records.size(), 6u);
    std::string v1 = v1_journal(records, written.header);
    store::append_commit_frame(v1.size(), v1);
    write_bytes(journal, v1);
    ASSERT_EQ(store::scan_journal(file_bytes(journal)).header.version, 1u);
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        for (std::uint64_t id = 6; id < 9; ++id) s.record(float_record(id));
    }
    const std::string after_bytes = file_bytes(journal);
    const store::JournalScan after = store::scan_journal(after_bytes);
    EXPECT_EQ(after.header.version, store::kJournalVersion);
    std::vector<std::uint8_t> kinds;
    std::vector<TaskRecord> all;
    for (const store::FrameInfo& f : after.frames) {
        kinds.push_back(f.kind_byte);
        if (f.kind == FrameKind::Records) store::decode_records(f, all);
    }
    EXPECT_EQ(kinds.front(), 1);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), store::kRowsKindByte), kinds.end());
    std::vector<std::uint64_t> ids;
    for (const TaskRecord& r : all) ids.push_back(r.id.value());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    EXPECT_EQ(ids, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
    const Rows rows = read_rows(path);
    for (std::uint64_t id = 0; id < 12; ++id) EXPECT_EQ(rows.status[id], id < 9 ? 1 : 0) << id;
}

TEST(StoreJournal, AFileWithoutAJournalStartsOneThatCannotRebuildOlderRows) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    {
        auto s = ResultStore::create(small_grid(), options_for(path));
        s.record(record_of(0));
    }
    fs::remove(path + ".journal");  // as a file from before journals
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        s.record(record_of(1));
    }
    const store::JournalScan scan = store::scan_journal(file_bytes(path + ".journal"));
    EXPECT_FALSE(scan.header.since_creation);
    EXPECT_EQ(scan.header.file_id, journal_id_of(path));
    // A kill mid-write with the file intact: the journal's records are replayed on top.
    append_uncommitted(path + ".journal", {record_of(5)});
    {
        auto s = ResultStore::open_for_resume(small_grid(), options_for(path));
        auto st = statuses_of(s);
        EXPECT_EQ(st[0], TaskStatus::Done);
        EXPECT_EQ(st[1], TaskStatus::Done);
        EXPECT_EQ(st[5], TaskStatus::Done);
    }
    // A torn file cannot be rebuilt from it: one clear error.
    append_uncommitted(path + ".journal", {record_of(6)});
    tear(path);
    try {
        ResultStore::open_for_resume(small_grid(), options_for(path));
        FAIL() << "expected a StoreError";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot be rebuilt"), std::string::npos) << e.what();
    }
}

// ---- results journaled as they arrive ------------------------------------------------------

// What a whole-job SIGKILL leaves: the file and journal as they are on disk now, copied.
std::string killed_copy(const TempDir& dir, const std::string& path) {
    const std::string copy = dir.file("killed.h5");
    fs::copy_file(path, copy);
    fs::copy_file(path + ".journal", copy + ".journal");
    return copy;
}

StoreOptions batching_options(const std::string& path) {
    StoreOptions options = options_for(path);
    options.flush_rows = 1000;  // no HDF5 write before close
    options.flush_interval = std::chrono::hours(1);
    return options;
}

TEST(StoreJournal, ASlowTasksResultIsJournaledBeforeAnyFlushAndSurvivesAKill) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    auto s = ResultStore::create(small_grid(), batching_options(path));
    const std::uint64_t header_end = store::scan_journal(file_bytes(path + ".journal")).valid_end;
    s.record(record_of(3));  // ran 0.5 s
    s.journal_slow_results();
    const std::string journal = file_bytes(path + ".journal");
    const store::JournalScan scan = store::scan_journal(journal);
    ASSERT_EQ(scan.frames.size(), 2u);
    EXPECT_EQ(scan.frames[0].kind, FrameKind::Records);
    EXPECT_EQ(scan.frames[1].kind, FrameKind::Commit);
    EXPECT_TRUE(scan.settled_in_file());             // no HDF5 write under way
    EXPECT_EQ(scan.committed_offset(), header_end);  // the file holds none of it yet

    const std::string killed = killed_copy(dir, path);
    EXPECT_EQ(read_rows(killed).status[3], 0);  // pending in the file alone
    {
        auto resumed = ResultStore::open_for_resume(small_grid(), options_for(killed));
        EXPECT_EQ(statuses_of(resumed)[3], TaskStatus::Done);
    }
    const Rows rows = read_rows(killed);
    EXPECT_EQ(rows.status[3], 1);
    EXPECT_EQ(rows.attempts[3], record_of(3).attempts);
    EXPECT_EQ(rows.loss[3], 0.75);
    EXPECT_EQ(rows.tag[3], "t3");
    // The resume's write into the file is bracketed like any flush: an empty Records frame
    // before it, a Commit after it.
    const std::string after = file_bytes(killed + ".journal");
    const store::JournalScan resumed_scan = store::scan_journal(after);
    ASSERT_GE(resumed_scan.frames.size(), 4u);
    EXPECT_EQ(resumed_scan.frames[2].kind, FrameKind::Records);
    EXPECT_EQ(resumed_scan.frames[3].kind, FrameKind::Commit);
    EXPECT_EQ(resumed_scan.frames[2].payload.size(), 4u);  // a count of 0
    EXPECT_TRUE(resumed_scan.settled_in_file());
}

// A flush of a full batch leaves the /tasks chunk still filling in memory; the Commit after
// it names the offset its rows' records start at, so a kill loses none of them.
TEST(StoreJournal, RowsHeldInMemoryAtAKillComeBackFromTheJournal) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    StoreOptions options = batching_options(path);
    options.flush_rows = 2;
    auto s = ResultStore::create(small_grid(), options);
    const std::uint64_t header_end = store::scan_journal(file_bytes(path + ".journal")).valid_end;
    TaskRecord failed = record_of(2, TaskStatus::Failed);
    failed.attempts = 3;
    for (const TaskRecord& record : {record_of(0), record_of(1), failed, record_of(3)}) s.record(record);
    const std::string journal = file_bytes(path + ".journal");  // the scan points into it
    const store::JournalScan scan = store::scan_journal(journal);
    ASSERT_EQ(scan.frames.size(), 4u);  // two flushes: Records, Commit, Records, Commit
    EXPECT_TRUE(scan.settled_in_file());
    EXPECT_EQ(scan.committed_offset(), header_end);  // both batches' rows are held

    const std::string killed = killed_copy(dir, path);
    const Rows at_kill = read_rows(killed);
    for (std::size_t id = 0; id < 4; ++id) EXPECT_EQ(at_kill.status[id], 0) << "held, not in the file";
    EXPECT_EQ(at_kill.loss[1], 0.25);  // the results went
    {
        auto resumed = ResultStore::open_for_resume(small_grid(), options_for(killed));
        const std::vector<TaskStatus> st = statuses_of(resumed);
        EXPECT_EQ(st[0], TaskStatus::Done);
        EXPECT_EQ(st[2], TaskStatus::Failed);
        EXPECT_EQ(st[3], TaskStatus::Done);
        EXPECT_EQ(st[4], TaskStatus::Pending);
    }
    // Replayed once more over rows the file may hold already: the same values, not added up.
    const Rows rows = read_rows(killed);
    EXPECT_EQ(rows.status[0], 1);
    EXPECT_EQ(rows.status[2], 2);
    EXPECT_EQ(rows.attempts[2], 3);
    EXPECT_EQ(rows.attempts[3], record_of(3).attempts);
    EXPECT_EQ(rows.loss[3], 0.75);
}

TEST(StoreJournal, FastResultsAreBatchedAtMostOneIntervalApart) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    StoreOptions options = batching_options(path);
    options.journal_interval = std::chrono::hours(1);
    auto s = ResultStore::create(small_grid(), options);
    auto frames = [&] {
        const std::string bytes = file_bytes(path + ".journal");
        return store::scan_journal(bytes).frames.size();
    };
    TaskRecord fast = record_of(1);
    fast.wall_s = 0.0001;
    s.record(fast);
    s.journal_slow_results();
    EXPECT_EQ(frames(), 0u);  // a fast result waits for maybe_flush()
    EXPECT_EQ(s.next_write_in().count(), 0.0);
    s.maybe_flush();  // the first write: none came before it
    EXPECT_EQ(frames(), 2u);
    fast.id = TaskId(2);
    s.record(fast);
    s.maybe_flush();
    EXPECT_EQ(frames(), 2u);  // the last write is less than an interval old
    EXPECT_GT(s.next_write_in().count(), 60.0);
    s.write_journal();  // a rank working alone, before it runs a task
    EXPECT_EQ(frames(), 4u);
    EXPECT_GT(s.next_write_in().count(), 60.0);  // only the HDF5 flush, an hour on
    s.close();
    EXPECT_EQ(s.next_write_in(), std::chrono::duration<double>::max());
}

TEST(StoreJournal, AResumeCountsTheAttemptsOfAFailureJournaledAfterTheLastFlush) {
    TempDir dir;
    const std::string path = dir.file("r.h5");
    auto s = ResultStore::create(small_grid(), batching_options(path));
    s.record(record_of(4, TaskStatus::Failed));  // 2 attempts
    s.flush();
    TaskRecord again = record_of(4, TaskStatus::Failed);
    again.attempts = 3;  // a retry failed too: 3 in all
    s.record(again);
    s.journal_slow_results();
    const std::string killed = killed_copy(dir, path);
    {
        auto resumed = ResultStore::open_for_resume(small_grid(), options_for(killed));
        TaskRecord retry = record_of(4);
        retry.attempts = 1;  // this run's
        resumed.record(retry);
    }
    const Rows rows = read_rows(killed);
    EXPECT_EQ(rows.status[4], 1);
    EXPECT_EQ(rows.attempts[4], 4);
}

/// A Records frame of tasks 0 and 1.
std::string two_records_frame() {
    std::vector<TaskRecord> records = {record_of(0), record_of(1)};
    std::string frame;
    store::append_records_frame({&records[0], &records[1]}, frame);
    return frame;
}

/// A new journal at `path` holding one frame, two_records_frame().
store::JournalWriter journal_with_one_frame(const std::string& path) {
    store::create_journal_file(path, header_for("{}"));
    store::JournalWriter writer(path, fs::file_size(path));
    writer.append(two_records_frame());
    return writer;
}

TEST(JournalFile, AnAppendCutShortIsCutOffAgain) {
    TempDir dir;
    const std::string path = dir.file("j");
    store::JournalWriter writer = journal_with_one_frame(path);
    const std::string frame = two_records_frame();
    const std::uint64_t good = writer.size();
    // A file size limit stands in for a full disk: the kernel takes part of the next append.
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old_limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    rlimit limit = old_limit;
    limit.rlim_cur = good + 10;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
    try {
        writer.append(frame, frame);
        ADD_FAILURE() << "an append past the file size limit succeeded";
    } catch (const StoreWriteError& e) {  // EFBIG: the disk's kind of error, with the path
        EXPECT_EQ(e.error_number(), EFBIG);
        EXPECT_EQ(e.path(), path);
        EXPECT_NE(std::string(e.what()).find("(errno " + std::to_string(EFBIG) + ")"), std::string::npos)
            << e.what();
    }
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_EQ(fs::file_size(path), good);
    writer.append(frame);  // space again: read after the first
    const std::string bytes = file_bytes(path);
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.frames.size(), 2u);
    EXPECT_FALSE(scan.torn_tail);
}

TEST(JournalFile, SpaceIsTakenAheadWithoutChangingWhatReadersSee) {
    TempDir dir;
    const std::string path = dir.file("j");
    store::JournalWriter writer = journal_with_one_frame(path);
    const std::string frame = two_records_frame();
    writer.keep_reserve();
    if (writer.reserved() == 0) GTEST_SKIP() << "this file system has no fallocate";
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(info.st_size), writer.size());  // the size is the frames'
    EXPECT_GE(static_cast<std::uint64_t>(info.st_blocks) * 512, writer.size() + writer.reserved());
    EXPECT_GE(writer.reserved(), store::JournalWriter::kJournalReserveLow);
    writer.append(frame);  // into the space taken ahead
    const std::string bytes = file_bytes(path);
    const store::JournalScan scan = store::scan_journal(bytes);
    EXPECT_EQ(scan.frames.size(), 2u);
    EXPECT_FALSE(scan.torn_tail);
    writer.close();  // gives the space back
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_LT(static_cast<std::uint64_t>(info.st_blocks) * 512, info.st_size + (std::uint64_t{1} << 20));
}

TEST(H5Errors, TheErrnoComesFromTheDriversMessageElseFromErrno) {
    const std::string stack =
        "H5Fflush(): unable to flush file; H5FD_sec2_write(): file write failed: time = Tue Dec  1 10:00:00 "
        "2026, filename = 'x.h5', file descriptor = 5, errno = 28, error message = 'No space left on "
        "device', "
        "buf = 0x1, total write size = 4096";
    EXPECT_EQ(h5::system_error_of(stack, EIO), 28);
    EXPECT_EQ(h5::system_error_of("H5Dopen2(): unable to open dataset", EIO), EIO);
    EXPECT_EQ(h5::system_error_of("H5Dopen2(): unable to open dataset", 0), 0);
    EXPECT_TRUE(is_storage_errno(ENOSPC));
    EXPECT_TRUE(is_storage_errno(EIO));
    EXPECT_FALSE(is_storage_errno(EACCES));
}

}  // namespace
}  // namespace mpisweep
