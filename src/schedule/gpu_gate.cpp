#include "schedule/gpu_gate.hpp"

#include <stdexcept>
#include <string>

namespace mpisweep {

bool GpuGate::admit(WorkerId worker, TaskId task, bool /*speculative*/, Seconds now) {
    const std::optional<Bytes> declared = declared_ ? declared_(task) : std::nullopt;
    const Key key{worker.value(), task.value()};
    if (const auto gpus = placement_.choose(worker, task, declared)) {
        placement_.start(worker, task, *gpus, declared, now);
        std::vector<int>& placed = placed_[key] = *gpus;
        const auto ordinals = ordinals_.find(placement_.node_of(worker));
        if (ordinals != ordinals_.end()) {
            for (int& g : placed) g = ordinals->second.at(static_cast<std::size_t>(g));
        }
        ++version_;
        return true;
    }
    const auto cpu = cpu_ok_.find(worker.value());
    if (cpu == cpu_ok_.end() || !cpu->second) return false;
    placed_[key] = {};
    return true;
}

const std::vector<int>& GpuGate::devices(WorkerId worker, TaskId task) const {
    const auto it = placed_.find({worker.value(), task.value()});
    if (it == placed_.end()) {
        throw std::logic_error("GpuGate: task " + std::to_string(task.value()) +
                               " was not admitted on worker " + std::to_string(worker.value()));
    }
    return it->second;
}

void GpuGate::finish(WorkerId worker, TaskId task, CopyEnd how, std::optional<Bytes> peak) {
    const auto it = placed_.find({worker.value(), task.value()});
    if (it == placed_.end()) return;
    if (!it->second.empty()) placement_.finish(worker, task, how, peak);
    placed_.erase(it);
    ++version_;
}

void GpuGate::set_ordinals(int node, std::vector<int> ordinals) {
    if (static_cast<int>(ordinals.size()) != placement_.gpus(node)) {
        throw std::invalid_argument("GpuGate: " + std::to_string(ordinals.size()) + " ordinals for the " +
                                    std::to_string(placement_.gpus(node)) + " GPU(s) of node " +
                                    std::to_string(node));
    }
    ordinals_[node] = std::move(ordinals);
}

void GpuGate::report_free(int node, const std::vector<Bytes>& free,
                          const std::optional<std::vector<Bytes>>& ours, Seconds measured_at) {
    const auto ordinals = ordinals_.find(node);
    if (ordinals == ordinals_.end()) {
        placement_.report_free(node, free, ours, measured_at);
    } else {
        // Only the GPUs the sweep uses, in the placement's order.
        std::vector<Bytes> used_free;
        std::optional<std::vector<Bytes>> used_ours;
        if (ours) used_ours.emplace();
        for (int g : ordinals->second) {
            used_free.push_back(free.at(static_cast<std::size_t>(g)));
            if (ours) used_ours->push_back(ours->at(static_cast<std::size_t>(g)));
        }
        placement_.report_free(node, used_free, used_ours, measured_at);
    }
    ++version_;
}

void GpuGate::report_use(WorkerId worker, TaskId task, Bytes bytes) {
    placement_.report_use(worker, task, bytes);
    ++version_;
}

}  // namespace mpisweep
