#pragma once
// A master and several workers in one test process, without mpirun: the real Master, Worker,
// Scheduler and ResultStore (a real HDF5 file in a fresh folder), talking over a LocalNetwork
// that records every message, on a fake clock, each rank stepped when the test says, each
// with stop signals of its own. After every master step the scheduler's invariants are
// checked. Tasks advance the fake clock to take time.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/master.hpp"
#include "runtime/worker.hpp"
#include "support/h5_read.hpp"
#include "transport/local_network.hpp"

namespace runtime_test {

using namespace mpisweep;

class FakeClock final : public Clock {
public:
    double now() const override { return t_; }
    void sleep_until(double t) const override {
        if (t > t_) t_ = t;
    }
    void advance(double seconds) { t_ += seconds; }

private:
    mutable double t_ = 1000.0;
};

class FakeSignals final : public StopSignals {
public:
    int signal() const override { return signal_; }
    bool urgent() const override { return urgent_; }
    void closing() const override {}
    void raise(int sig) {
        if (signal_ != 0) urgent_ = true;
        if (signal_ == 0) signal_ = sig;
    }

private:
    int signal_ = 0;
    bool urgent_ = false;
};

/// What the transport's abort() threw in place of ending the process.
struct Aborted {
    int code;
};

class Rig {
public:
    /// Workers on ranks 1..n_workers (host "node<rank>").
    Rig(int n_workers, const Grid& grid, TaskFunction task, Options options)
        : grid_(grid), task_(std::move(task)), options_(std::move(options)) {
        std::string pattern = (std::filesystem::temp_directory_path() / "runtime_test.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = pattern;
        options_.output = dir_ + "/sweep.h5";
        StoreOptions so;
        so.path = options_.output;
        so.mpi_size = n_workers + 1;
        so.flush_rows = options_.flush_rows;
        store_ = std::make_unique<ResultStore>(ResultStore::create(grid_, so));

        std::vector<int> ranks;
        std::vector<WorkerId> ids;
        std::vector<WorkerSlot> slots(1);
        for (int rank = 1; rank <= n_workers; ++rank) {
            ranks.push_back(rank);
            ids.emplace_back(rank);
            WorkerSlot slot;
            slot.host = "node" + std::to_string(rank);
            slot.ready = true;
            slots.push_back(slot);
        }
        net_ = std::make_unique<LocalNetwork>(clock_, ranks, true);
        net_->on_abort([](int code) { throw Aborted{code}; });
        scheduler_ = std::make_unique<Scheduler>(grid_.size(), ids, options_.scheduler);
        master_signals_ = std::make_unique<FakeSignals>();
        master_ = std::make_unique<Master>(net_->master(), grid_, options_, *store_, *scheduler_, slots,
                                           *master_signals_);
        for (int rank : ranks) {
            auto info = std::make_unique<WorkerInfo>();
            info->rank = rank;
            info->world_size = n_workers + 1;
            info->host = "node" + std::to_string(rank);
            auto signals = std::make_unique<FakeSignals>();
            workers_[rank] = std::make_unique<Worker>(net_->worker(rank), grid_, task_, *info,
                                                      options_.batch_target.count() / 2, *signals);
            infos_.push_back(std::move(info));
            worker_signals_[rank] = std::move(signals);
        }
        master_->start();
    }
    ~Rig() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    FakeClock& clock() { return clock_; }
    LocalNetwork& net() { return *net_; }
    Scheduler& scheduler() { return *scheduler_; }
    Master& master() { return *master_; }
    Worker& worker(int rank) { return *workers_.at(rank); }
    FakeSignals& master_signals() { return *master_signals_; }
    FakeSignals& signals_of(int rank) { return *worker_signals_.at(rank); }
    const std::string& path() const { return options_.output; }

    /// One master step; false once the sweep is over.
    bool step_master() {
        const bool more = master_->step();
        scheduler_->check_invariants();
        return more;
    }
    bool step_worker(int rank) { return workers_.at(rank)->step(); }
    /// Steps a worker until it has nothing to do: it runs what it holds and answers what
    /// the master sent it.
    void work(int rank) {
        while (step_worker(rank)) {}
    }
    /// Master, then each worker, until the master is over. Returns the exit code.
    int run_to_end(int max_rounds = 100000) {
        for (int round = 0; round < max_rounds; ++round) {
            if (!step_master()) return master_->exit_code();
            for (auto& [rank, worker] : workers_) worker->step();
        }
        ADD_FAILURE() << "the sweep did not end in " << max_rounds << " rounds";
        return -1;
    }
    /// Closes the file (as run() does after the master) and opens it for reading.
    std::unique_ptr<test_support::H5File> close_and_read() {
        store_->close();
        return std::make_unique<test_support::H5File>(path());
    }

    /// The messages of one tag, to one worker (0: from any) or to the master.
    std::vector<SentMessage> sent(Tag tag, int worker = 0, bool to_master = false) const {
        std::vector<SentMessage> out;
        for (const SentMessage& m : net_->record()) {
            if (m.tag == tag && m.to_master == to_master && (worker == 0 || m.worker == worker))
                out.push_back(m);
        }
        return out;
    }
    /// Task ids sent as copies to `worker` (or to any), in order.
    std::vector<std::uint64_t> copies_sent(int worker = 0) const {
        std::vector<std::uint64_t> ids;
        for (const SentMessage& m : sent(Tag::Tasks, worker))
            ids.insert(ids.end(), m.tasks.begin(), m.tasks.end());
        return ids;
    }
    /// Every copy a worker was sent was answered by exactly one report of that worker, and
    /// no report answers a copy it was not sent (the protocol's promise, read off the wire).
    void expect_every_copy_answered_once() const {
        for (const auto& [rank, worker] : workers_) {
            std::multiset<std::uint64_t> copies, answers;
            for (std::uint64_t id : copies_sent(rank)) copies.insert(id);
            for (const SentMessage& m : sent(Tag::Reports, rank, true))
                answers.insert(m.tasks.begin(), m.tasks.end());
            EXPECT_EQ(copies, answers) << "worker " << rank;
        }
    }

private:
    std::string dir_;
    Grid grid_;
    TaskFunction task_;
    Options options_;
    FakeClock clock_;
    std::unique_ptr<ResultStore> store_;
    std::unique_ptr<LocalNetwork> net_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<FakeSignals> master_signals_;
    std::unique_ptr<Master> master_;
    std::vector<std::unique_ptr<WorkerInfo>> infos_;
    std::map<int, std::unique_ptr<FakeSignals>> worker_signals_;
    std::map<int, std::unique_ptr<Worker>> workers_;
};

/// Keeps the messages a run sends its observer, for tests that look for a phrase.
struct Messages : Observer {
    std::vector<std::string> lines;
    void on_message(MessageLevel, std::string_view text) override { lines.emplace_back(text); }
    bool said(const std::string& phrase) const {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& l) { return l.find(phrase) != std::string::npos; });
    }
};

/// Options for a rig: silent, no speculation unless a test turns it on.
inline Options quiet_options() {
    Options o;
    o.observer = nullptr;
    o.scheduler.speculate = false;
    o.batch_target = Duration(0);  // one task per message unless a test batches
    return o;
}

inline Grid range_grid(std::int64_t n) {
    Grid grid;
    grid.add(Axis::range("x", 0, n));
    return grid;
}

/// A rig over range_grid(`tasks`) whose every task takes `seconds` on the rig's clock and
/// returns no result.
inline std::unique_ptr<Rig> timed_rig(int workers, std::int64_t tasks, double seconds, Options options) {
    auto clock = std::make_shared<FakeClock*>(nullptr);
    auto rig = std::make_unique<Rig>(
        workers, range_grid(tasks),
        [clock, seconds](const TaskContext&) -> TaskResult {
            (*clock)->advance(seconds);
            return {};
        },
        std::move(options));
    *clock = &rig->clock();
    return rig;
}

}  // namespace runtime_test
