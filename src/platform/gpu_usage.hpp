#pragma once
// Whose GPU memory is whose: the sweep's processes (the workers of this node and every
// process below them) against other users', and what one copy of a task (a process and its
// descendants) holds, from one per-process reading of the backend.
#include <optional>
#include <vector>

#include "platform/gpu_backend.hpp"

namespace mpisweep {

/// A process of this machine: its id, its parent's.
struct ProcessEntry {
    long pid = 0;
    long ppid = 0;
};

/// The processes of this machine, from /proc (those that end while it reads are skipped).
std::vector<ProcessEntry> list_processes();

/// `roots` and every process below them in `processes`.
std::vector<long> process_tree(const std::vector<ProcessEntry>& processes, const std::vector<long>& roots);

/// One reading of a node's GPUs.
struct GpuSnapshot {
    std::vector<Bytes> free;  ///< per GPU
    /// Per GPU, what the sweep's processes held; nullopt when the backend cannot tell.
    std::optional<std::vector<Bytes>> ours;
    /// Per root asked for (a copy), per GPU, what it and its descendants held.
    std::optional<std::vector<std::vector<Bytes>>> held;
};

/// Reads the backend once: free memory, and where it gives per-process memory, the sweep's
/// share (processes under `sweep_roots`, the workers of this node) and each of `copy_roots`'.
GpuSnapshot read_gpus(GpuBackend& backend, int gpus, const std::vector<long>& sweep_roots,
                      const std::vector<long>& copy_roots);

}  // namespace mpisweep
