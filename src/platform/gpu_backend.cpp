#include "platform/gpu_backend.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "platform/gpu_fake.hpp"

namespace mpisweep {
namespace {

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

class NoGpuBackend final : public GpuBackend {
public:
    std::string name() const override { return "none"; }
    std::vector<GpuDevice> devices() override { return {}; }
    std::vector<Bytes> free_memory() override { return {}; }
    std::optional<std::vector<GpuProcessMemory>> process_memory() override {
        return std::vector<GpuProcessMemory>{};
    }
};

bool all_digits(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

// The GPU an entry of CUDA_VISIBLE_DEVICES names: an index, or a UUID (with or without its
// "GPU-" prefix) or a prefix of one that matches a single GPU.
std::optional<std::size_t> find_entry(const std::vector<NodeGpu>& node, const std::string& entry) {
    if (all_digits(entry)) {
        if (entry.size() > 9) return std::nullopt;
        const auto index = static_cast<std::size_t>(std::stoul(entry));
        if (index < node.size()) return index;
        return std::nullopt;
    }
    const std::string wanted = entry.rfind("GPU-", 0) == 0 ? entry : "GPU-" + entry;
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < node.size(); ++i) {
        if (node[i].uuid.rfind(wanted, 0) != 0) continue;
        if (found) return std::nullopt;  // ambiguous prefix
        found = i;
    }
    return found;
}

std::string trim(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

}  // namespace

GpuEnvironment GpuEnvironment::from_process(bool cpu_only) {
    GpuEnvironment e;
    e.cpu_only = cpu_only;
    e.fake_gpus = env("MPISWEEP_FAKE_GPUS");
    if (e.fake_gpus && e.fake_gpus->empty()) e.fake_gpus.reset();  // set empty: as if unset
    e.fake_dir = env("MPISWEEP_FAKE_GPU_DIR");
    e.visible_devices = env("CUDA_VISIBLE_DEVICES");
    char name[256] = {};
    e.host = gethostname(name, sizeof name - 1) == 0 ? name : "unknown";
    return e;
}

std::unique_ptr<GpuBackend> open_gpu_backend(const GpuEnvironment& env) {
    if (env.fake_gpus) {
        return std::make_unique<FakeGpuBackend>(parse_fake_gpus(*env.fake_gpus), env.host,
                                                env.visible_devices, env.fake_dir);
    }
    if (env.cpu_only) return std::make_unique<NoGpuBackend>();
    if (auto nvml = open_nvml_backend(env.visible_devices)) return nvml;
    if (auto cuda = open_cuda_backend()) return cuda;
    return std::make_unique<NoGpuBackend>();
}

std::vector<VisibleGpu> apply_visible_devices(const std::vector<NodeGpu>& node,
                                              const std::optional<std::string>& visible_devices) {
    std::vector<VisibleGpu> visible;
    if (!visible_devices) {
        for (std::size_t i = 0; i < node.size(); ++i) visible.push_back({i, ""});
        return visible;
    }
    std::stringstream list(*visible_devices);
    std::string entry;
    while (std::getline(list, entry, ',')) {
        entry = trim(entry);
        const std::optional<std::size_t> index = find_entry(node, entry);
        if (!index) break;  // CUDA ignores everything from the first invalid entry on
        bool repeated = false;
        for (const VisibleGpu& v : visible) repeated = repeated || v.index == *index;
        if (repeated) break;  // as CUDA does with a duplicate
        visible.push_back({*index, entry});
    }
    return visible;
}

std::vector<GpuDevice> visible_gpu_devices(const std::vector<NodeGpu>& node,
                                           const std::optional<std::string>& visible_devices) {
    std::vector<GpuDevice> devices;
    for (const VisibleGpu& v : apply_visible_devices(node, visible_devices)) {
        const NodeGpu& gpu = node[v.index];
        GpuDevice d;
        d.ordinal = static_cast<int>(devices.size());
        d.visible_id = !v.entry.empty() ? v.entry : !gpu.uuid.empty() ? gpu.uuid : std::to_string(v.index);
        d.uuid = gpu.uuid;
        d.name = gpu.name;
        d.total = gpu.total;
        d.free = gpu.total;
        devices.push_back(std::move(d));
    }
    return devices;
}

}  // namespace mpisweep
