// The live view of a running sweep, kept in the owner record, and the lines of --log-tasks:
// what rank 0 publishes is what status reads back, a rewrite caught halfway is never taken
// for a record, the record is rewritten in place and shrinks with the view; records of
// format 1 (no live view) are still read; the observer follows each worker's queue.
#include "store/live_view.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include "cli/cli_observer.hpp"
#include "cli/running_copies.hpp"
#include "store/file_owner.hpp"

namespace fs = std::filesystem;
using namespace mpisweep;
using namespace mpisweep::cli;
using store::LiveSnapshot;
using store::OwnerRecord;

namespace {

LiveSnapshot sample(std::size_t copies) {
    LiveSnapshot s;
    s.written = 1700000000.5;
    s.run = "run-20240501T123456Z-3fa2";
    s.total = 1000;
    s.done = 10;
    s.failed = 1;
    s.workers = 4;
    for (std::size_t i = 0; i < copies; ++i) {
        s.copies.push_back({i * 7, 2, static_cast<int>(i % 4) + 1, "node" + std::to_string(i % 2), -1, i == 1,
                            1700000000.0 + static_cast<double>(i), i == 3 ? 0.0 : 1700000000.25});
    }
    s.queued = 30000;
    s.stopped_workers.push_back({3, "node1", "retired", 1700000000.1, "5 failures in a row"});
    s.stopped_workers.push_back({4, "node2", "lost", 1700000000.2, ""});
    return s;
}

OwnerRecord record_with(std::optional<LiveSnapshot> live) {
    OwnerRecord r;
    r.host = "node0";
    r.pid = 4242;
    r.token = "feedfeedfeedfeed";
    r.started = 1700000000;
    r.heartbeat = 1700000001;
    r.live = std::move(live);
    return r;
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(LiveView, WhatIsWrittenIsReadBack) {
    const auto back = OwnerRecord::from_text(record_with(sample(5)).to_text());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->pid, 4242);
    ASSERT_TRUE(back->live.has_value());
    EXPECT_EQ(back->live->run, "run-20240501T123456Z-3fa2");
    EXPECT_EQ(back->live->done, 10u);
    ASSERT_EQ(back->live->copies.size(), 5u);
    EXPECT_EQ(back->live->copies[4].task, 28u);
    EXPECT_EQ(back->live->copies[3].started, 0.0);
    EXPECT_TRUE(back->live->copies[1].speculative);
    EXPECT_EQ(back->live->queued, 30000u);
    ASSERT_EQ(back->live->stopped_workers.size(), 2u);
    EXPECT_EQ(back->live->stopped_workers[0].why, "5 failures in a row");
    EXPECT_EQ(back->live->stopped_workers[1].state, "lost");
    EXPECT_TRUE(back->live->same_as(sample(5)));
    EXPECT_FALSE(OwnerRecord::from_text(record_with(std::nullopt).to_text())->live.has_value());
}

// A view written by an older mpisweep lists its queued copies (started 0) and has no
// "queued": it reads with its copies as they are and no count; a "queued" that is not a
// number makes the view unreadable, not a count of zero.
TEST(LiveView, AViewWithoutAQueuedCountReadsAsBefore) {
    const std::string old_view =
        R"({"written": 5.0, "interval": 2.0, "run": "r", "total": 10, "done": 1, "failed": 0, "workers": 1,)"
        R"( "copies": [{"task": 3, "attempt": 1, "worker": 1, "host": "n1", "device": -1, "speculative": false,)"
        R"( "sent": 4.0, "started": 4.5}, {"task": 4, "attempt": 1, "worker": 1, "host": "n1", "device": -1,)"
        R"( "speculative": false, "sent": 4.0, "started": 0.0}], "stopped_workers": []})";
    const auto view = store::live_from_json(old_view);
    ASSERT_TRUE(view.has_value());
    ASSERT_EQ(view->copies.size(), 2u);
    EXPECT_EQ(view->copies[1].started, 0.0);
    EXPECT_EQ(view->queued, 0u);
    std::string bad = old_view;
    bad.insert(bad.size() - 1, R"(, "queued": "many")");
    EXPECT_FALSE(store::live_from_json(bad).has_value());
}

TEST(LiveView, AHalfRewrittenRecordIsNotARecord) {
    const std::string longer = record_with(sample(50)).to_text(), shorter = record_with(sample(3)).to_text();
    // A new, shorter record written over an old one, before the truncation.
    std::string mixed = longer;
    mixed.replace(0, shorter.size(), shorter);
    EXPECT_FALSE(OwnerRecord::from_text(mixed).has_value());
    // A new record whose end is not written yet.
    std::string torn = longer;
    torn.replace(0, longer.size() / 2, shorter.substr(0, std::min(shorter.size(), longer.size() / 2)));
    EXPECT_FALSE(OwnerRecord::from_text(torn).has_value());
    EXPECT_FALSE(OwnerRecord::from_text(longer.substr(0, longer.size() - 1)).has_value());
    // One byte changed in the middle: the length holds, the checksum does not.
    std::string flipped = longer;
    flipped[longer.size() / 2] ^= 1;
    EXPECT_FALSE(OwnerRecord::from_text(flipped).has_value());
    EXPECT_FALSE(OwnerRecord::from_text("").has_value());
    EXPECT_FALSE(OwnerRecord::from_text("mpisweep-owner 2 5 0\n{}\n").has_value());
}

// The records of an mpisweep from before the live view: a JSON object, padded with spaces.
TEST(LiveView, RecordsOfFormatOneAreStillRead) {
    const std::string one =
        R"({"format": 1, "host": "node7", "pid": 99, "boot_id": "b", "pid_namespace": "pid:[1]",)"
        R"( "process_start": 5, "token": "0123456789abcdef", "started": 1.5, "heartbeat": 2.5})" +
        std::string(700, ' ') + "\n";
    const auto back = OwnerRecord::from_text(one);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->host, "node7");
    EXPECT_EQ(back->heartbeat, 2.5);
    EXPECT_FALSE(back->live.has_value());
}

// A published view reaches the record through the record's own thread (and is dropped while
// a beat holds the record, as the master's next one would come): publish until it is there
// (no time limit asserted; the test's timeout bounds a hang).
OwnerRecord published(store::FileOwner& owner, const std::string& results, std::size_t copies) {
    for (;;) {
        owner.publish(sample(copies));
        auto record = store::read_owner(results);
        if (record && record->live && record->live->copies.size() == copies) return *record;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

TEST(LiveView, TheRecordIsRewrittenInPlaceAndRemoved) {
    std::string pattern = (fs::temp_directory_path() / "mpisweep-live-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    const fs::path dir = pattern;
    const std::string results = (dir / "sweep.h5").string();
    const std::string path = store::owner_path_of(results);
    {
        auto owner = store::FileOwner::acquire(results, {});
        struct stat before {};
        ASSERT_EQ(::stat(path.c_str(), &before), 0);
        EXPECT_FALSE(store::read_owner(results)->live.has_value());
        EXPECT_EQ(published(*owner, results, 40).pid, ::getpid());
        const OwnerRecord record = published(*owner, results, 2);
        struct stat after {};
        ASSERT_EQ(::stat(path.c_str(), &after), 0);
        EXPECT_EQ(before.st_ino, after.st_ino);  // the same file, not a new one renamed over it
        // Shrunk, nothing of the longer one left over: the whole file is one record.
        EXPECT_TRUE(OwnerRecord::from_text(read_all(path)).has_value());
        EXPECT_EQ(static_cast<std::size_t>(after.st_size), read_all(path).size());
        EXPECT_EQ(record.live->stopped_workers.size(), 2u);
        EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(store::read_owner(results).has_value());
    fs::remove_all(dir);
}

TaskEvent event(std::uint64_t task, int worker, int attempt = 1, double wall = 0, const char* error = "") {
    TaskEvent e;
    e.task = TaskId(task);
    e.worker = worker;
    e.attempt = attempt;
    e.host = worker == 1 ? "node1" : "node2";
    e.wall_s = wall;
    e.error = error;
    return e;
}

// --log-tasks: a copy's start line when it begins to run (not when it is queued), its finish
// line with [settled/total], on rank 0's stream, one line each.
TEST(CliObserver, OneLinePerTaskStartAndFinish) {
    std::ostringstream out;
    CliObserverOptions options;
    options.log_tasks = true;
    CliObserver observer(options, out, false);
    SweepCounts counts;
    counts.total = 40;
    counts.done = 2;  // found in the file
    observer.on_start(counts);
    observer.on_task_started(event(7, 1));
    observer.on_task_started(event(8, 1));  // queued behind 7: no line yet
    observer.on_task_started(event(9, 2));
    observer.on_task_finished(event(7, 1, 1, 3.21), TaskOutcome::Done);  // 8 starts now
    observer.on_task_finished(event(9, 2, 1, 0.5, "exit code 3; stderr ends with:\nboom"),
                              TaskOutcome::Retrying);
    observer.on_task_finished(event(8, 1, 1, 125), TaskOutcome::Failed);
    observer.on_task_started(event(10, 2));
    observer.on_task_started(event(11, 2));
    observer.on_task_finished(event(11, 2), TaskOutcome::Cancelled);  // dropped while queued: no line
    const std::string expected =
        "mpisweep: [2/40] task 7 started on node1 rank 1\n"
        "mpisweep: [2/40] task 9 started on node2 rank 2\n"
        "mpisweep: [3/40] task 7 done in 3.2 s on node1 rank 1\n"
        "mpisweep: [3/40] task 8 started on node1 rank 1\n"
        "mpisweep: [3/40] task 9 failed in 0.5 s on node2 rank 2 (attempt 1, it runs again): exit code 3; "
        "stderr "
        "ends with: boom\n"
        "mpisweep: [4/40] task 8 failed for good in 2m05s on node1 rank 1 (attempt 1)\n"
        "mpisweep: [4/40] task 10 started on node2 rank 2\n";
    EXPECT_EQ(out.str(), expected);
}

// --log-tasks: the running copy of each worker with its start, the queued ones without.
TEST(CliObserver, RunningCopiesFollowEachWorkersQueue) {
    RunningCopies copies;
    EXPECT_TRUE(copies.sent(event(1, 1), 100.0).has_value());  // an idle worker: runs at once
    EXPECT_FALSE(copies.sent(event(2, 1), 101.0).has_value());
    EXPECT_FALSE(copies.sent(event(3, 1), 102.0).has_value());
    EXPECT_FALSE(copies.answered(event(3, 1), 103.0).has_value());  // a queued copy cancelled
    const auto next = copies.answered(event(1, 1), 104.0);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->task, 2u);
    EXPECT_EQ(next->started, 104.0);
    EXPECT_EQ(next->sent, 101.0);
    const auto all = copies.all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].task, 2u);
    EXPECT_FALSE(copies.answered(event(99, 1), 105.0).has_value());  // unknown: ignored
}

}  // namespace
