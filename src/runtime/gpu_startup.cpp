#include "runtime/gpu_startup.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdio>
#include <cstdlib>

#include "platform/device.hpp"
#include "runtime/notifier.hpp"
#include "transport/node.hpp"

namespace mpisweep {
namespace {

constexpr int kRoot = 0;

// What this worker finds on its node; the backend stays open for its watch.
GpuInventory take_inventory(const WorkerInfo& info, const Options& options, GpuStartup& out) {
    GpuInventory inventory;
    inventory.host = info.host;
    try {
        out.backend = open_gpu_backend(GpuEnvironment::from_process(options.devices.cpu_only));
        out.worker.devices = out.backend->devices();
        inventory.backend = out.backend->name();
        for (const GpuDevice& d : out.worker.devices) {
            inventory.total.push_back(d.total);
            inventory.free.push_back(d.free);
        }
        inventory.per_process = !out.worker.devices.empty() && out.backend->process_memory().has_value();
    } catch (const std::exception& e) {
        inventory.error = "rank " + std::to_string(info.rank) + " on " + info.host + ": " + e.what();
    }
    // The job was given GPUs (Slurm sets CUDA_VISIBLE_DEVICES) that nothing here sees: say so
    // once per node, or a GPU job runs on CPU without a word.
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    if (out.worker.devices.empty() && !options.devices.cpu_only && visible != nullptr && *visible != '\0' &&
        info.local_worker_index == 0 && inventory.error.empty()) {
        out.warning = "rank " + std::to_string(info.rank) + " on " + info.host +
                      ": CUDA_VISIBLE_DEVICES=" + visible + " but " +
                      (built_with_cuda() ? "CUDA reports no device (no driver?)"
                                         : "this mpisweep was built without CUDA") +
                      "; the workers of this node run on CPU";
    }
    return inventory;
}

// What the first tasks declare (all of a grid up to kTasksChecked): a declaration that is not a
// size, or larger than every GPU, stops the sweep before it starts. The rest are checked
// when they come up (the job then ends with the same message).
constexpr std::uint64_t kTasksChecked = 200000;

std::string gib(Bytes b) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g GiB",
                  static_cast<double>(b) / static_cast<double>(Bytes{1} << 30));
    return text;
}

void check_declared(const Grid& grid, const Options& options, Bytes largest) {
    Point point = grid.at(TaskId(0));
    for (std::uint64_t t = 0; t < std::min(grid.size(), kTasksChecked); ++t) {
        grid.at(TaskId(t), point);
        Bytes bytes = 0;
        try {
            bytes = options.devices.memory_of(point);
        } catch (const std::exception& e) {
            throw std::invalid_argument("task " + std::to_string(t) + ": " + e.what());
        }
        if (bytes > largest) {
            throw std::invalid_argument("task " + std::to_string(t) + " needs " + gib(bytes) +
                                        " of GPU memory: more than any GPU has (the largest has " +
                                        gib(largest) + ")");
        }
    }
}

// Rank 0: the plan from every worker's inventory; nullopt after telling the observer why not.
std::optional<GpuPlan> make_plan(const Grid& grid, const Options& options,
                                 const std::vector<GpuInventory>& all, int first_worker) {
    const Notifier notify(options.observer);
    std::vector<WorkerInventory> workers;
    for (std::size_t rank = static_cast<std::size_t>(first_worker); rank < all.size(); ++rank) {
        const GpuInventory& inv = all[rank];
        if (!inv.error.empty()) {
            notify.message(MessageLevel::Error, inv.error);
            return std::nullopt;
        }
        WorkerInventory w;
        w.worker = WorkerId(static_cast<int>(rank));
        w.host = inv.host;
        w.backend = inv.backend;
        w.total.assign(inv.total.begin(), inv.total.end());
        w.free.assign(inv.free.begin(), inv.free.end());
        w.per_process = inv.per_process;
        workers.push_back(std::move(w));
    }
    GpuGate::DeclaredMemory declared;
    if (options.devices.memory_of) {
        declared = [&grid, &options](TaskId t) -> std::optional<Bytes> {
            return options.devices.memory_of(grid.at(t));
        };
    }
    try {
        GpuPlan plan =
            plan_gpus(options.devices, workers, !options.devices.place_each_copy, std::move(declared));
        if (plan.gate && options.devices.memory_of)
            check_declared(grid, options, plan.gate->placement().largest_gpu());
        return plan;
    } catch (const std::invalid_argument& e) {
        notify.message(MessageLevel::Error, e.what());
        return std::nullopt;
    }
}

// Rank 0: each rank's part of the plan; the first worker of each node reads its memory.
std::vector<GpuAssignment> assignments(const GpuPlan& plan, int ranks) {
    std::vector<GpuAssignment> out(static_cast<std::size_t>(ranks));
    std::vector<bool> node_has_reader(plan.hosts.size(), false);
    for (const auto& [rank, node] : plan.node_of) {
        GpuAssignment& a = out[static_cast<std::size_t>(rank)];
        a.gpu_sweep = plan.gate.has_value();
        const auto bound = plan.bound.find(rank);
        if (bound != plan.bound.end()) a.bound = bound->second;
        if (!node_has_reader[static_cast<std::size_t>(node)]) {
            a.reader = true;
            node_has_reader[static_cast<std::size_t>(node)] = true;
        }
    }
    return out;
}

// A worker: its GPUs for the sweep, and its watch.
void take_assignment(const GpuAssignment& mine, const Options& options, const std::vector<long>& node_pids,
                     WorkerInfo& info, GpuStartup& out) {
    const auto& devices = out.worker.devices;
    info.node_gpus = options.devices.cpu_only ? -1 : static_cast<int>(devices.size());
    out.gpu_sweep = mine.gpu_sweep;
    if (!mine.gpu_sweep) return;
    info.devices = mine.bound;
    info.visible_devices.clear();
    for (int g : mine.bound)
        info.visible_devices.push_back(devices.at(static_cast<std::size_t>(g)).visible_id);
    info.device = mine.bound.empty() ? -1 : mine.bound.front();
    info.visible_device = info.visible_devices.empty() ? "" : info.visible_devices.front();
    const std::string backend = out.backend->name();
    if (info.device >= 0 && options.devices.bind_cuda && (backend == "nvml" || backend == "cuda")) {
        const GpuDevice& d = devices.at(static_cast<std::size_t>(info.device));
        const int ordinal = d.uuid.empty() ? -1 : cuda_ordinal_of(d.uuid);
        bind_cuda_device(ordinal >= 0 ? ordinal : d.ordinal);
    }
    out.watch.emplace(*out.backend, static_cast<int>(devices.size()), node_pids, static_cast<long>(getpid()),
                      mine.reader, options.devices.memory_poll.count());
    out.worker.watch = &*out.watch;
}

}  // namespace

bool start_gpus(const boost::mpi::communicator& comm, const Grid& grid, const Options& options,
                WorkerInfo& info, bool is_worker, GpuStartup& out) {
    GpuInventory inventory;
    if (is_worker) inventory = take_inventory(info, options, out);
    const std::vector<long> node_pids = node_process_ids(comm);
    std::vector<GpuInventory> all;
    boost::mpi::gather(comm, inventory, all, kRoot);
    std::optional<GpuPlan> plan;
    bool ok = true;
    if (comm.rank() == kRoot) {
        plan = make_plan(grid, options, all, comm.size() > 1 ? 1 : 0);
        ok = plan.has_value();
    }
    boost::mpi::broadcast(comm, ok, kRoot);
    if (!ok) return false;
    std::vector<GpuAssignment> parts;
    if (comm.rank() == kRoot) parts = assignments(*plan, comm.size());
    GpuAssignment mine;
    boost::mpi::scatter(comm, parts, mine, kRoot);
    if (is_worker) {
        try {
            take_assignment(mine, options, node_pids, info, out);
        } catch (const std::exception& e) {
            out.error = e.what();  // binding failed: the worker is not ready
        }
    }
    if (comm.rank() == kRoot && plan->gate) out.master.emplace(std::move(*plan));
    return true;
}

}  // namespace mpisweep
