// Built when the CUDA toolkit is found. Linked with the static runtime, which loads the
// driver at run time: with no driver or no GPU, cudaGetDeviceCount fails and we run on CPU.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

#include "platform/cuda_check.hpp"
#include "platform/device.hpp"
#include "platform/gpu_backend.hpp"

namespace mpisweep {
namespace {

// Devices this process bound: it has a context there, so asking their free memory costs
// no new context (cudaMemGetInfo elsewhere would create one on every GPU).
std::mutex bound_mutex;
std::set<int> bound_devices;

std::string uuid_text(const cudaUUID_t& uuid) {
    const auto* b = reinterpret_cast<const unsigned char*>(uuid.bytes);
    char text[48];
    std::snprintf(text, sizeof text,
                  "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return text;
}

class CudaBackend final : public GpuBackend {
public:
    explicit CudaBackend(int count) {
        const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
        for (int i = 0; i < count; ++i) {
            cudaDeviceProp prop{};
            MPISWEEP_CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
            GpuDevice d;
            d.ordinal = i;
            d.uuid = uuid_text(prop.uuid);
            d.visible_id = visible != nullptr ? visible_device_name(i, visible) : d.uuid;
            d.name = prop.name;
            d.total = prop.totalGlobalMem;
            d.free = d.total;
            devices_.push_back(d);
        }
    }
    std::string name() const override { return "cuda"; }
    bool initializes_cuda() const override { return true; }
    std::vector<GpuDevice> devices() override {
        const std::vector<Bytes> free = free_memory();
        for (std::size_t i = 0; i < devices_.size(); ++i) devices_[i].free = free[i];
        return devices_;
    }
    // Measured on the GPUs this process bound; the others report their total (unknown).
    std::vector<Bytes> free_memory() override {
        std::vector<Bytes> free;
        int current = -1;
        cudaGetDevice(&current);
        for (const GpuDevice& d : devices_) {
            std::size_t free_bytes = d.total, total_bytes = 0;
            bool bound = false;
            {
                std::lock_guard<std::mutex> lock(bound_mutex);
                bound = bound_devices.count(d.ordinal) > 0;
            }
            if (bound) {
                MPISWEEP_CUDA_CHECK(cudaSetDevice(d.ordinal));
                MPISWEEP_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
            }
            free.push_back(free_bytes);
        }
        if (current >= 0) cudaSetDevice(current);
        return free;
    }
    std::optional<std::vector<GpuProcessMemory>> process_memory() override { return std::nullopt; }

private:
    std::vector<GpuDevice> devices_;
};

}  // namespace

bool built_with_cuda() {
    return true;
}

int cuda_device_count() {
    int count = 0;
    // Any error here ("driver version is insufficient", "no device") means: no GPU.
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky error state
        return 0;
    }
    return count;
}

void bind_cuda_device(int device) {
    if (device < 0) return;
    MPISWEEP_CUDA_CHECK(cudaSetDevice(device));
    std::lock_guard<std::mutex> lock(bound_mutex);
    bound_devices.insert(device);
}

int cuda_ordinal_of(const std::string& uuid) {
    const int count = cuda_device_count();
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) == cudaSuccess && uuid_text(prop.uuid) == uuid) return i;
    }
    return -1;
}

std::unique_ptr<GpuBackend> open_cuda_backend() {
    const int count = cuda_device_count();
    if (count == 0) return nullptr;
    try {
        return std::make_unique<CudaBackend>(count);
    } catch (const CudaError&) {
        return nullptr;
    }
}

}  // namespace mpisweep
