#pragma once
// Which GPUs of its node a copy of a task runs on: a pure policy with the clock passed in (no
// MPI, no CUDA), driven by the master with what the nodes report.
//
// A GPU takes a copy when it runs fewer copies than its cap (0: no cap) and its memory left
// covers the copy's need: total, less what other users hold (estimated from the last report
// of free memory), less what the copies running there reserve (the larger of what each
// declared and what it was seen to use). Where several GPUs qualify, the one with the most
// memory left wins. Under learning (--gpu-mem auto), a copy needs the largest peak seen so
// far plus a margin; before any peak is known, a GPU takes a copy only when it runs none.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mpisweep/ids.hpp"

namespace mpisweep {

using Bytes = std::uint64_t;
using Seconds = double;

/// One GPU as its node reports it at the start.
struct PlacementGpu {
    Bytes total = 0;
    Bytes free = 0;  ///< free memory when the node was added (others' processes use the rest)
    int cap = 0;     ///< copies (or bound workers) at once; 0: as many as memory allows
};

struct PlacementOptions {
    int gpus_per_task = 1;      ///< GPUs of one node each copy gets
    bool learn = false;         ///< --gpu-mem auto: a copy needs the largest peak seen, plus margin
    double learn_margin = 0.1;  ///< the margin, as a fraction of that peak
};

/// How a copy ended, for what the policy learns from it.
enum class CopyEnd : std::uint8_t { Done, Failed, OutOfMemory, Cancelled };

class GpuPlacement {
public:
    /// Throws std::invalid_argument for gpus_per_task < 1 or a negative margin.
    explicit GpuPlacement(PlacementOptions options);

    /// A node and its GPUs (numbered 0..n-1 as the node's workers see them); returns its index.
    /// Throws std::invalid_argument for a GPU with free > total or a negative cap.
    int add_node(const std::vector<PlacementGpu>& gpus);
    /// Throws std::invalid_argument for an unknown node or a worker added twice.
    void add_worker(WorkerId worker, int node);

    /// For workers whose tasks run in their own process (a function, not a command): GPUs
    /// fixed for the worker's life, then used by every copy it runs. Takes the GPUs bound to
    /// the fewest workers (caps count workers here), then the most free memory; empty when
    /// fewer than gpus_per_task are left on its node. Throws std::logic_error if called twice.
    std::vector<int> bind(WorkerId worker);
    /// The GPUs bound to `worker` (empty when none or not bound).
    const std::vector<int>& bound(WorkerId worker) const;

    /// What a copy needs on each of its GPUs: `declared` when given, else under learning the
    /// largest peak seen plus the margin (nullopt before any: the copy takes a GPU alone),
    /// else nothing (0).
    std::optional<Bytes> need(std::optional<Bytes> declared) const;

    /// The GPUs of `worker`'s node (its bound ones, if bound) that a copy of `task` with
    /// `declared` memory would run on now, best first; nullopt when not enough qualify now.
    /// GPUs where this task ran out of memory before come last.
    std::optional<std::vector<int>> choose(WorkerId worker, TaskId task, std::optional<Bytes> declared) const;
    /// Records that the copy of `task` on `worker` runs on `gpus` from `now` (chosen by
    /// choose()). Throws std::logic_error for a copy already running or GPUs it cannot have.
    void start(WorkerId worker, TaskId task, const std::vector<int>& gpus, std::optional<Bytes> declared,
               Seconds now);
    /// The copy ended. `peak`: the most memory it was seen to hold on one GPU, where known;
    /// taught to learning. OutOfMemory puts its GPUs last for the task's next copies.
    /// Throws std::logic_error for a copy not running.
    void finish(WorkerId worker, TaskId task, CopyEnd how, std::optional<Bytes> peak = std::nullopt);
    /// The task is settled: forget the GPUs it ran out of memory on.
    void forget(TaskId task);

    /// Free memory measured on `node`'s GPUs at `measured_at` (on the clock of start()).
    /// `ours`, where the node can tell (per-process memory), is what the sweep's processes
    /// held on each GPU at that moment: the rest of the used memory is other users'. Without
    /// it, a GPU's other users are measured only when it ran no copy of ours at measured_at.
    void report_free(int node, const std::vector<Bytes>& free, const std::optional<std::vector<Bytes>>& ours,
                     Seconds measured_at);
    /// A running copy was seen holding `bytes` on each of its GPUs: its reservation grows to
    /// at least that, and learning takes it as a peak.
    void report_use(WorkerId worker, TaskId task, Bytes bytes);

    /// Whether a copy needing `bytes` on each GPU fits some node with none of ours running.
    bool fits_anywhere(Bytes bytes) const;
    /// The largest GPU memory of any node (0 with no GPU).
    Bytes largest_gpu() const;
    int gpus_per_task() const { return options_.gpus_per_task; }
    /// Memory left on `node`'s GPU `gpu` for a new copy (0 when none); for tests and status.
    Bytes available(int node, int gpu) const;
    /// Copies running on a GPU.
    int running(int node, int gpu) const;
    std::optional<Bytes> largest_peak() const { return max_peak_; }
    int node_of(WorkerId worker) const;
    int nodes() const { return static_cast<int>(nodes_.size()); }
    int gpus(int node) const;

    /// Throws std::logic_error describing the first broken invariant: every copy runs on
    /// gpus_per_task distinct GPUs of its worker's node (its bound ones if bound); per GPU
    /// the copy count and reservation sums match the copies; no GPU runs more copies than
    /// its cap; no GPU holds more declared memory than its total.
    void check_invariants() const;

private:
    struct Gpu {
        Bytes total = 0;
        int cap = 0;
        Bytes other = 0;     // estimated memory of other users' processes
        int count = 0;       // copies running
        int unsized = 0;     // copies of unknown need (learning, nothing learned yet)
        Bytes reserved = 0;  // sum of the sized copies' reservations
        Bytes declared = 0;  // sum of what the copies declared
        int bound_workers = 0;
    };
    struct Node {
        std::vector<Gpu> gpus;
        std::set<std::pair<int, std::uint64_t>> copies;  // (worker, task) running here
    };
    struct Copy {
        int node = 0;
        std::vector<int> gpus;
        std::optional<Bytes> need;  // nullopt: unsized
        Bytes declared = 0;
        Bytes observed = 0;
        Bytes reserved = 0;
        Seconds started = 0;
    };
    struct Worker {
        int node = 0;
        bool bound = false;
        std::vector<int> gpus;
    };
    using Key = std::pair<int, std::uint64_t>;

    const Worker& worker(WorkerId id) const;
    Bytes reservation(const Copy& copy) const;
    void set_reservation(Copy& copy, Bytes reserved);
    void learn(Bytes peak);
    bool qualifies(const Gpu& gpu, std::optional<Bytes> need) const;
    Bytes left(const Gpu& gpu) const;

    PlacementOptions options_;
    std::vector<Node> nodes_;
    std::unordered_map<WorkerId, Worker> workers_;
    std::map<Key, Copy> copies_;
    std::unordered_map<TaskId, std::set<std::pair<int, int>>> out_of_memory_;  // (node, gpu)
    std::optional<Bytes> max_peak_;
};

}  // namespace mpisweep
