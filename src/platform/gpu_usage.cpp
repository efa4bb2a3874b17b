#include "platform/gpu_usage.hpp"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace mpisweep {
namespace {

// The parent of `pid` from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces
// and parentheses, so read after the last ')').
std::optional<long> parent_of(long pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) return std::nullopt;
    const std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(paren + 1));
    char state = 0;
    long ppid = 0;
    if (!(rest >> state >> ppid)) return std::nullopt;
    return ppid;
}

std::vector<Bytes> held_by(const std::vector<GpuProcessMemory>& use, int gpus,
                           const std::unordered_set<long>& pids) {
    std::vector<Bytes> held(static_cast<std::size_t>(gpus), 0);
    for (const GpuProcessMemory& u : use) {
        if (u.ordinal >= 0 && u.ordinal < gpus && pids.count(u.pid) > 0)
            held[static_cast<std::size_t>(u.ordinal)] += u.bytes;
    }
    return held;
}

}  // namespace

std::vector<ProcessEntry> list_processes() {
    std::vector<ProcessEntry> out;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return out;
    while (const dirent* entry = readdir(proc)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        if (const std::optional<long> ppid = parent_of(pid)) out.push_back({pid, *ppid});
    }
    closedir(proc);
    return out;
}

std::vector<long> process_tree(const std::vector<ProcessEntry>& processes, const std::vector<long>& roots) {
    std::unordered_map<long, std::vector<long>> children;
    for (const ProcessEntry& p : processes) children[p.ppid].push_back(p.pid);
    std::vector<long> tree;
    std::unordered_set<long> seen;
    std::vector<long> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
        const long pid = stack.back();
        stack.pop_back();
        if (!seen.insert(pid).second) continue;
        tree.push_back(pid);
        const auto it = children.find(pid);
        if (it != children.end()) stack.insert(stack.end(), it->second.begin(), it->second.end());
    }
    return tree;
}

GpuSnapshot read_gpus(GpuBackend& backend, int gpus, const std::vector<long>& sweep_roots,
                      const std::vector<long>& copy_roots) {
    GpuSnapshot snapshot;
    snapshot.free = backend.free_memory();
    const std::optional<std::vector<GpuProcessMemory>> use = backend.process_memory();
    if (!use) return snapshot;
    const std::vector<ProcessEntry> processes = list_processes();
    const std::vector<long> sweep = process_tree(processes, sweep_roots);
    snapshot.ours = held_by(*use, gpus, std::unordered_set<long>(sweep.begin(), sweep.end()));
    snapshot.held.emplace();
    for (long root : copy_roots) {
        const std::vector<long> tree = process_tree(processes, {root});
        snapshot.held->push_back(held_by(*use, gpus, std::unordered_set<long>(tree.begin(), tree.end())));
    }
    return snapshot;
}

}  // namespace mpisweep
