// NVML, loaded at run time with dlopen: it comes with the NVIDIA driver (not the toolkit),
// answers memory questions without creating a CUDA context, and gives per-process memory.
// The few declarations used are copied from nvml.h (its ABI is stable across drivers).
#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "platform/gpu_backend.hpp"

namespace mpisweep {
namespace {

using nvmlReturn_t = int;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
constexpr unsigned kNvmlBufferSize = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE, NVML_DEVICE_NAME_V2_BUFFER_SIZE
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlMemory_t {
    unsigned long long total, free, used;
};
struct nvmlProcessInfo_t {  // the _v2 and _v3 layout
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
};
constexpr unsigned long long kNvmlValueNotAvailable = ~0ull;  // NVML_VALUE_NOT_AVAILABLE

class NvmlError : public std::runtime_error {
public:
    NvmlError(const char* routine, int code, const std::string& message)
        : std::runtime_error(std::string(routine) + " failed with NVML error " + std::to_string(code) + ": " +
                             message) {}
};

// The library and the entry points used, resolved once.
class Nvml {
public:
    Nvml() {
        handle_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
        if (handle_ == nullptr) return;
        const bool found = load(init_, "nvmlInit_v2") && load(shutdown_, "nvmlShutdown") &&
                           load(error_string_, "nvmlErrorString") && load(count_, "nvmlDeviceGetCount_v2") &&
                           load(by_index_, "nvmlDeviceGetHandleByIndex_v2") &&
                           load(uuid_, "nvmlDeviceGetUUID") && load(name_, "nvmlDeviceGetName") &&
                           load(memory_, "nvmlDeviceGetMemoryInfo");
        if (!load(processes_, "nvmlDeviceGetComputeRunningProcesses_v3")) {
            load(processes_, "nvmlDeviceGetComputeRunningProcesses_v2");
        }
        initialized_ = found && init_() == NVML_SUCCESS;
    }
    ~Nvml() {
        if (initialized_) shutdown_();
        if (handle_ != nullptr) dlclose(handle_);
    }
    Nvml(const Nvml&) = delete;
    Nvml& operator=(const Nvml&) = delete;

    bool ready() const { return initialized_; }
    bool has_processes() const { return processes_ != nullptr; }

    // The one checked call: routine, code and NVML's message.
    void check(const char* routine, nvmlReturn_t code) const {
        if (code != NVML_SUCCESS) throw NvmlError(routine, code, error_string_(code));
    }

    nvmlReturn_t (*init_)() = nullptr;
    nvmlReturn_t (*shutdown_)() = nullptr;
    const char* (*error_string_)(nvmlReturn_t) = nullptr;
    nvmlReturn_t (*count_)(unsigned*) = nullptr;
    nvmlReturn_t (*by_index_)(unsigned, nvmlDevice_t*) = nullptr;
    nvmlReturn_t (*uuid_)(nvmlDevice_t, char*, unsigned) = nullptr;
    nvmlReturn_t (*name_)(nvmlDevice_t, char*, unsigned) = nullptr;
    nvmlReturn_t (*memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
    nvmlReturn_t (*processes_)(nvmlDevice_t, unsigned*, nvmlProcessInfo_t*) = nullptr;

private:
    template <class F>
    bool load(F& f, const char* symbol) {
        f = reinterpret_cast<F>(dlsym(handle_, symbol));
        return f != nullptr;
    }
    void* handle_ = nullptr;
    bool initialized_ = false;
};

class NvmlBackend final : public GpuBackend {
public:
    NvmlBackend(std::unique_ptr<Nvml> nvml, const std::optional<std::string>& visible_devices)
        : nvml_(std::move(nvml)) {
        unsigned count = 0;
        nvml_->check("nvmlDeviceGetCount_v2", nvml_->count_(&count));
        std::vector<NodeGpu> node;
        std::vector<nvmlDevice_t> handles;
        for (unsigned i = 0; i < count; ++i) {
            // A GPU this process may not open (a cgroup of another job) is not ours.
            nvmlDevice_t device = nullptr;
            if (nvml_->by_index_(i, &device) != NVML_SUCCESS) continue;
            char uuid[kNvmlBufferSize] = {}, name[kNvmlBufferSize] = {};
            nvmlMemory_t memory{};
            nvml_->check("nvmlDeviceGetUUID", nvml_->uuid_(device, uuid, sizeof uuid));
            nvml_->check("nvmlDeviceGetName", nvml_->name_(device, name, sizeof name));
            nvml_->check("nvmlDeviceGetMemoryInfo", nvml_->memory_(device, &memory));
            node.push_back({uuid, name, memory.total});
            handles.push_back(device);
        }
        devices_ = visible_gpu_devices(node, visible_devices);
        for (const VisibleGpu& v : apply_visible_devices(node, visible_devices))
            handles_.push_back(handles[v.index]);
    }

    std::string name() const override { return "nvml"; }

    std::vector<GpuDevice> devices() override {
        const std::vector<Bytes> free = free_memory();
        for (std::size_t i = 0; i < devices_.size(); ++i) devices_[i].free = free[i];
        return devices_;
    }

    std::vector<Bytes> free_memory() override {
        std::vector<Bytes> free;
        for (nvmlDevice_t device : handles_) {
            nvmlMemory_t memory{};
            nvml_->check("nvmlDeviceGetMemoryInfo", nvml_->memory_(device, &memory));
            free.push_back(memory.free);
        }
        return free;
    }

    std::optional<std::vector<GpuProcessMemory>> process_memory() override {
        if (!nvml_->has_processes()) return std::nullopt;
        std::vector<GpuProcessMemory> out;
        for (std::size_t i = 0; i < handles_.size(); ++i) {
            std::vector<nvmlProcessInfo_t> infos(16);
            unsigned n = static_cast<unsigned>(infos.size());
            nvmlReturn_t code;
            while ((code = nvml_->processes_(handles_[i], &n, infos.data())) ==
                   NVML_ERROR_INSUFFICIENT_SIZE) {
                infos.resize(n + 8);  // processes came and went: ask again with room
                n = static_cast<unsigned>(infos.size());
            }
            nvml_->check("nvmlDeviceGetComputeRunningProcesses", code);
            for (unsigned k = 0; k < n; ++k) {
                if (infos[k].usedGpuMemory == kNvmlValueNotAvailable) continue;  // hidden by the driver
                out.push_back({static_cast<int>(i), static_cast<long>(infos[k].pid), infos[k].usedGpuMemory});
            }
        }
        return out;
    }

private:
    std::unique_ptr<Nvml> nvml_;
    std::vector<GpuDevice> devices_;
    std::vector<nvmlDevice_t> handles_;
};

}  // namespace

std::unique_ptr<GpuBackend> open_nvml_backend(const std::optional<std::string>& visible_devices) {
    auto nvml = std::make_unique<Nvml>();
    if (!nvml->ready()) return nullptr;
    try {
        return std::make_unique<NvmlBackend>(std::move(nvml), visible_devices);
    } catch (const std::exception&) {
        return nullptr;  // a driver that answers nothing: try the next backend
    }
}

}  // namespace mpisweep
