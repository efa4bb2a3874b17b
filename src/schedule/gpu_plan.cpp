#include "schedule/gpu_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace mpisweep {
namespace {

// 17179869184 -> "16 GiB" (the schedule module sits above platform's byte_size).
std::string gib(Bytes bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g GiB",
                  static_cast<double>(bytes) / static_cast<double>(Bytes{1} << 30));
    return text;
}

[[noreturn]] void refuse(const std::string& what) {
    throw std::invalid_argument(what);
}

void check_options(const DeviceOptions& o) {
    if (o.gpus_per_task < 1) refuse("gpus_per_task: expected >= 1, got " + std::to_string(o.gpus_per_task));
    if (o.slots_per_gpu < 0) refuse("slots_per_gpu: expected >= 0, got " + std::to_string(o.slots_per_gpu));
    for (const auto& [gpu, slots] : o.gpu_slots) {
        if (gpu < 0 || slots < 1) {
            refuse("gpu_slots: expected GPU >= 0 and slots >= 1, got " + std::to_string(gpu) + ":" +
                   std::to_string(slots));
        }
    }
    if (!(o.learn_margin >= 0)) refuse("learn_margin: expected >= 0, got " + std::to_string(o.learn_margin));
    if (!(o.memory_poll.count() > 0))
        refuse("memory_poll: expected > 0 seconds, got " + std::to_string(o.memory_poll.count()));
}

// Options that need a GPU. Caps (--gpu-slots) limit nothing on CPU: a job script may pass
// them on any node.
bool gpu_options_given(const DeviceOptions& o) {
    return o.memory > 0 || o.memory_of || o.learn_memory || o.gpus_per_task > 1;
}

std::string gpu_options_named(const DeviceOptions& o) {
    std::string names;
    const auto add = [&](bool given, const char* name) {
        if (given) names += (names.empty() ? "" : ", ") + std::string(name);
    };
    add(o.memory > 0 || o.memory_of || o.learn_memory, "--gpu-mem");
    add(o.gpus_per_task > 1, "--gpus-per-task");
    add(o.no_gpu == NoGpuPolicy::Error, "--no-gpu error");
    return names;
}

// The node's GPUs the sweep uses (--devices), as the node's ordinals.
std::vector<int> used_ordinals(const DeviceOptions& o, const WorkerInventory& w) {
    const int present = static_cast<int>(w.total.size());
    std::vector<int> used;
    if (o.devices.empty()) {
        for (int g = 0; g < present; ++g) used.push_back(g);
        return used;
    }
    if (present == 0) return used;  // a node without GPUs: its workers follow --no-gpu
    for (int d : o.devices) {
        if (d < 0 || d >= present) {
            refuse("device " + std::to_string(d) + ": expected a CUDA ordinal in 0.." +
                   std::to_string(present - 1) + " (" + w.host + " has " + std::to_string(present) +
                   " GPU(s))");
        }
        if (std::find(used.begin(), used.end(), d) == used.end()) used.push_back(d);
    }
    return used;
}

int cap_of(const DeviceOptions& o, int ordinal) {
    const auto it = o.gpu_slots.find(ordinal);
    if (it != o.gpu_slots.end()) return it->second;
    if (o.slots_per_gpu > 0) return o.slots_per_gpu;
    const bool memory_decides = o.memory > 0 || o.memory_of || o.learn_memory;
    return memory_decides ? 0 : 1;
}

struct Node {
    const WorkerInventory* first = nullptr;
    std::vector<int> ordinals;
    std::vector<WorkerId> workers;
};

std::vector<Node> group_nodes(const DeviceOptions& o, const std::vector<WorkerInventory>& workers) {
    std::vector<Node> nodes;
    for (const WorkerInventory& w : workers) {
        auto it =
            std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.first->host == w.host; });
        if (it == nodes.end()) {
            nodes.push_back({&w, used_ordinals(o, w), {}});
            it = nodes.end() - 1;
        }
        it->workers.push_back(w.worker);
    }
    return nodes;
}

void check_against_nodes(const DeviceOptions& o, const std::vector<Node>& nodes) {
    std::size_t most_gpus = 0;
    Bytes largest = 0;
    for (const Node& n : nodes) {
        most_gpus = std::max(most_gpus, n.ordinals.size());
        for (int g : n.ordinals) largest = std::max(largest, n.first->total[static_cast<std::size_t>(g)]);
        if (o.learn_memory && !n.ordinals.empty() && !n.first->per_process) {
            refuse("--gpu-mem auto: " + n.first->host + " cannot tell each process's GPU memory (backend " +
                   n.first->backend + ", NVML not found): declare what a task needs, e.g. --gpu-mem 6G");
        }
    }
    for (const auto& [gpu, slots] : o.gpu_slots) {
        if (gpu >= static_cast<int>(most_gpus)) {
            refuse("--gpu-slots " + std::to_string(gpu) + ":" + std::to_string(slots) +
                   ": no node has a GPU " + std::to_string(gpu) + " (the most GPUs on a node is " +
                   std::to_string(most_gpus) + ")");
        }
    }
    if (o.gpus_per_task > static_cast<int>(most_gpus)) {
        refuse("--gpus-per-task " + std::to_string(o.gpus_per_task) +
               ": no node has that many GPUs (at most " + std::to_string(most_gpus) + " on one node)");
    }
    if (o.memory > largest) {
        refuse("--gpu-mem " + gib(o.memory) + ": more than any GPU has (the largest has " + gib(largest) +
               ")");
    }
}

int add_node(GpuPlacement& placement, const DeviceOptions& o, const Node& n, GpuPlan& plan) {
    std::vector<PlacementGpu> gpus;
    for (int g : n.ordinals) {
        const auto i = static_cast<std::size_t>(g);
        gpus.push_back({n.first->total[i], std::min(n.first->free[i], n.first->total[i]), cap_of(o, g)});
    }
    const int index = placement.add_node(gpus);
    plan.hosts.push_back(n.first->host);
    for (WorkerId w : n.workers) {
        placement.add_worker(w, index);
        plan.node_of[w.value()] = index;
    }
    return index;
}

// Workers that get no GPU of their own: --no-gpu decides.
void apply_no_gpu(const DeviceOptions& o, const std::vector<std::pair<WorkerId, std::string>>& without_gpu,
                  const std::vector<WorkerInventory>& workers, GpuPlan& plan) {
    for (const auto& [w, why] : without_gpu) {
        const std::string who = "rank " + std::to_string(w.value()) + " gets no GPU (" + why + ")";
        switch (o.no_gpu) {
            case NoGpuPolicy::Error:
                refuse(who + " and --no-gpu is error: give the job fewer workers or more GPUs");
            case NoGpuPolicy::Wait:
                plan.notices.push_back(who + ": it takes no task (--no-gpu cpu would run it on CPU)");
                break;
            case NoGpuPolicy::Cpu:
                plan.notices.push_back(who + ": it runs its tasks on CPU (--no-gpu cpu)");
                break;
        }
    }
    // Under --no-gpu cpu, any worker runs a copy on CPU when no GPU has room for it.
    if (o.no_gpu == NoGpuPolicy::Cpu) {
        for (const WorkerInventory& w : workers) plan.gate->allow_cpu(w.worker);
    }
}

}  // namespace

GpuPlan plan_gpus(const DeviceOptions& o, const std::vector<WorkerInventory>& workers, bool in_process,
                  GpuGate::DeclaredMemory declared) {
    check_options(o);
    GpuPlan plan;
    const std::vector<Node> nodes = group_nodes(o, workers);
    const bool any_gpu = !o.cpu_only && std::any_of(nodes.begin(), nodes.end(),
                                                    [](const Node& n) { return !n.ordinals.empty(); });
    if (!any_gpu) {
        if (!o.cpu_only && (gpu_options_given(o) || o.no_gpu == NoGpuPolicy::Error)) {
            const std::string backend = workers.empty() ? "none" : workers.front().backend;
            refuse("no node of this job has a GPU (" +
                   (workers.empty() ? "no worker" : workers.front().host) + ": backend " + backend +
                   "), but " + gpu_options_named(o) +
                   " ask for one: run on GPU nodes, or without those options on CPU");
        }
        return plan;
    }
    check_against_nodes(o, nodes);
    PlacementOptions po;
    po.gpus_per_task = o.gpus_per_task;
    po.learn = o.learn_memory;
    po.learn_margin = o.learn_margin;
    GpuPlacement placement(po);
    std::vector<std::pair<WorkerId, std::string>> without_gpu;
    for (const Node& n : nodes) {
        const int index = add_node(placement, o, n, plan);
        for (WorkerId w : n.workers) {
            if (n.ordinals.empty()) {
                without_gpu.emplace_back(w, n.first->host + " has no GPU");
            } else if (in_process) {
                std::vector<int>& bound = plan.bound[w.value()] = placement.bind(w);
                for (int& g : bound) g = n.ordinals[static_cast<std::size_t>(g)];
                if (bound.empty())
                    without_gpu.emplace_back(w, "every GPU of " + n.first->host + " has its workers");
            }
        }
        (void)index;
    }
    // A task's own declaration (memory_of), else the sweep's (memory), else none. One larger
    // than every GPU would wait forever: an error instead.
    const Bytes largest = placement.largest_gpu();
    GpuGate::DeclaredMemory effective = [declared = std::move(declared), memory = o.memory,
                                         largest](TaskId t) {
        std::optional<Bytes> bytes = declared ? declared(t) : std::nullopt;
        if (!bytes && memory > 0) bytes = memory;
        if (bytes && *bytes > largest) {
            refuse("task " + std::to_string(t.value()) + " needs " + gib(*bytes) +
                   " of GPU memory: more than any GPU has (the largest has " + gib(largest) + ")");
        }
        return bytes;
    };
    plan.gate.emplace(std::move(placement), std::move(effective));
    for (std::size_t n = 0; n < nodes.size(); ++n) {
        const std::vector<int>& ordinals = nodes[n].ordinals;
        bool identity = true;
        for (std::size_t g = 0; g < ordinals.size(); ++g)
            identity = identity && ordinals[g] == static_cast<int>(g);
        if (!identity) plan.gate->set_ordinals(static_cast<int>(n), ordinals);
    }
    apply_no_gpu(o, without_gpu, workers, plan);
    return plan;
}

}  // namespace mpisweep
