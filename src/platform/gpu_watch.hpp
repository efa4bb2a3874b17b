#pragma once
// A worker's eye on its node's GPUs while the sweep runs: when a reading is due (sooner at the
// start of a copy, then every poll interval), what its copy holds (the worker's process tree:
// a worker runs one copy at a time) and, on the node's reader, the free memory of every GPU
// and the sweep's share of it. The worker sends what poll() returns to the master.
#include <memory>
#include <optional>
#include <vector>

#include "platform/gpu_backend.hpp"

namespace mpisweep {

struct GpuReading {
    /// The node's reader only: free memory of each GPU, and (where the backend tells) what
    /// the sweep's processes held of it at the same moment.
    std::vector<Bytes> free;
    std::optional<std::vector<Bytes>> ours;
    /// The running copy: the most it holds on one of its GPUs now (nullopt: no copy, or the
    /// backend cannot tell).
    std::optional<Bytes> copy_use;
};

class GpuWatch {
public:
    /// `sweep_roots`: the pids of the sweep's workers on this node; `reader`: this worker
    /// reads the node's free memory for the master; `poll`: seconds between readings.
    GpuWatch(GpuBackend& backend, int gpus, std::vector<long> sweep_roots, long self, bool reader,
             double poll);

    /// A copy starts at `now` on the node's GPUs `devices` (empty: on CPU).
    void copy_started(const std::vector<int>& devices, double now);
    /// The copy ended; returns the most it was seen holding on one GPU (nullopt: never read,
    /// or the backend cannot tell).
    std::optional<Bytes> copy_ended();
    /// The earliest time a reading is due.
    double next_due() const { return next_; }
    /// Reads when due: returns what to tell the master, or nullopt (not due, or nothing new:
    /// the copy's use changes the master's view only when it grew).
    std::optional<GpuReading> poll(double now);

private:
    GpuBackend& backend_;
    int gpus_;
    std::vector<long> sweep_roots_;
    long self_;
    bool reader_;
    double poll_;
    double next_ = 0;
    double copy_start_ = -1;  // < 0: no copy
    int readings_in_copy_ = 0;
    std::vector<int> devices_;
    std::optional<Bytes> peak_;
    Bytes sent_use_ = 0;
};

}  // namespace mpisweep
