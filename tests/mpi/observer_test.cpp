// What run() tells Options::observer, on real MPI ranks (1, 2 and 5): every copy handed out
// and answered, every accepted result with its parameters, progress, the end, the messages
// (usage errors, retired workers, teardown failures of any rank) and retired workers as
// events. Only rank 0's observer hears anything; one that throws changes nothing.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include "mpi/mpi_fixture.hpp"
#include "mpisweep/mpisweep.hpp"
#include "support/h5_read.hpp"

using namespace mpisweep;
using test_support::world_rank;
using test_support::world_size;

namespace {

struct Recorder : Observer {
    std::thread::id caller = std::this_thread::get_id();
    bool other_thread = false;
    int starts = 0, ends = 0, progress = 0, last_exit = -1;
    SweepCounts start_counts, end_counts;
    std::vector<TaskEvent> started;
    std::vector<std::pair<TaskEvent, TaskOutcome>> finished;
    std::map<std::uint64_t, std::pair<std::int64_t, double>> results;  ///< id -> (x, y)
    std::vector<std::pair<MessageLevel, std::string>> messages;
    std::vector<std::string> hosts;                    ///< keeps the event's host alive past the call
    std::vector<std::pair<int, std::string>> retired;  ///< rank, why

    void seen() {
        if (std::this_thread::get_id() != caller) other_thread = true;
    }
    void on_message(MessageLevel level, std::string_view text) override {
        seen();
        messages.emplace_back(level, std::string(text));
    }
    void on_start(const SweepCounts& c) override {
        seen();
        ++starts;
        start_counts = c;
    }
    void on_progress(const SweepCounts&, double) override {
        seen();
        ++progress;
    }
    void on_task_started(const TaskEvent& e) override {
        seen();
        started.push_back(e);
        hosts.emplace_back(e.host);
        started.back().host = hosts.back();
        started.back().error = {};
    }
    void on_task_finished(const TaskEvent& e, TaskOutcome outcome) override {
        seen();
        finished.emplace_back(e, outcome);
        finished.back().first.host = {};
        finished.back().first.error = {};
    }
    void on_worker_retired(int rank, std::string_view host, std::string_view why) override {
        seen();
        EXPECT_FALSE(host.empty());
        retired.emplace_back(rank, std::string(why));
    }
    bool wants_results() const override { return true; }
    void on_result(TaskId id, const Point& params, const TaskResult& result) override {
        seen();
        results[id.value()] = {params.get<std::int64_t>("x"), std::get<double>(result.at("y"))};
    }
    void on_end(const SweepCounts& c, int exit_code) override {
        seen();
        ++ends;
        end_counts = c;
        last_exit = exit_code;
    }
    int count(TaskOutcome outcome) const {
        int n = 0;
        for (const auto& f : finished) n += f.second == outcome ? 1 : 0;
        return n;
    }
    bool said(MessageLevel level, const std::string& phrase) const {
        for (const auto& [l, text] : messages) {
            if (l == level && text.find(phrase) != std::string::npos) return true;
        }
        return false;
    }
};

}  // namespace

TEST(Observer, SeesEveryCopyEveryAcceptedResultProgressAndTheEndOnRankZeroOnly) {
    Grid grid;
    grid.add(Axis::range("x", 0, 20));
    auto recorder = std::make_shared<Recorder>();
    Options options;
    options.output = test_support::fresh_results_path();
    options.observer = recorder;
    options.progress_interval = std::chrono::milliseconds(1);
    options.scheduler.speculate = false;  // every copy is a first try or a retry
    options.scheduler.max_attempts = 2;
    options.scheduler.max_worker_errors = 0;
    const int code = run(
        grid,
        [](const TaskContext& ctx) -> TaskResult {
            const auto x = ctx.params.get<std::int64_t>("x");
            if (x == 7) throw TaskFailure("seven always fails", 3);
            if (x % 5 == 1 && ctx.attempt == 1) throw std::runtime_error("first try fails");
            return {{"y", 10.0 * static_cast<double>(x)}};
        },
        options);
    EXPECT_EQ(code, kExitTasksFailed);
    const Recorder& r = *recorder;
    if (world_rank() != 0) {
        EXPECT_EQ(r.starts + r.ends + r.progress, 0);
        EXPECT_TRUE(r.started.empty() && r.finished.empty() && r.results.empty() && r.messages.empty());
        return;
    }
    EXPECT_FALSE(r.other_thread) << "called from a thread other than run()'s";
    EXPECT_EQ(r.starts, 1);
    EXPECT_EQ(r.start_counts.total, 20u);
    EXPECT_EQ(r.start_counts.done, 0u);
    EXPECT_GE(r.progress, 1) << "progress is reported once at the end at least";
    EXPECT_EQ(r.ends, 1);
    EXPECT_EQ(r.last_exit, kExitTasksFailed);
    EXPECT_EQ(r.end_counts.done, 19u);
    EXPECT_EQ(r.end_counts.failed, 1u);

    // x = 1, 6, 11, 16 and 7 fail once and run again; 7 fails for good the second time.
    EXPECT_EQ(r.started.size(), 25u);
    EXPECT_EQ(r.finished.size(), 25u);
    EXPECT_EQ(r.count(TaskOutcome::Done), 19);
    EXPECT_EQ(r.count(TaskOutcome::Retrying), 5);
    EXPECT_EQ(r.count(TaskOutcome::Failed), 1);
    const int workers = test_support::workers();
    for (const TaskEvent& e : r.started) {
        const int first_worker = world_size() == 1 ? 0 : 1;
        EXPECT_TRUE(e.worker >= first_worker && e.worker < first_worker + workers) << e.worker;
        EXPECT_FALSE(e.host.empty());
        EXPECT_FALSE(e.speculative);
        if (e.task.value() % 5 != 1 && e.task.value() != 7) {
            EXPECT_EQ(e.attempt, 1);
        }
    }
    for (const auto& [e, outcome] : r.finished) {
        if (e.task.value() == 7 && outcome == TaskOutcome::Failed) {
            EXPECT_EQ(e.attempt, 2);
            EXPECT_EQ(e.exit_code, 3);
        }
        if (outcome == TaskOutcome::Done) {
            EXPECT_GE(e.wall_s, 0.0);
        }
    }
    ASSERT_EQ(r.results.size(), 19u);
    for (const auto& [id, xy] : r.results) {
        EXPECT_EQ(static_cast<std::uint64_t>(xy.first), id);
        EXPECT_EQ(xy.second, 10.0 * static_cast<double>(id));
    }
    EXPECT_EQ(r.results.count(7), 0u);
}

TEST(Observer, OneThatThrowsEverywhereChangesNothing) {
    struct Thrower : Observer {
        void on_message(MessageLevel, std::string_view) override { throw std::runtime_error("message"); }
        void on_start(const SweepCounts&) override { throw std::runtime_error("start"); }
        void on_progress(const SweepCounts&, double) override { throw std::runtime_error("progress"); }
        void on_task_started(const TaskEvent&) override { throw std::runtime_error("started"); }
        void on_task_finished(const TaskEvent&, TaskOutcome) override { throw 42; }
        bool wants_results() const override { throw std::runtime_error("wants"); }
        void on_result(TaskId, const Point&, const TaskResult&) override { throw std::runtime_error("r"); }
        void on_end(const SweepCounts&, int) override { throw std::runtime_error("end"); }
    };
    Grid grid;
    grid.add(Axis::range("x", 0, 12));
    Options options;
    options.output = test_support::fresh_results_path();
    options.observer = std::make_shared<Thrower>();
    options.progress_interval = std::chrono::milliseconds(1);
    auto task = [](const TaskContext& ctx) -> TaskResult {
        return {{"y", static_cast<double>(ctx.params.get<std::int64_t>("x"))}};
    };
    EXPECT_EQ(run(grid, task, options), kExitOk);
    EXPECT_EQ(run(grid, task, options), kExitUsage) << "the file exists: a usage error, told to a thrower";
    if (world_rank() == 0) {
        const auto y = test_support::H5File(options.output).doubles("results/y");
        for (std::size_t x = 0; x < y.size(); ++x) EXPECT_EQ(y[x], static_cast<double>(x));
    }
}

TEST(Observer, UsageErrorsRetiredWorkersAndTeardownFailuresAreMessages) {
    Grid grid;
    grid.add(Axis::range("x", 0, 8));
    auto recorder = std::make_shared<Recorder>();
    Options options;
    options.output = test_support::fresh_results_path();
    options.observer = recorder;
    options.scheduler.max_worker_errors = 2;
    options.scheduler.max_attempts = 100;
    options.teardown = [](const WorkerInfo& info) {
        if (info.rank == info.world_size - 1) throw std::runtime_error("cannot free the licence");
    };
    // Rank 1 is broken; the others start nothing until it failed twice (it holds two copies
    // from the start: one running, one prefetched), so it is retired however ranks are timed.
    const std::string failures = options.output + ".failures";
    if (world_rank() == 0) std::remove(failures.c_str());
    MPI_Barrier(MPI_COMM_WORLD);
    const int code = run(
        grid,
        [&failures](const TaskContext& ctx) -> TaskResult {
            if (ctx.worker.rank == 1 || world_size() == 1) {
                std::ofstream(failures, std::ios::app) << "x\n";
                throw std::runtime_error("broken node");
            }
            for (int waited_ms = 0; waited_ms < 60000; ++waited_ms) {
                std::ifstream in(failures);
                if (std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n') >=
                    2)
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            return {{"y", 1.0}};
        },
        options);
    const int last = world_size() - 1;
    EXPECT_EQ(code, world_size() <= 2 ? kExitStalled : kExitOk);
    if (world_rank() == 0) {
        const Recorder& r = *recorder;
        EXPECT_TRUE(r.said(MessageLevel::Warning, "rank 1 on ") || world_size() == 1);
        EXPECT_TRUE(r.said(MessageLevel::Warning,
                           "gets no more tasks after 2 failures in a row; last error: "
                           "broken node"));
        // The same as an event, for observers that keep track of workers (status --running).
        ASSERT_EQ(r.retired.size(), 1u);
        EXPECT_EQ(r.retired[0].first, world_size() == 1 ? 0 : 1);
        EXPECT_EQ(r.retired[0].second, "2 failures in a row; last error: broken node");
        EXPECT_TRUE(r.said(MessageLevel::Warning,
                           "rank " + std::to_string(last) + ": teardown failed: cannot free the licence"));
        if (world_size() <= 2) {
            EXPECT_TRUE(r.said(MessageLevel::Error, "task(s) left pending"));
        }
        EXPECT_EQ(r.last_exit, code);
    }

    // A usage error: one Error message on rank 0, and neither on_start nor on_end.
    auto second = std::make_shared<Recorder>();
    options.observer = second;
    options.teardown = nullptr;
    EXPECT_EQ(run(
                  grid, [](const TaskContext&) -> TaskResult { return {}; }, options),
              kExitUsage);
    if (world_rank() == 0) {
        ASSERT_EQ(second->messages.size(), 1u);
        EXPECT_EQ(second->messages[0].first, MessageLevel::Error);
        EXPECT_NE(second->messages[0].second.find("already exists"), std::string::npos)
            << second->messages[0].second;
        EXPECT_EQ(second->starts + second->ends, 0);
    } else {
        EXPECT_TRUE(second->messages.empty());
    }
}

TEST(Observer, AWorkerWhoseSetupFailsIsRetiredFromTheStart) {
    Grid grid;
    grid.add(Axis::range("x", 0, 6));
    auto recorder = std::make_shared<Recorder>();
    Options options;
    options.output = test_support::fresh_results_path();
    options.observer = recorder;
    const int broken = world_size() == 1 ? 0 : 1;
    options.setup = [broken](const WorkerInfo& info) {
        if (info.rank == broken) throw std::runtime_error("no licence here");
    };
    const int code = run(
        grid, [](const TaskContext&) -> TaskResult { return {}; }, options);
    EXPECT_EQ(code, world_size() <= 2 ? kExitStalled : kExitOk);
    if (world_rank() == 0) {
        ASSERT_EQ(recorder->retired.size(), 1u);
        EXPECT_EQ(recorder->retired[0].first, broken);
        EXPECT_EQ(recorder->retired[0].second, "setup failed: no licence here");
        for (const TaskEvent& e : recorder->started) EXPECT_NE(e.worker, broken) << "task " << e.task;
    }
}

TEST(Observer, WithoutOneRunPrintsNothing) {
    Grid grid;
    grid.add(Axis::range("x", 0, 6));
    Options options;
    options.output = test_support::fresh_results_path();
    options.observer = nullptr;
    options.progress_interval = std::chrono::milliseconds(1);
    options.scheduler.max_worker_errors = 1;  // a retired worker would be a warning
    // This rank's stderr into a file while run() runs.
    const std::string captured = options.output + ".stderr" + std::to_string(world_rank());
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    const int fd = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ::dup2(fd, STDERR_FILENO);
    const int first = run(
        grid,
        [](const TaskContext& ctx) -> TaskResult {
            if (ctx.params.get<std::int64_t>("x") == 2) throw std::runtime_error("fails");
            return {{"y", 1.0}};
        },
        options);
    const int second = run(
        grid, [](const TaskContext&) -> TaskResult { return {}; }, options);
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fd);
    EXPECT_NE(first, kExitUsage);
    EXPECT_EQ(second, kExitUsage);
    std::ifstream in(captured);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(text, "") << "rank " << world_rank() << " printed";
    std::remove(captured.c_str());
}
