#pragma once
// A test facility: GPUs declared in MPISWEEP_FAKE_GPUS instead of found, so that placement
// can be tested on machines without one (docs/cli.md, "Fake GPUs"). Their memory in use is
// kept in a ledger, one file per GPU in MPISWEEP_FAKE_GPU_DIR, each line "PID BYTES": what a
// live process holds there. Test tasks hold memory through FakeGpuLedger (and fail as CUDA
// does when it is not there); other users' memory is a line of any other live process.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/gpu_backend.hpp"

namespace mpisweep {

/// The GPUs of the nodes named `host` ("" for every node not named).
struct FakeNodeGpus {
    std::string host;
    std::vector<Bytes> totals;
};

/// Parses "16G,16G" (every node), "n1=4x16G;n2=8G,24G;*=" (per host; "*" or no host: the
/// others; nothing after '=': no GPU). Throws std::invalid_argument naming the bad part.
std::vector<FakeNodeGpus> parse_fake_gpus(const std::string& text);

/// The memory sizes of the fake GPUs of `host` (empty when it has none).
std::vector<Bytes> fake_gpus_of(const std::vector<FakeNodeGpus>& spec, const std::string& host);

/// True while process `pid` runs (a zombie has ended: its GPU memory is free).
bool process_alive(long pid);

class FakeGpuLedger {
public:
    FakeGpuLedger(std::string dir, std::string host) : dir_(std::move(dir)), host_(std::move(host)) {}

    /// Holds `bytes` on the node's GPU `index` for `pid` when the live holders leave that
    /// much of `total`; false (nothing held) otherwise. Atomic against other processes.
    /// Throws std::runtime_error when the ledger file cannot be used.
    bool allocate(std::size_t index, Bytes total, long pid, Bytes bytes) const;
    /// Drops what `pid` holds on GPU `index`.
    void release(std::size_t index, long pid) const;
    /// (pid, bytes) of each live holder of GPU `index`.
    std::vector<std::pair<long, Bytes>> holders(std::size_t index) const;
    std::string path(std::size_t index) const;

private:
    std::string dir_;
    std::string host_;
};

class FakeGpuBackend final : public GpuBackend {
public:
    FakeGpuBackend(const std::vector<FakeNodeGpus>& spec, const std::string& host,
                   const std::optional<std::string>& visible_devices, const std::optional<std::string>& dir);
    std::string name() const override { return "fake"; }
    std::vector<GpuDevice> devices() override;
    std::vector<Bytes> free_memory() override;
    std::optional<std::vector<GpuProcessMemory>> process_memory() override;

    /// What a test task does in place of cudaMalloc: holds `bytes` on its GPU `ordinal` for
    /// `pid` if they are free; false (nothing held) when not. Throws std::logic_error without
    /// a ledger folder (MPISWEEP_FAKE_GPU_DIR) or for an ordinal out of range.
    bool allocate(int ordinal, long pid, Bytes bytes);
    /// The ledger file of GPU `ordinal` (for messages).
    std::string ledger_path(int ordinal) const;

private:
    std::vector<GpuDevice> devices_;
    std::vector<std::size_t> node_index_;  // of each device, for the ledger
    std::optional<FakeGpuLedger> ledger_;
};

}  // namespace mpisweep
