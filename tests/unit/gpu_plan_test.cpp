// From the workers' inventories and the device options to the gate: nodes by host, caps,
// bound GPUs, workers without a GPU, --devices, and every refusal naming what to do.
#include "schedule/gpu_plan.hpp"

#include <gtest/gtest.h>

using namespace mpisweep;

namespace {

constexpr Bytes GiB = Bytes{1} << 30;

// `per_node` workers on each host, ranks from 1, each host with `gpus` GPUs of `total`.
std::vector<WorkerInventory> inventory(const std::vector<std::pair<std::string, int>>& hosts, int per_node,
                                       Bytes total = 16 * GiB, std::string backend = "fake") {
    std::vector<WorkerInventory> out;
    int rank = 1;
    for (const auto& [host, gpus] : hosts) {
        for (int i = 0; i < per_node; ++i) {
            WorkerInventory w;
            w.worker = WorkerId(rank++);
            w.host = host;
            w.backend = backend;
            w.total.assign(static_cast<std::size_t>(gpus), total);
            w.free = w.total;
            w.per_process = backend != "cuda";
            out.push_back(w);
        }
    }
    return out;
}

std::string refusal(const DeviceOptions& o, const std::vector<WorkerInventory>& w, bool in_process = false) {
    try {
        plan_gpus(o, w, in_process, {});
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(GpuPlan, NoGpuAnywhereIsACpuSweepUnlessGpuOptionsAskForOne) {
    DeviceOptions o;
    EXPECT_FALSE(plan_gpus(o, inventory({{"n1", 0}, {"n2", 0}}, 2), false, {}).gate);
    o.cpu_only = true;  // GPUs present but not used
    EXPECT_FALSE(plan_gpus(o, inventory({{"n1", 4}}, 2), false, {}).gate);
    o = DeviceOptions{};
    o.memory = 6 * GiB;
    o.gpus_per_task = 2;
    const std::string why = refusal(o, inventory({{"n1", 0}}, 2, 0, "none"));
    EXPECT_NE(why.find("no node of this job has a GPU (n1: backend none)"), std::string::npos) << why;
    EXPECT_NE(why.find("--gpu-mem, --gpus-per-task"), std::string::npos) << why;
    o = DeviceOptions{};
    o.no_gpu = NoGpuPolicy::Error;
    EXPECT_NE(refusal(o, inventory({{"n1", 0}}, 1)).find("--no-gpu error"), std::string::npos);
    // Caps need no GPU: a job script passes them on CPU nodes too.
    o = DeviceOptions{};
    o.slots_per_gpu = 2;
    o.gpu_slots = {{0, 1}};
    EXPECT_FALSE(plan_gpus(o, inventory({{"n1", 0}}, 2), false, {}).gate);
}

TEST(GpuPlan, NodesByHostWithCapsFromTheOptions) {
    DeviceOptions o;
    o.gpu_slots = {{0, 1}, {1, 3}};
    GpuPlan plan = plan_gpus(o, inventory({{"n1", 2}, {"n2", 2}}, 4), false, {});
    ASSERT_TRUE(plan.gate);
    EXPECT_EQ(plan.hosts, (std::vector<std::string>{"n1", "n2"}));
    EXPECT_EQ(plan.node_of.at(4), 0);
    EXPECT_EQ(plan.node_of.at(5), 1);
    // Caps: GPU 0 one copy, GPU 1 three; no memory declared.
    int on0 = 0, on1 = 0;
    for (int w = 1; w <= 4; ++w) {
        if (plan.gate->admit(WorkerId(w), TaskId(w), false, 0)) {
            (plan.gate->devices(WorkerId(w), TaskId(w))[0] == 0 ? on0 : on1)++;
        }
    }
    EXPECT_EQ(on0, 1);
    EXPECT_EQ(on1, 3);
    EXPECT_TRUE(plan.notices.empty());
}

TEST(GpuPlan, DefaultCapIsOneWithoutMemoryAndNoneWithIt) {
    DeviceOptions o;
    GpuPlan one = plan_gpus(o, inventory({{"n1", 1}}, 3), false, {});
    int admitted = 0;
    for (int w = 1; w <= 3; ++w) admitted += one.gate->admit(WorkerId(w), TaskId(w), false, 0) ? 1 : 0;
    EXPECT_EQ(admitted, 1);
    o.memory = 5 * GiB;
    GpuPlan packed = plan_gpus(o, inventory({{"n1", 1}}, 4), false, [](TaskId) { return std::nullopt; });
    admitted = 0;
    for (int w = 1; w <= 4; ++w) admitted += packed.gate->admit(WorkerId(w), TaskId(w), false, 0) ? 1 : 0;
    EXPECT_EQ(admitted, 3);  // 16 GiB hold three of 5 GiB
}

TEST(GpuPlan, BoundWorkersAndWorkersWithoutAGpu) {
    DeviceOptions o;  // one worker per GPU
    GpuPlan plan = plan_gpus(o, inventory({{"n1", 2}, {"n2", 0}}, 3), true, {});
    EXPECT_EQ(plan.bound.at(1), std::vector<int>{0});
    EXPECT_EQ(plan.bound.at(2), std::vector<int>{1});
    EXPECT_TRUE(plan.bound.at(3).empty());
    ASSERT_EQ(plan.notices.size(), 4u);  // rank 3 (GPUs taken), ranks 4-6 (n2 has none)
    EXPECT_NE(plan.notices[0].find("rank 3 gets no GPU (every GPU of n1 has its workers): it takes no task"),
              std::string::npos)
        << plan.notices[0];
    EXPECT_NE(plan.notices[1].find("rank 4 gets no GPU (n2 has no GPU)"), std::string::npos)
        << plan.notices[1];
    EXPECT_FALSE(plan.gate->admit(WorkerId(3), TaskId(0), false, 0));
    EXPECT_FALSE(plan.gate->admit(WorkerId(4), TaskId(0), false, 0));
    o.no_gpu = NoGpuPolicy::Cpu;
    GpuPlan cpu = plan_gpus(o, inventory({{"n1", 2}, {"n2", 0}}, 3), true, {});
    ASSERT_TRUE(cpu.gate->admit(WorkerId(4), TaskId(0), false, 0));
    EXPECT_TRUE(cpu.gate->devices(WorkerId(4), TaskId(0)).empty());
    EXPECT_NE(cpu.notices[1].find("it runs its tasks on CPU (--no-gpu cpu)"), std::string::npos);
    o.no_gpu = NoGpuPolicy::Error;
    EXPECT_NE(refusal(o, inventory({{"n1", 2}}, 3), true).find("rank 3 gets no GPU"), std::string::npos);
}

TEST(GpuPlan, DevicesChooseGpusByTheNodesOrdinals) {
    DeviceOptions o;
    o.devices = {3, 1};
    GpuPlan plan = plan_gpus(o, inventory({{"n1", 4}}, 2), false, {});
    std::vector<int> used;
    for (int w = 1; w <= 2; ++w) {
        ASSERT_TRUE(plan.gate->admit(WorkerId(w), TaskId(w), false, 0));
        used.push_back(plan.gate->devices(WorkerId(w), TaskId(w))[0]);
    }
    std::sort(used.begin(), used.end());
    EXPECT_EQ(used, (std::vector<int>{1, 3}));
    // A reading of all four GPUs of the node reaches the two used ones.
    plan.gate->report_free(0, {1, 2, 3, 4}, std::nullopt, 10);
    o.devices = {4};
    EXPECT_NE(refusal(o, inventory({{"n1", 4}}, 1))
                  .find("device 4: expected a CUDA ordinal in 0..3 (n1 has 4 GPU(s))"),
              std::string::npos);
}

TEST(GpuPlan, RefusesWhatCannotWorkOnTheseNodes) {
    DeviceOptions o;
    o.gpus_per_task = 3;
    EXPECT_NE(refusal(o, inventory({{"n1", 2}}, 1))
                  .find("--gpus-per-task 3: no node has that many GPUs (at most 2"),
              std::string::npos);
    o = DeviceOptions{};
    o.memory = 20 * GiB;
    EXPECT_NE(refusal(o, inventory({{"n1", 2}}, 1)).find("more than any GPU has (the largest has 16 GiB)"),
              std::string::npos);
    o = DeviceOptions{};
    o.gpu_slots = {{2, 1}};
    EXPECT_NE(refusal(o, inventory({{"n1", 2}}, 1)).find("--gpu-slots 2:1: no node has a GPU 2"),
              std::string::npos);
    o = DeviceOptions{};
    o.learn_memory = true;
    EXPECT_NE(refusal(o, inventory({{"n1", 2}}, 1, 16 * GiB, "cuda")).find("--gpu-mem auto: n1 cannot tell"),
              std::string::npos);
    EXPECT_TRUE(plan_gpus(o, inventory({{"n1", 2}}, 1), false, {}).gate);  // fake GPUs tell
    o = DeviceOptions{};
    o.gpus_per_task = 0;
    EXPECT_NE(refusal(o, inventory({{"n1", 2}}, 1)).find("gpus_per_task: expected >= 1"), std::string::npos);
}
