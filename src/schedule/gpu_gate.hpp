#pragma once
// The scheduler's gate in a GPU sweep: a copy goes to a worker when GpuPlacement finds GPUs
// for it on the worker's node (and takes them at once), or on CPU for a worker allowed to
// fall back; otherwise the worker waits and the task stays first in line.
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "schedule/gpu_placement.hpp"
#include "schedule/scheduler.hpp"

namespace mpisweep {

class GpuGate final : public AdmissionGate {
public:
    /// The memory a task declares on each of its GPUs (nullopt: none). May throw for a task
    /// whose declaration is bad; admit() passes that on.
    using DeclaredMemory = std::function<std::optional<Bytes>(TaskId)>;

    GpuGate(GpuPlacement placement, DeclaredMemory declared)
        : placement_(std::move(placement)), declared_(std::move(declared)) {}

    /// `worker` runs a copy on CPU when no GPU has room for it (--no-gpu cpu, or its node
    /// has none).
    void allow_cpu(WorkerId worker) { cpu_ok_[worker.value()] = true; }
    /// The node's own ordinals of the placement's GPUs 0..k-1 of `node`, when only some of
    /// its GPUs are used (--devices); devices() and report_free() speak node ordinals.
    void set_ordinals(int node, std::vector<int> ordinals);

    bool admit(WorkerId worker, TaskId task, bool speculative, Seconds now) override;
    std::uint64_t version() const override { return version_; }

    /// The GPUs admit() gave the copy, as the node's ordinals; empty: it runs on CPU. Throws
    /// std::logic_error for a copy that was not admitted.
    const std::vector<int>& devices(WorkerId worker, TaskId task) const;
    /// The copy ended (whatever way); see GpuPlacement::finish. Nothing for a copy never admitted.
    void finish(WorkerId worker, TaskId task, CopyEnd how, std::optional<Bytes> peak = std::nullopt);
    /// The task is settled.
    void forget(TaskId task) { placement_.forget(task); }
    /// A reading of every GPU of `node` (by the node's ordinals).
    void report_free(int node, const std::vector<Bytes>& free, const std::optional<std::vector<Bytes>>& ours,
                     Seconds measured_at);
    void report_use(WorkerId worker, TaskId task, Bytes bytes);

    const GpuPlacement& placement() const { return placement_; }
    /// Copies admitted and not finished, on CPU among them.
    std::size_t copies() const { return placed_.size(); }

private:
    using Key = std::pair<int, std::uint64_t>;
    GpuPlacement placement_;
    DeclaredMemory declared_;
    std::map<int, bool> cpu_ok_;
    std::map<Key, std::vector<int>> placed_;    // node ordinals
    std::map<int, std::vector<int>> ordinals_;  // nodes that use only some of their GPUs
    std::uint64_t version_ = 0;
};

}  // namespace mpisweep
