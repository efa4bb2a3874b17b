// The output streams of command tasks with real child processes: what goes in comes back out
// per task, attempt and stream; the folder holds one file per worker whatever the number of
// tasks, readable as text; output that looks like a frame header confuses nothing; a killed
// worker's stream stays readable; attempts are numbered across runs, also with the two-file
// streams of older versions in the same folder.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <random>
#include <sstream>
#include <sys/wait.h>
#include <thread>

#include "exec/task_log_format.hpp"
#include "exec/task_log_legacy.hpp"
#include "exec/task_log_reader.hpp"
#include "exec/task_log_writer.hpp"
#include "mpisweep/command.hpp"
#include "platform/child_process.hpp"

namespace fs = std::filesystem;
using namespace mpisweep;
using detail::EntryKind;

namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

class TaskLogTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "mpisweep-tasklog-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        // Result files go to a folder of the test's own, so the test can see them come and go.
        fs::create_directories(dir_ / "scratch");
        ::setenv("MPISWEEP_TMPDIR", (dir_ / "scratch").c_str(), 1);
        worker_.rank = 3;
        worker_.host = "node7";
    }
    void TearDown() override {
        ::unsetenv("MPISWEEP_TMPDIR");
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::string script(const std::string& name, const std::string& body) {
        const fs::path path = dir_ / name;
        std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
        fs::permissions(path, fs::perms::owner_all);
        return path.string();
    }

    CommandSpec spec(std::vector<std::string> argv, const std::string& run = "run-a",
                     double run_start = 1000) {
        CommandSpec s;
        s.argv = std::move(argv);
        s.log_dir = (dir_ / "logs").string();
        s.kill_grace_s = 0.3;
        s.log_run = run;
        s.log_run_start = run_start;
        return s;
    }

    // Runs task `id`, attempt `attempt` of `task`; a failure is swallowed (its output counts).
    void run(const TaskFunction& task, std::uint64_t id, int attempt = 1) {
        auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"x"});
        Point point(names, {std::int64_t(id)});
        TaskContext ctx(TaskId(id), attempt, point, worker_);
        try {
            task(ctx);
        } catch (const TaskFailure&) {}
    }

    // One stream of attempt `k` (1-based across runs; 0: the last) of task `id`.
    std::string output(std::uint64_t id, EntryKind stream = EntryKind::Stdout, std::size_t k = 0) {
        const detail::TaskLog log = detail::read_task_log((dir_ / "logs").string(), id);
        EXPECT_TRUE(log.unreadable.empty());
        if (log.attempts.empty()) return "<no attempt>";
        std::ostringstream out;
        detail::copy_output(log.attempts[k == 0 ? log.attempts.size() - 1 : k - 1], stream, out);
        return out.str();
    }

    fs::path dir_;
    WorkerInfo worker_;
};

TEST_F(TaskLogTest, EachTasksStdoutAndStderrComeBackFromOneFilePerWorker) {
    const TaskFunction task = make_command_task(
        spec({script("p.sh",
                     "echo \"out of $MPISWEEP_TASK_ID\"; echo \"err of $MPISWEEP_TASK_ID\" >&2\n"
                     "echo '{\"v\": 1}' > \"$MPISWEEP_OUTPUT\"")}),
        {"x"});
    for (std::uint64_t id = 0; id < 300; ++id) run(task, id);
    for (std::uint64_t id : {0, 1, 150, 299}) {
        EXPECT_EQ(output(id), "out of " + std::to_string(id) + "\n");
        EXPECT_EQ(output(id, EntryKind::Stderr), "err of " + std::to_string(id) + "\n");
    }
    // 300 tasks: one stream file in the log folder; no result file anywhere.
    const auto logs = files_in(dir_ / "logs");
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0].filename(), "run-a.rank-3.log");
    for (const fs::path& p : files_in(dir_ / "scratch")) EXPECT_TRUE(fs::is_directory(p)) << p;
    // What `less` shows: the writer, then each task's output under a header line.
    std::ifstream in(logs[0]);
    std::string first, second, third;
    std::getline(in, first);
    std::getline(in, second);
    std::getline(in, third);
    EXPECT_EQ(first.rfind("@@ mpisweep stream 2 run run-a run_start 1000.000000 rank 3 pid ", 0), 0u)
        << first;
    EXPECT_NE(first.find(" host node7 @@"), std::string::npos) << first;
    EXPECT_EQ(second.rfind("@@ mpisweep task 0 attempt 1 stdout 9 bytes start ", 0), 0u) << second;
    EXPECT_EQ(third, "out of 0");
}

TEST_F(TaskLogTest, OutputThatLooksLikeHeadersOrLacksANewlineComesBackAsWritten) {
    // Fake headers (of another task; one says more bytes than follow), no newline at the
    // end of stdout, a blank stderr line.
    const std::string fake_end = "@@ mpisweep task 99 attempt 1 end done exit 0 wall 0.000 start 0.000000 @@";
    const std::string fake = "@@ mpisweep task 99 attempt 1 stdout 5000 bytes start 0.000000 @@";
    const TaskFunction task =
        make_command_task(spec({script("p.sh", "echo '" + fake_end + "'; printf '%s\\n%s' '" + fake +
                                                   "' 'no newline'; echo >&2")}),
                          {"x"});
    run(task, 4);
    run(task, 5);
    EXPECT_EQ(output(4), fake_end + "\n" + fake + "\nno newline");
    EXPECT_EQ(output(4, EntryKind::Stderr), "\n");
    EXPECT_EQ(output(5), fake_end + "\n" + fake + "\nno newline");
    EXPECT_TRUE(detail::read_task_log((dir_ / "logs").string(), 99).attempts.empty());
}

TEST_F(TaskLogTest, TheTwoFileStreamsOfOlderVersionsAreReadBesideNewOnes) {
    // An older run's stream (binary index beside raw output): task 6 failed once there.
    fs::create_directories(dir_ / "logs");
    detail::StreamHeader old_writer;
    old_writer.run = "run-old";
    old_writer.run_start = 500;
    old_writer.rank = 2;
    old_writer.host = "node1";
    std::ofstream(dir_ / "logs" / "run-old.rank-2.log") << "old outold err";
    std::string index = detail::legacy::encode_header(old_writer);
    auto entry = [&](detail::IndexEntry e) {
        char bytes[detail::legacy::kIndexEntrySize];
        detail::legacy::encode_entry(e, bytes);
        index.append(bytes, sizeof bytes);
    };
    entry({6, 1, EntryKind::Stdout, detail::AttemptEnd::Done, 0, 7, 0, 501, 0});
    entry({6, 1, EntryKind::Stderr, detail::AttemptEnd::Done, 7, 7, 0, 501, 0});
    entry({6, 1, EntryKind::End, detail::AttemptEnd::Failed, 0, 0, 2, 501, 0.5f});
    std::ofstream(dir_ / "logs" / "run-old.rank-2.idx", std::ios::binary) << index;
    // This version's run after it.
    run(make_command_task(spec({script("p.sh", "echo new")}), {"x"}), 6);
    const detail::TaskLog log = detail::read_task_log((dir_ / "logs").string(), 6);
    EXPECT_TRUE(log.unreadable.empty());
    ASSERT_EQ(log.attempts.size(), 2u);
    EXPECT_EQ(output(6, EntryKind::Stdout, 1), "old out");
    EXPECT_EQ(output(6, EntryKind::Stderr, 1), "old err");
    EXPECT_EQ(detail::describe_attempt_end(log.attempts[0]), "failed (exit code 2)");
    EXPECT_EQ(log.attempts[0].writer.host, "node1");
    EXPECT_EQ(output(6), "new\n");
    EXPECT_EQ(detail::describe_attempt_end(log.attempts[1]), "done");
}

TEST_F(TaskLogTest, TheScratchFolderOfResultsGoesWithTheRunner) {
    {
        const TaskFunction task = make_command_task(
            spec({script("p.sh", "echo '{\"v\": 1}' > \"$MPISWEEP_OUTPUT\"; echo \"$MPISWEEP_OUTPUT\"")}),
            {"x"});
        run(task, 4);
        const std::string path = output(4);
        EXPECT_EQ(path.rfind((dir_ / "scratch").string(), 0), 0u) << path;
        EXPECT_FALSE(fs::exists(path.substr(0, path.size() - 1)));  // read and removed
    }
    EXPECT_TRUE(files_in(dir_ / "scratch").empty());
}

TEST_F(TaskLogTest, AProgramWritingMegabytesToBothStreamsNeverBlocks) {
    // 8 MB to each stream, interleaved: far more than a pipe holds (64 kB).
    const TaskFunction task =
        make_command_task(spec({script("big.sh",
                                       "i=0; while [ $i -lt 64 ]; do head -c 131072 /dev/zero | tr '\\0' o; "
                                       "head -c 131072 /dev/zero | tr '\\0' e >&2; i=$((i+1)); done")}),
                          {"x"});
    run(task, 1);
    const std::string out = output(1), err = output(1, EntryKind::Stderr);
    EXPECT_EQ(out.size(), 64u * 131072);
    EXPECT_EQ(err.size(), 64u * 131072);
    EXPECT_EQ(out.find_first_not_of('o'), std::string::npos);
    EXPECT_EQ(err.find_first_not_of('e'), std::string::npos);
}

TEST_F(TaskLogTest, FailedAttemptKeepsItsOutputAndTheErrorTextItsStderrTail) {
    const TaskFunction task =
        make_command_task(spec({script("f.sh", "echo partial; echo 'bad thing' >&2; exit 4")}), {"x"});
    auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"x"});
    Point point(names, {std::int64_t(2)});
    TaskContext ctx(TaskId(2), 1, point, worker_);
    try {
        task(ctx);
        ADD_FAILURE() << "exit 4 must fail";
    } catch (const TaskFailure& f) {
        EXPECT_EQ(f.exit_code(), 4);
        EXPECT_NE(std::string(f.what()).find("stderr ends with:\nbad thing"), std::string::npos) << f.what();
    }
    EXPECT_EQ(output(2), "partial\n");
    const detail::TaskLog log = detail::read_task_log((dir_ / "logs").string(), 2);
    ASSERT_EQ(log.attempts.size(), 1u);
    ASSERT_TRUE(log.attempts[0].end.has_value());
    EXPECT_EQ(log.attempts[0].end->end, detail::AttemptEnd::Failed);
    EXPECT_EQ(log.attempts[0].end->exit_code, 4);
    EXPECT_EQ(detail::describe_attempt_end(log.attempts[0]), "failed (exit code 4)");
    EXPECT_EQ(log.attempts[0].writer.host, "node7");
    EXPECT_EQ(log.attempts[0].writer.rank, 3);
}

TEST_F(TaskLogTest, AProgramThatCannotStartIsAnAttemptWithTheReasonOnItsStderr) {
    const TaskFunction task = make_command_task(spec({(dir_ / "no-such-program").string()}), {"x"});
    run(task, 5);
    EXPECT_NE(output(5, EntryKind::Stderr).find("no-such-program"), std::string::npos);
    const detail::TaskLog log = detail::read_task_log((dir_ / "logs").string(), 5);
    ASSERT_EQ(log.attempts.size(), 1u);
    EXPECT_EQ(detail::describe_attempt_end(log.attempts[0]), "did not start");
}

TEST_F(TaskLogTest, AttemptsAreNumberedAcrossRuns) {
    const auto prog = script("a.sh", "echo \"$RUN attempt $MPISWEEP_ATTEMPT\"; exit 1");
    auto first = spec({prog}, "run-b-first", 2000);
    first.env = {{"RUN", "first"}};
    auto second = spec({prog}, "run-a-second", 3000);  // named to sort before the first: the start decides
    second.env = {{"RUN", "second"}};
    const TaskFunction one = make_command_task(first, {"x"});
    run(one, 9, 1);
    run(one, 9, 2);
    worker_.rank = 1;  // another worker in the second run
    run(make_command_task(second, {"x"}), 9, 1);
    EXPECT_EQ(output(9, EntryKind::Stdout, 1), "first attempt 1\n");
    EXPECT_EQ(output(9, EntryKind::Stdout, 2), "first attempt 2\n");
    EXPECT_EQ(output(9, EntryKind::Stdout, 3), "second attempt 1\n");
    EXPECT_EQ(output(9), "second attempt 1\n");
    EXPECT_EQ(files_in(dir_ / "logs").size(), 2u);
}

TEST_F(TaskLogTest, PerTaskLogsAreKeptWhenAsked) {
    auto s = spec({script("p.sh", "echo to-out; echo to-err >&2")});
    s.per_task_log_dir = (dir_ / "per-task").string();
    run(make_command_task(s, {"x"}), 3, 2);
    std::ifstream out(dir_ / "per-task" / "run-a" / "task-3.attempt-2.out");
    std::ifstream err(dir_ / "per-task" / "run-a" / "task-3.attempt-2.err");
    std::string line;
    ASSERT_TRUE(std::getline(out, line));
    EXPECT_EQ(line, "to-out");
    ASSERT_TRUE(std::getline(err, line));
    EXPECT_EQ(line, "to-err");
    EXPECT_EQ(output(3), "to-out\n");  // and in the stream as always
}

TEST_F(TaskLogTest, TornAndZeroedStreamTailsAreSkipped) {
    const TaskFunction task =
        make_command_task(spec({script("p.sh", "echo \"task $MPISWEEP_TASK_ID\"")}), {"x"});
    run(task, 1);
    run(task, 2);
    const fs::path stream = dir_ / "logs" / "run-a.rank-3.log";
    const auto size = fs::file_size(stream);
    // Half of task 2's end line torn off, then a block of zeros (what a crash may leave).
    fs::resize_file(stream, size - 20);
    fs::resize_file(stream, size + 4096);
    EXPECT_EQ(output(1), "task 1\n");
    const detail::TaskLog log = detail::read_task_log((dir_ / "logs").string(), 2);
    ASSERT_EQ(log.attempts.size(), 1u);
    EXPECT_FALSE(log.attempts[0].end.has_value());  // its chunk is there, its end is not
    EXPECT_EQ(output(2), "task 2\n");
    // A stream just made (its first line not written yet) holds nothing, and is no error.
    std::ofstream(dir_ / "logs" / "run-b.rank-1.log") << "@@ mpisweep str";
    EXPECT_EQ(output(1), "task 1\n");  // (output() expects no unreadable file)
    // Bytes cut short: what is there comes back, the rest is counted as missing.
    std::ifstream in(stream, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::resize_file(stream, text.find("task 2\n") + 3);
    const detail::TaskLog cut = detail::read_task_log((dir_ / "logs").string(), 2);
    ASSERT_EQ(cut.attempts.size(), 1u);
    std::ostringstream partial;
    EXPECT_EQ(detail::copy_output(cut.attempts[0], EntryKind::Stdout, partial), 4u);
    EXPECT_EQ(partial.str(), "tas");
}

TEST_F(TaskLogTest, AKilledWorkerLeavesAReadableStream) {
    // A worker process runs a finished task, then one that prints a line every 50 ms; once
    // its first lines are in the stream (written within a second), the worker is killed.
    const auto prog = script("p.sh",
                             "[ \"$MPISWEEP_TASK_ID\" = 1 ] && { echo finished; exit 0; }\n"
                             "i=0; while :; do echo \"line $i\"; i=$((i+1)); sleep 0.05; done");
    const pid_t pid = ::fork();
    if (pid == 0) {
        const TaskFunction task = make_command_task(spec({prog}), {"x"});
        run(task, 1);
        run(task, 2);
        ::_exit(0);
    }
    ASSERT_GT(pid, 0);
    std::string seen;
    for (int i = 0; i < 1000 && seen.find("line 3\n") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        seen = fs::exists(dir_ / "logs") ? output(2) : "";
        if (seen == "<no attempt>") seen.clear();
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ASSERT_NE(seen.find("line 3\n"), std::string::npos)
        << "the running task's output never reached the stream";
    EXPECT_EQ(output(1), "finished\n");
    const detail::TaskLog log = detail::read_task_log((dir_ / "logs").string(), 2);
    ASSERT_EQ(log.attempts.size(), 1u);
    EXPECT_FALSE(log.attempts[0].end.has_value());
    EXPECT_EQ(output(2).rfind("line 0\nline 1\nline 2\nline 3\n", 0), 0u);
}

// The pipes through which a command's output comes, with a pidfd and with the fallback of
// older kernels (a thread blocked in waitid): everything written arrives, in order per
// stream, also what a timed-out program wrote before it was stopped.
TEST_F(TaskLogTest, PipesCarryAllOutputWithAndWithoutAPidfd) {
    const auto prog = script("p.sh",
                             "echo first; echo oops >&2; head -c 300000 /dev/zero | tr '\\0' z; echo; "
                             "echo last; [ -n \"$HANG\" ] && sleep 100; exit 5");
    for (bool pidfd : {true, false}) {
        for (bool hang : {false, true}) {
            detail::SpawnRequest request;
            request.argv = {prog};
            request.pipe_output = true;
            request.use_pidfd = pidfd;
            if (hang) request.env = {{"HANG", "1"}};
            std::string got[2];
            detail::WaitOptions options;
            options.timeout_s = hang ? 0.3 : 0;
            options.kill_grace_s = 0.3;
            options.on_output = [&](int stream, const char* data, std::size_t size) {
                got[stream - 1].append(data, size);
            };
            const detail::WaitResult result = detail::ChildProcess::spawn(request).wait(options);
            const std::string where =
                std::string(pidfd ? "pidfd" : "waitid thread") + (hang ? ", timed out" : "");
            EXPECT_EQ(result.exit_code, hang ? -SIGTERM : 5) << where;
            EXPECT_EQ(result.timed_out, hang) << where;
            EXPECT_EQ(got[0], "first\n" + std::string(300000, 'z') + "\nlast\n") << where;
            EXPECT_EQ(got[1], "oops\n") << where;
        }
    }
}

}  // namespace

namespace {

// Frame headers read back as written, at the ends of their ranges; anything else is no header.
TEST(TaskLogFormat, FrameHeadersRoundTripAndNothingElseIsOne) {
    detail::IndexEntry end;
    end.task = 9223372036854775807ull;
    end.attempt = 2147483647;
    end.kind = EntryKind::End;
    end.end = detail::AttemptEnd::TimedOut;
    end.exit_code = -9;
    end.wall_s = 1.5f;
    end.start = 1796107973.298360;
    detail::IndexEntry chunk;
    chunk.task = 0;
    chunk.kind = EntryKind::Stderr;
    chunk.length = 4294967295u;
    chunk.start = 0;
    char line[detail::kMaxHeaderLine];
    const std::string end_line(line, detail::encode_frame_header(end, line));
    EXPECT_EQ(end_line,
              "@@ mpisweep task 9223372036854775807 attempt 2147483647 end timed-out exit -9 wall 1.500 "
              "start 1796107973.298360 @@\n");
    const auto back = detail::decode_frame_header(std::string_view(end_line).substr(0, end_line.size() - 1));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->task, end.task);
    EXPECT_EQ(back->attempt, end.attempt);
    EXPECT_EQ(back->end, detail::AttemptEnd::TimedOut);
    EXPECT_EQ(back->exit_code, -9);
    EXPECT_EQ(back->wall_s, 1.5f);
    EXPECT_NEAR(back->start, end.start, 1e-6);
    const std::string chunk_line(line, detail::encode_frame_header(chunk, line));
    EXPECT_EQ(chunk_line, "@@ mpisweep task 0 attempt 1 stderr 4294967295 bytes start 0.000000 @@\n");
    EXPECT_EQ(detail::frame_task(chunk_line), std::optional<std::uint64_t>(0));
    for (const char* bad : {"", "@@ mpisweep task 1 attempt 1 stdout -3 bytes start 0.0 @@",
                            "@@ mpisweep task 1 attempt 1 stdout 3 bytes start 0.0 @@ x",
                            "@@ mpisweep task 1 attempt 1 end finished exit 0 wall 0 start 0 @@",
                            "@@ mpisweep task x attempt 1 stdout 3 bytes start 0.0 @@", "out of 7"}) {
        EXPECT_FALSE(detail::decode_frame_header(bad).has_value()) << bad;
    }
}

}  // namespace

namespace {

// The reader skips each chunk by its length through a 64 KiB window: chunks of random sizes
// (0 to 150 kB, so headers fall on every side of the window's edges), random bytes with and
// without a final newline, fake headers inside, stdout and stderr, several attempts each,
// all come back exactly; the file is what the writer wrote, nothing more.
TEST(TaskLogFormat, RandomChunksComeBackExactlyAcrossTheReadersWindow) {
    std::string pattern = (fs::temp_directory_path() / "mpisweep-tasklog-rand-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    const fs::path dir = pattern;
    std::mt19937_64 random(13);
    std::map<std::pair<std::uint64_t, int>, std::string> wrote[2];
    {
        detail::StreamHeader header;
        header.run = "run-r";
        header.run_start = 1;
        header.rank = 1;
        header.host = "h";
        detail::TaskLogWriter writer(dir.string(), header);
        writer.check();
        for (int frame = 0; frame < 400; ++frame) {
            const std::uint64_t task = random() % 20;
            const int attempt = 1 + static_cast<int>(random() % 3);
            std::string data[2];
            for (std::string& d : data) {
                const std::size_t size = random() % 4 == 0 ? 0 : random() % 150000;
                d.resize(size);
                for (char& c : d) c = static_cast<char>(random() % 7 == 0 ? '\n' : 'a' + random() % 26);
                if (size > 80 && random() % 3 == 0) d.replace(0, 16, "@@ mpisweep task");
            }
            for (int s = 0; s < 2; ++s) wrote[s][{task, attempt}] += data[s];
            writer.append(task, attempt, 2.0 + attempt,
                          {{EntryKind::Stdout, data[0]}, {EntryKind::Stderr, data[1]}});
        }
    }
    for (std::uint64_t task = 0; task < 20; ++task) {
        const detail::TaskLog log = detail::read_task_log(dir.string(), task);
        EXPECT_TRUE(log.unreadable.empty());
        std::size_t with_output = 0;
        for (int attempt = 1; attempt <= 3; ++attempt) {
            const auto key = std::make_pair(task, attempt);
            with_output += !wrote[0][key].empty() || !wrote[1][key].empty();
        }
        EXPECT_EQ(log.attempts.size(), with_output) << "task " << task;
        for (const detail::LoggedAttempt& a : log.attempts) {
            for (int s = 0; s < 2; ++s) {
                std::ostringstream out;
                EXPECT_EQ(detail::copy_output(a, s == 0 ? EntryKind::Stdout : EntryKind::Stderr, out), 0u);
                const std::string& want = wrote[s][std::make_pair(task, a.attempt_in_run)];
                EXPECT_EQ(out.str(), want)
                    << "task " << task << " attempt " << a.attempt_in_run << " stream " << s;
            }
        }
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
}

}  // namespace
