// The scheduler with the GPU gate, on a simulated clock: packing reaches the bound, no GPU is
// ever oversubscribed, tasks start in id order, waiting workers and CPU fallback, speculation
// only where there is room, and the gate is not asked again while nothing changed.
#include "schedule/gpu_gate.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <random>

using namespace mpisweep;

namespace {

constexpr Bytes GiB = Bytes{1} << 30;

// Nodes of GPUs; workers numbered from 1 across the nodes in order.
struct Layout {
    std::vector<std::vector<PlacementGpu>> nodes;
    std::vector<int> workers_per_node;
};

// Runs a sweep to the end on a simulated clock; checks each GPU's memory and count at every
// start against what the running copies declared.
class Simulation {
public:
    Simulation(const Layout& layout, std::uint64_t n_tasks, std::function<double(std::uint64_t)> duration,
               std::function<std::optional<Bytes>(TaskId)> declared,
               SchedulerOptions options = no_speculation())
        : layout_(layout),
          duration_(std::move(duration)),
          declared_(declared),
          gate_(make_placement(layout, workers_), declared),
          scheduler_(n_tasks, worker_ids(), options) {
        scheduler_.set_gate(&gate_);
    }

    static SchedulerOptions no_speculation() {
        SchedulerOptions o;
        o.prefetch = 0;
        o.speculate = false;
        return o;
    }

    GpuGate& gate() { return gate_; }
    Scheduler& scheduler() { return scheduler_; }

    // Runs until every task is settled; returns the makespan.
    double run() {
        while (!scheduler_.finished()) {
            start_assigned();
            if (running_.empty()) {
                ADD_FAILURE() << "nothing runs and tasks are left at t=" << now_;
                return now_;
            }
            auto next = running_.begin();
            for (auto it = running_.begin(); it != running_.end(); ++it) {
                if (it->second.end < next->second.end) next = it;
            }
            now_ = next->second.end;
            const auto [w, t] = next->first;
            running_.erase(next);
            const DoneOutcome done = scheduler_.on_done(WorkerId(w), TaskId(t), now_);
            gate_.finish(WorkerId(w), TaskId(t), CopyEnd::Done);
            if (done.accepted) gate_.forget(TaskId(t));
            EXPECT_TRUE(done.cancels.empty());
            gate_.placement().check_invariants();
        }
        return now_;
    }

    void start_assigned() {
        for (const Assignment& a : scheduler_.assign(now_)) {
            const std::vector<int>& gpus = gate_.devices(a.worker, a.task);
            const int node = gate_.placement().node_of(a.worker);
            starts_.push_back(a.task.value());
            Copy c{node, gpus, declared_(a.task).value_or(0), now_ + duration_(a.task.value())};
            running_[{a.worker.value(), a.task.value()}] = c;
            check_gpus(node);
        }
    }

    // What the running copies declared on each GPU of `node` fits it, within its cap.
    void check_gpus(int node) {
        const auto& gpus = layout_.nodes[static_cast<std::size_t>(node)];
        for (std::size_t g = 0; g < gpus.size(); ++g) {
            Bytes declared = gpus[g].total - gpus[g].free;  // other users'
            int count = 0;
            for (const auto& [key, c] : running_) {
                if (c.node != node) continue;
                for (int i : c.gpus) {
                    if (i == static_cast<int>(g)) declared += c.declared, ++count;
                }
            }
            ASSERT_LE(declared, gpus[g].total) << "GPU " << g << " of node " << node << " at t=" << now_;
            if (gpus[g].cap > 0) {
                ASSERT_LE(count, gpus[g].cap);
            }
            peak_[{node, static_cast<int>(g)}] = std::max(peak_[{node, static_cast<int>(g)}], count);
        }
    }

    const std::vector<std::uint64_t>& starts() const { return starts_; }
    int peak(int node, int gpu) { return peak_[{node, gpu}]; }

private:
    struct Copy {
        int node = 0;
        std::vector<int> gpus;
        Bytes declared = 0;
        double end = 0;
    };

    static GpuPlacement make_placement(const Layout& layout, std::vector<WorkerId>& workers) {
        GpuPlacement p({});
        int rank = 1;
        for (std::size_t n = 0; n < layout.nodes.size(); ++n) {
            const int node = p.add_node(layout.nodes[n]);
            for (int i = 0; i < layout.workers_per_node[n]; ++i) {
                p.add_worker(WorkerId(rank), node);
                workers.emplace_back(rank++);
            }
        }
        return p;
    }
    std::vector<WorkerId> worker_ids() const { return workers_; }

    Layout layout_;
    std::vector<WorkerId> workers_;
    std::function<double(std::uint64_t)> duration_;
    std::function<std::optional<Bytes>(TaskId)> declared_;
    GpuGate gate_;
    Scheduler scheduler_;
    double now_ = 0;
    std::map<std::pair<int, std::uint64_t>, Copy> running_;
    std::vector<std::uint64_t> starts_;
    std::map<std::pair<int, int>, int> peak_;
};

std::vector<PlacementGpu> gpus(int n, Bytes total, int cap = 0) {
    return std::vector<PlacementGpu>(static_cast<std::size_t>(n), PlacementGpu{total, total, cap});
}

}  // namespace

TEST(GpuGate, TwoHundredTasksOf3GOnFourGpusOf16GReachThePackingBound) {
    // 5 copies of 3 GiB fit a 16 GiB GPU: 20 at once on 4 GPUs, 200 tasks of 1 s: 10 s.
    Simulation sim(
        {{gpus(4, 16 * GiB)}, {24}}, 200, [](std::uint64_t) { return 1.0; },
        [](TaskId) { return std::optional<Bytes>(3 * GiB); });
    EXPECT_DOUBLE_EQ(sim.run(), 10.0);
    for (int g = 0; g < 4; ++g) EXPECT_EQ(sim.peak(0, g), 5);
    EXPECT_TRUE(std::is_sorted(sim.starts().begin(), sim.starts().end()));
}

TEST(GpuGate, MixedDeclarationsOnUnequalNodesNeverOversubscribe) {
    std::mt19937_64 rng(7);
    std::vector<Bytes> need(300);
    std::vector<double> duration(300);
    for (auto& n : need) n = (1 + rng() % 10) * GiB;
    for (auto& d : duration) d = 0.5 + static_cast<double>(rng() % 100) / 50.0;
    Layout layout{
        {{{16 * GiB, 16 * GiB, 0}, {24 * GiB, 20 * GiB, 3}}, {{12 * GiB, 12 * GiB, 0}}, gpus(3, 40 * GiB)},
        {6, 3, 8}};
    Simulation sim(
        layout, need.size(), [&](std::uint64_t t) { return duration[t]; },
        [&](TaskId t) { return std::optional<Bytes>(need[t.value()]); });
    sim.run();
    EXPECT_EQ(sim.scheduler().counts().done, need.size());
    EXPECT_TRUE(std::is_sorted(sim.starts().begin(), sim.starts().end()));  // in id order
    EXPECT_EQ(sim.gate().copies(), 0u);
}

TEST(GpuGate, WorkersWithoutRoomWaitOrFallBackToCpu) {
    // One GPU with one slot, three workers: one copy at a time on the GPU; worker 3 may use CPU.
    Simulation sim(
        {{gpus(1, 16 * GiB, 1)}, {3}}, 6, [](std::uint64_t) { return 1.0; },
        [](TaskId) { return std::nullopt; });
    sim.gate().allow_cpu(WorkerId(3));
    const Assignments first = sim.scheduler().assign(0);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].worker, WorkerId(1));
    EXPECT_EQ(sim.gate().devices(first[0].worker, first[0].task), std::vector<int>{0});
    EXPECT_EQ(first[1].worker, WorkerId(3));  // worker 2 waits; worker 3 runs on CPU
    EXPECT_TRUE(sim.gate().devices(first[1].worker, first[1].task).empty());
    EXPECT_EQ(sim.scheduler().counts().pending, 4u);  // task 2 went back, first in line
    EXPECT_THROW(sim.gate().devices(WorkerId(2), TaskId(2)), std::logic_error);
}

TEST(GpuGate, NotAskedAgainWhileNothingChanged) {
    int asked = 0;
    Simulation sim(
        {{gpus(1, 16 * GiB)}, {4}}, 10, [](std::uint64_t) { return 1.0; },
        [&](TaskId) {
            ++asked;
            return std::optional<Bytes>(10 * GiB);
        });
    ASSERT_EQ(sim.scheduler().assign(0).size(), 1u);
    const int after_first = asked;
    EXPECT_GE(after_first, 2);  // the others were asked and refused
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(sim.scheduler().assign(0.1 * i).empty());
    EXPECT_EQ(asked, after_first);
    // A memory reading changes the gate's version: asked again (still no room).
    sim.gate().report_free(0, {6 * GiB}, std::vector<Bytes>{10 * GiB}, 0.5);
    EXPECT_TRUE(sim.scheduler().assign(0.6).empty());
    EXPECT_GT(asked, after_first);
}

TEST(GpuGate, SpeculativeCopiesNeedRoomToo) {
    SchedulerOptions o;
    o.prefetch = 0;
    o.speculate = true;
    o.min_samples = 1;
    o.max_speculative = 4;
    // One GPU of 16 GiB, two workers, two tasks of 6 GiB: task 0 is slow, task 1 quick.
    Simulation sim(
        {{gpus(1, 16 * GiB)}, {2}}, 2, [](std::uint64_t t) { return t == 0 ? 100.0 : 1.0; },
        [](TaskId) { return std::optional<Bytes>(6 * GiB); }, o);
    const auto first = sim.scheduler().assign(0);
    ASSERT_EQ(first.size(), 2u);
    const Assignment quick = first[0].task.value() == 1 ? first[0] : first[1];
    sim.scheduler().on_done(quick.worker, quick.task, 1.0);
    sim.gate().finish(quick.worker, quick.task, CopyEnd::Done);
    // Someone else takes 8 GiB: 2 GiB left, no room for a second copy of task 0.
    sim.gate().report_free(0, {2 * GiB}, std::vector<Bytes>{6 * GiB}, 1.5);
    EXPECT_TRUE(sim.scheduler().assign(50.0).empty());
    // They leave: the overdue task gets its speculative copy.
    sim.gate().report_free(0, {10 * GiB}, std::vector<Bytes>{6 * GiB}, 51.0);
    const auto late = sim.scheduler().assign(52.0);
    ASSERT_EQ(late.size(), 1u);
    EXPECT_TRUE(late[0].speculative);
    EXPECT_EQ(late[0].task, TaskId(0));
    EXPECT_EQ(sim.gate().devices(late[0].worker, late[0].task), std::vector<int>{0});
}
