#include "schedule/gpu_placement.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mpisweep {
namespace {

std::string copy_name(int worker, std::uint64_t task) {
    return "task " + std::to_string(task) + " on worker " + std::to_string(worker);
}

}  // namespace

GpuPlacement::GpuPlacement(PlacementOptions options) : options_(options) {
    if (options_.gpus_per_task < 1) {
        throw std::invalid_argument("gpus_per_task: expected >= 1, got " +
                                    std::to_string(options_.gpus_per_task));
    }
    if (!(options_.learn_margin >= 0)) {
        throw std::invalid_argument("learn_margin: expected >= 0, got " +
                                    std::to_string(options_.learn_margin));
    }
}

int GpuPlacement::add_node(const std::vector<PlacementGpu>& gpus) {
    Node node;
    for (const PlacementGpu& g : gpus) {
        if (g.free > g.total) throw std::invalid_argument("a GPU with more free memory than its total");
        if (g.cap < 0) throw std::invalid_argument("a GPU cap below 0: " + std::to_string(g.cap));
        Gpu gpu;
        gpu.total = g.total;
        gpu.cap = g.cap;
        gpu.other = g.total - g.free;
        node.gpus.push_back(gpu);
    }
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size()) - 1;
}

void GpuPlacement::add_worker(WorkerId id, int node) {
    if (node < 0 || node >= nodes()) throw std::invalid_argument("unknown node " + std::to_string(node));
    if (!workers_.emplace(id, Worker{node, false, {}}).second) {
        throw std::invalid_argument("worker " + std::to_string(id.value()) + " added twice");
    }
}

const GpuPlacement::Worker& GpuPlacement::worker(WorkerId id) const {
    const auto it = workers_.find(id);
    if (it == workers_.end()) throw std::logic_error("unknown worker " + std::to_string(id.value()));
    return it->second;
}

int GpuPlacement::node_of(WorkerId id) const {
    return worker(id).node;
}

int GpuPlacement::gpus(int node) const {
    return static_cast<int>(nodes_.at(static_cast<std::size_t>(node)).gpus.size());
}

std::vector<int> GpuPlacement::bind(WorkerId id) {
    Worker& w = workers_.at(id);
    if (w.bound) throw std::logic_error("worker " + std::to_string(id.value()) + " bound twice");
    w.bound = true;
    std::vector<Gpu>& gpus = nodes_[static_cast<std::size_t>(w.node)].gpus;
    std::vector<int> candidates;
    for (int g = 0; g < static_cast<int>(gpus.size()); ++g) {
        const Gpu& gpu = gpus[static_cast<std::size_t>(g)];
        if (gpu.cap == 0 || gpu.bound_workers < gpu.cap) candidates.push_back(g);
    }
    if (static_cast<int>(candidates.size()) < options_.gpus_per_task) return {};
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
        const Gpu& ga = gpus[static_cast<std::size_t>(a)];
        const Gpu& gb = gpus[static_cast<std::size_t>(b)];
        if (ga.bound_workers != gb.bound_workers) return ga.bound_workers < gb.bound_workers;
        return left(ga) > left(gb);
    });
    candidates.resize(static_cast<std::size_t>(options_.gpus_per_task));
    std::sort(candidates.begin(), candidates.end());
    for (int g : candidates) ++gpus[static_cast<std::size_t>(g)].bound_workers;
    w.gpus = candidates;
    return w.gpus;
}

const std::vector<int>& GpuPlacement::bound(WorkerId id) const {
    return worker(id).gpus;
}

std::optional<Bytes> GpuPlacement::need(std::optional<Bytes> declared) const {
    if (declared) return declared;
    if (!options_.learn) return Bytes{0};
    if (!max_peak_) return std::nullopt;
    return static_cast<Bytes>(std::ceil(static_cast<double>(*max_peak_) * (1.0 + options_.learn_margin)));
}

Bytes GpuPlacement::left(const Gpu& gpu) const {
    const Bytes used = gpu.other + gpu.reserved;
    return used >= gpu.total ? 0 : gpu.total - used;
}

bool GpuPlacement::qualifies(const Gpu& gpu, std::optional<Bytes> need) const {
    if (gpu.cap > 0 && gpu.count >= gpu.cap) return false;
    if (!need) return gpu.count == 0 && left(gpu) > 0;  // unknown need: the GPU alone
    return gpu.unsized == 0 && left(gpu) >= *need;
}

std::optional<std::vector<int>> GpuPlacement::choose(WorkerId id, TaskId task,
                                                     std::optional<Bytes> declared) const {
    const Worker& w = worker(id);
    const std::vector<Gpu>& gpus = nodes_[static_cast<std::size_t>(w.node)].gpus;
    const std::optional<Bytes> needed = need(declared);
    std::vector<int> candidates;
    if (w.bound) {
        if (w.gpus.empty()) return std::nullopt;
        for (int g : w.gpus) {
            if (!qualifies(gpus[static_cast<std::size_t>(g)], needed)) return std::nullopt;
        }
        return w.gpus;
    }
    for (int g = 0; g < static_cast<int>(gpus.size()); ++g) {
        if (qualifies(gpus[static_cast<std::size_t>(g)], needed)) candidates.push_back(g);
    }
    if (static_cast<int>(candidates.size()) < options_.gpus_per_task) return std::nullopt;
    const auto oom = out_of_memory_.find(task);
    const auto failed_here = [&](int g) {
        return oom != out_of_memory_.end() && oom->second.count({w.node, g}) > 0;
    };
    // GPUs where the task ran out of memory last, then the most memory left, then the fewest copies.
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
        if (failed_here(a) != failed_here(b)) return failed_here(b);
        const Gpu& ga = gpus[static_cast<std::size_t>(a)];
        const Gpu& gb = gpus[static_cast<std::size_t>(b)];
        if (left(ga) != left(gb)) return left(ga) > left(gb);
        return ga.count < gb.count;
    });
    candidates.resize(static_cast<std::size_t>(options_.gpus_per_task));
    return candidates;
}

void GpuPlacement::start(WorkerId id, TaskId task, const std::vector<int>& gpus,
                         std::optional<Bytes> declared, Seconds now) {
    const Worker& w = worker(id);
    const Key key{id.value(), task.value()};
    if (copies_.count(key) > 0) throw std::logic_error(copy_name(key.first, key.second) + " started twice");
    if (static_cast<int>(gpus.size()) != options_.gpus_per_task) {
        throw std::logic_error(copy_name(key.first, key.second) + ": " + std::to_string(gpus.size()) +
                               " GPU(s), expected " + std::to_string(options_.gpus_per_task));
    }
    if (w.bound) {
        std::vector<int> sorted = gpus;
        std::sort(sorted.begin(), sorted.end());
        if (sorted != w.gpus)
            throw std::logic_error(copy_name(key.first, key.second) + " off its bound GPUs");
    }
    Node& node = nodes_[static_cast<std::size_t>(w.node)];
    Copy copy;
    copy.node = w.node;
    copy.gpus = gpus;
    copy.need = need(declared);
    copy.declared = declared.value_or(0);
    copy.started = now;
    for (int g : gpus) {
        if (g < 0 || g >= static_cast<int>(node.gpus.size())) {
            throw std::logic_error(copy_name(key.first, key.second) + ": no GPU " + std::to_string(g));
        }
        if (std::count(gpus.begin(), gpus.end(), g) > 1 ||
            !qualifies(node.gpus[static_cast<std::size_t>(g)], copy.need)) {
            throw std::logic_error(copy_name(key.first, key.second) + ": GPU " + std::to_string(g) +
                                   " cannot take it now");
        }
    }
    for (int g : gpus) {
        Gpu& gpu = node.gpus[static_cast<std::size_t>(g)];
        ++gpu.count;
        gpu.declared += copy.declared;
        if (!copy.need) ++gpu.unsized;
    }
    auto& stored = copies_.emplace(key, std::move(copy)).first->second;
    node.copies.insert(key);
    set_reservation(stored, reservation(stored));
}

Bytes GpuPlacement::reservation(const Copy& copy) const {
    if (copy.need) return std::max(*copy.need, copy.observed);
    return copy.observed;  // unsized: the GPU takes nothing else while it runs
}

void GpuPlacement::set_reservation(Copy& copy, Bytes reserved) {
    std::vector<Gpu>& gpus = nodes_[static_cast<std::size_t>(copy.node)].gpus;
    for (int g : copy.gpus) {
        Gpu& gpu = gpus[static_cast<std::size_t>(g)];
        gpu.reserved = gpu.reserved - copy.reserved + reserved;
    }
    copy.reserved = reserved;
}

void GpuPlacement::finish(WorkerId id, TaskId task, CopyEnd how, std::optional<Bytes> peak) {
    const auto it = copies_.find({id.value(), task.value()});
    if (it == copies_.end()) throw std::logic_error(copy_name(id.value(), task.value()) + " is not running");
    Copy& copy = it->second;
    set_reservation(copy, 0);
    Node& node = nodes_[static_cast<std::size_t>(copy.node)];
    for (int g : copy.gpus) {
        Gpu& gpu = node.gpus[static_cast<std::size_t>(g)];
        --gpu.count;
        gpu.declared -= copy.declared;
        if (!copy.need) --gpu.unsized;
        if (how == CopyEnd::OutOfMemory) out_of_memory_[task].insert({copy.node, g});
    }
    node.copies.erase(it->first);
    const Bytes seen = std::max(copy.observed, peak.value_or(0));
    copies_.erase(it);
    // A copy that ran out of memory or was stopped did not show its whole need.
    if (options_.learn && (how == CopyEnd::Done || how == CopyEnd::Failed) && (peak || seen > 0)) learn(seen);
}

void GpuPlacement::forget(TaskId task) {
    out_of_memory_.erase(task);
}

void GpuPlacement::learn(Bytes peak) {
    if (max_peak_ && *max_peak_ >= peak) return;
    max_peak_ = peak;
    // Copies that started before anything was known now reserve the learned need.
    const std::optional<Bytes> learned = need(std::nullopt);
    for (auto& [key, copy] : copies_) {
        if (copy.need) continue;
        copy.need = learned;
        for (int g : copy.gpus)
            --nodes_[static_cast<std::size_t>(copy.node)].gpus[static_cast<std::size_t>(g)].unsized;
        set_reservation(copy, reservation(copy));
    }
}

void GpuPlacement::report_free(int node_index, const std::vector<Bytes>& free,
                               const std::optional<std::vector<Bytes>>& ours, Seconds measured_at) {
    Node& node = nodes_.at(static_cast<std::size_t>(node_index));
    if (free.size() != node.gpus.size() || (ours && ours->size() != node.gpus.size())) {
        throw std::invalid_argument("a memory report of " + std::to_string(free.size()) +
                                    " GPU(s) for node " + std::to_string(node_index) + " of " +
                                    std::to_string(node.gpus.size()));
    }
    std::vector<bool> ran(node.gpus.size(), false);  // a copy of ours held the GPU at measured_at
    for (const Key& key : node.copies) {
        const Copy& copy = copies_.at(key);
        if (copy.started > measured_at) continue;
        for (int g : copy.gpus) ran[static_cast<std::size_t>(g)] = true;
    }
    for (std::size_t g = 0; g < node.gpus.size(); ++g) {
        Gpu& gpu = node.gpus[g];
        const Bytes used = free[g] >= gpu.total ? 0 : gpu.total - free[g];
        if (ours) {
            gpu.other = used > (*ours)[g] ? used - (*ours)[g] : 0;
        } else if (!ran[g]) {
            gpu.other = used;
        }
    }
}

void GpuPlacement::report_use(WorkerId id, TaskId task, Bytes bytes) {
    const auto it = copies_.find({id.value(), task.value()});
    if (it == copies_.end()) return;  // ended meanwhile
    Copy& copy = it->second;
    if (bytes <= copy.observed) return;
    copy.observed = bytes;
    set_reservation(copy, reservation(copy));
    if (options_.learn) learn(bytes);
}

bool GpuPlacement::fits_anywhere(Bytes bytes) const {
    for (const Node& node : nodes_) {
        int fitting = 0;
        for (const Gpu& gpu : node.gpus) {
            if (gpu.total >= bytes) ++fitting;
        }
        if (fitting >= options_.gpus_per_task) return true;
    }
    return false;
}

Bytes GpuPlacement::largest_gpu() const {
    Bytes largest = 0;
    for (const Node& node : nodes_) {
        for (const Gpu& gpu : node.gpus) largest = std::max(largest, gpu.total);
    }
    return largest;
}

Bytes GpuPlacement::available(int node, int gpu) const {
    return left(nodes_.at(static_cast<std::size_t>(node)).gpus.at(static_cast<std::size_t>(gpu)));
}

int GpuPlacement::running(int node, int gpu) const {
    return nodes_.at(static_cast<std::size_t>(node)).gpus.at(static_cast<std::size_t>(gpu)).count;
}

void GpuPlacement::check_invariants() const {
    const auto fail = [](const std::string& what) { throw std::logic_error("GpuPlacement: " + what); };
    std::vector<std::vector<Gpu>> expected;
    for (const Node& node : nodes_) {
        expected.emplace_back(node.gpus.size());
        for (Gpu& gpu : expected.back()) gpu = Gpu{};
    }
    std::size_t indexed = 0;
    for (const auto& [key, copy] : copies_) {
        const std::string name = copy_name(key.first, key.second);
        const Worker& w = worker(WorkerId(key.first));
        if (copy.node != w.node) fail(name + " runs off its worker's node");
        if (nodes_[static_cast<std::size_t>(copy.node)].copies.count(key) == 0)
            fail(name + " missing from its node");
        std::vector<int> sorted = copy.gpus;
        std::sort(sorted.begin(), sorted.end());
        if (static_cast<int>(sorted.size()) != options_.gpus_per_task ||
            std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
            fail(name + " does not run on " + std::to_string(options_.gpus_per_task) + " distinct GPU(s)");
        }
        if (w.bound && sorted != w.gpus) fail(name + " runs off the GPUs bound to its worker");
        if (copy.reserved != reservation(copy)) fail(name + " has a stale reservation");
        for (int g : copy.gpus) {
            Gpu& e = expected[static_cast<std::size_t>(copy.node)].at(static_cast<std::size_t>(g));
            ++e.count;
            e.reserved += copy.reserved;
            e.declared += copy.declared;
            if (!copy.need) ++e.unsized;
        }
    }
    for (const Node& node : nodes_) indexed += node.copies.size();
    if (indexed != copies_.size())
        fail("the nodes index " + std::to_string(indexed) + " copies of " + std::to_string(copies_.size()));
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
        for (std::size_t g = 0; g < nodes_[n].gpus.size(); ++g) {
            const Gpu& gpu = nodes_[n].gpus[g];
            const Gpu& e = expected[n][g];
            const std::string name = "GPU " + std::to_string(g) + " of node " + std::to_string(n);
            if (gpu.count != e.count || gpu.reserved != e.reserved || gpu.declared != e.declared ||
                gpu.unsized != e.unsized) {
                fail(name + ": its sums do not match its copies");
            }
            if (gpu.cap > 0 && gpu.count > gpu.cap) fail(name + " runs more copies than its cap");
            if (gpu.cap > 0 && gpu.bound_workers > gpu.cap)
                fail(name + " has more workers bound than its cap");
            if (gpu.declared > gpu.total) fail(name + ": its copies declared more memory than it has");
        }
    }
}

}  // namespace mpisweep
