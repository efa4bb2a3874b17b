#pragma once
// The master's side of a GPU sweep: the gate the scheduler asks before each copy, the GPUs of
// each copy for its assignment, what the workers read of GPU memory, and what each answered
// copy frees and teaches (its peak; an out-of-memory failure puts that GPU last for the
// task's next copy).
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "exec/task_report.hpp"
#include "schedule/gpu_plan.hpp"
#include "transport/messages.hpp"

namespace mpisweep {

class MasterGpus {
public:
    /// `plan.gate` must be set (a GPU sweep).
    explicit MasterGpus(GpuPlan plan);

    AdmissionGate& gate() { return *plan_.gate; }
    /// The GPUs the gate gave a copy the scheduler just assigned (empty: on CPU).
    const std::vector<int>& devices(WorkerId worker, TaskId task) const {
        return plan_.gate->devices(worker, task);
    }
    /// A worker's reading of GPU memory, received at `now`.
    void on_memory(WorkerId worker, const GpuMemoryReport& report, Seconds now);
    /// A copy was answered (done, failed or cancelled): its GPUs are free again. Returns its
    /// first GPU, -1 on CPU (what the results file records).
    int on_answer(WorkerId worker, TaskId task, Outcome outcome, const std::string* error);
    /// The task is settled (done, or failed for good).
    void on_settled(TaskId task) { plan_.gate->forget(task); }
    /// Under learning: the largest peak seen, for the end of the sweep ("" otherwise).
    std::string summary() const;
    const std::vector<std::string>& notices() const { return plan_.notices; }

private:
    GpuPlan plan_;
    /// Peaks of copies that ended, told before their report (GpuMemoryReport::Ended).
    std::map<std::pair<int, std::uint64_t>, Bytes> peaks_;
};

/// True for an error that says the GPU ran out of memory (CUDA's "out of memory", PyTorch's
/// "CUDA out of memory", cuBLAS/cuDNN's allocation failures).
bool out_of_gpu_memory(const std::string& error);

}  // namespace mpisweep
