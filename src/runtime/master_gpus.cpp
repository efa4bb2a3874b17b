#include "runtime/master_gpus.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace mpisweep {

MasterGpus::MasterGpus(GpuPlan plan) : plan_(std::move(plan)) {}

void MasterGpus::on_memory(WorkerId worker, const GpuMemoryReport& report, Seconds now) {
    const auto node = plan_.node_of.find(worker.value());
    if (node == plan_.node_of.end()) return;  // a worker the plan does not know: nothing to learn
    if (!report.free.empty()) {
        std::optional<std::vector<Bytes>> ours;
        if (!report.ours.empty()) ours.emplace(report.ours.begin(), report.ours.end());
        plan_.gate->report_free(node->second, std::vector<Bytes>(report.free.begin(), report.free.end()),
                                ours, now);
    }
    if (report.copy == GpuMemoryReport::Running) {
        plan_.gate->report_use(worker, TaskId(report.task), report.use);
    } else if (report.copy == GpuMemoryReport::Ended) {
        peaks_[{worker.value(), report.task}] = report.use;
    }
}

int MasterGpus::on_answer(WorkerId worker, TaskId task, Outcome outcome, const std::string* error) {
    std::optional<Bytes> peak;
    const auto it = peaks_.find({worker.value(), task.value()});
    if (it != peaks_.end()) {
        peak = it->second;
        peaks_.erase(it);
    }
    CopyEnd how = CopyEnd::Done;
    if (outcome == Outcome::Cancelled) how = CopyEnd::Cancelled;
    if (outcome == Outcome::Failed)
        how = error != nullptr && out_of_gpu_memory(*error) ? CopyEnd::OutOfMemory : CopyEnd::Failed;
    int first = -1;
    try {
        const std::vector<int>& gpus = plan_.gate->devices(worker, task);
        if (!gpus.empty()) first = gpus.front();
    } catch (const std::logic_error&) {
        return -1;  // a copy the gate never admitted (a queued copy of a retired worker)
    }
    plan_.gate->finish(worker, task, how, peak);
    return first;
}

std::string MasterGpus::summary() const {
    const std::optional<Bytes> peak = plan_.gate->placement().largest_peak();
    if (!peak) return "";
    const std::optional<Bytes> need = plan_.gate->placement().need(std::nullopt);
    const auto gib = [](Bytes b) {
        char text[32];
        std::snprintf(text, sizeof text, "%.3g GiB",
                      static_cast<double>(b) / static_cast<double>(Bytes{1} << 30));
        return std::string(text);
    };
    return "GPU memory learned (--gpu-mem auto): the largest peak of a task was " + gib(*peak) +
           "; tasks were placed by " + gib(need.value_or(*peak));
}

bool out_of_gpu_memory(const std::string& error) {
    std::string lower(error.size(), ' ');
    std::transform(error.begin(), error.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("out of memory") != std::string::npos ||
           lower.find("cudaerrormemoryallocation") != std::string::npos ||
           lower.find("cublas_status_alloc_failed") != std::string::npos;
}

}  // namespace mpisweep
