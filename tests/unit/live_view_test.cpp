// The live view of a running sweep and the lines of --log-tasks: what rank 0 writes is what
// status reads back, a rewrite caught halfway is never taken for a snapshot, the file
// shrinks with the view; the observer follows each worker's queue.
#include "cli/live_view.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>

#include "cli/cli_observer.hpp"
#include "cli/running_copies.hpp"

namespace fs = std::filesystem;
using namespace mpisweep;
using namespace mpisweep::cli;

namespace {

LiveSnapshot sample(std::size_t copies) {
    LiveSnapshot s;
    s.written = 1700000000.5;
    s.host = "node0";
    s.pid = 4242;
    s.run = "run-20240501T123456Z-3fa2";
    s.total = 1000;
    s.done = 10;
    s.failed = 1;
    s.workers = 4;
    for (std::size_t i = 0; i < copies; ++i) {
        s.copies.push_back({i * 7, 2, static_cast<int>(i % 4) + 1, "node" + std::to_string(i % 2), -1, i == 1,
                            1700000000.0 + static_cast<double>(i), i == 3 ? 0.0 : 1700000000.25});
    }
    s.stopped_workers.push_back({3, "node1", "retired", 1700000000.1, "5 failures in a row"});
    return s;
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(LiveView, WhatIsWrittenIsReadBack) {
    const std::string bytes = encode_live(sample(5));
    const auto back = decode_live(bytes);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->run, "run-20240501T123456Z-3fa2");
    EXPECT_EQ(back->done, 10u);
    ASSERT_EQ(back->copies.size(), 5u);
    EXPECT_EQ(back->copies[4].task, 28u);
    EXPECT_EQ(back->copies[3].started, 0.0);
    EXPECT_TRUE(back->copies[1].speculative);
    ASSERT_EQ(back->stopped_workers.size(), 1u);
    EXPECT_EQ(back->stopped_workers[0].why, "5 failures in a row");
}

TEST(LiveView, AHalfRewrittenFileIsNotASnapshot) {
    const std::string longer = encode_live(sample(50)), shorter = encode_live(sample(3));
    // A new, shorter view written over an old one, before the truncation.
    std::string mixed = longer;
    mixed.replace(0, shorter.size(), shorter);
    EXPECT_FALSE(decode_live(mixed).has_value());
    // A new view whose end is not written yet.
    std::string torn = longer;
    torn.replace(0, longer.size() / 2, shorter.substr(0, std::min(shorter.size(), longer.size() / 2)));
    EXPECT_FALSE(decode_live(torn).has_value());
    EXPECT_FALSE(decode_live(longer.substr(0, longer.size() - 1)).has_value());
    EXPECT_FALSE(decode_live("").has_value());
    EXPECT_FALSE(decode_live("something else\n{}").has_value());
}

TEST(LiveView, TheFileIsRewrittenInPlaceAndRemoved) {
    std::string pattern = (fs::temp_directory_path() / "mpisweep-live-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    const fs::path dir = pattern;
    const std::string results = (dir / "sweep.h5").string();
    {
        LiveFile file(results);
        ASSERT_TRUE(file.write(sample(40)));
        struct stat before {};
        ASSERT_EQ(::stat(live_path_of(results).c_str(), &before), 0);
        ASSERT_TRUE(file.write(sample(2)));
        struct stat after {};
        ASSERT_EQ(::stat(live_path_of(results).c_str(), &after), 0);
        EXPECT_EQ(before.st_ino, after.st_ino);  // the same file, not a new one renamed over it
        EXPECT_EQ(read_all(live_path_of(results)), encode_live(sample(2)));  // shrunk, nothing left over
        std::string why;
        const auto view = read_live(results, &why);
        ASSERT_TRUE(view.has_value()) << why;
        EXPECT_EQ(view->copies.size(), 2u);
    }
    EXPECT_FALSE(fs::exists(live_path_of(results)));
    std::string why;
    EXPECT_FALSE(read_live(results, &why).has_value());
    EXPECT_NE(why.find("no live view"), std::string::npos) << why;
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

// What the live view holds: the running copy of each worker with its start, the queued ones
// without, and the retired workers.
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
