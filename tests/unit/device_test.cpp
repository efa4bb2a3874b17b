// GPU binding: which device each worker of a node gets, for given GPU counts (no GPU needed).
#include "platform/device.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <map>

using mpisweep::choose_device;

namespace {
std::vector<int> ordinals(int n) {
    std::vector<int> v;
    for (int i = 0; i < n; ++i) v.push_back(i);
    return v;
}
}  // namespace

TEST(DeviceMapping, NoGpuMeansEveryWorkerOnCpu) {
    for (int w = 0; w < 8; ++w) EXPECT_EQ(choose_device(w, {}, 1), -1);
}

TEST(DeviceMapping, OneWorkerPerGpuRoundRobinThenCpuWhenSlotsAreFull) {
    const auto gpus = ordinals(4);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(choose_device(w, gpus, 1), w);
    EXPECT_EQ(choose_device(4, gpus, 1), -1);
    EXPECT_EQ(choose_device(7, gpus, 1), -1);
}

TEST(DeviceMapping, SlotsPerGpuSpreadWorkersEvenlyWithinTheCap) {
    for (int n_gpus : {1, 2, 3, 4, 8}) {
        for (int slots : {1, 2, 3}) {
            std::map<int, int> load;
            const auto gpus = ordinals(n_gpus);
            for (int w = 0; w < 2 * n_gpus * slots; ++w) ++load[choose_device(w, gpus, slots)];
            SCOPED_TRACE(std::to_string(n_gpus) + " GPUs, " + std::to_string(slots) + " slots");
            for (int g = 0; g < n_gpus; ++g) EXPECT_EQ(load[g], slots);  // every GPU full, none over
            EXPECT_EQ(load[-1], n_gpus * slots);                         // the rest on CPU
        }
    }
}

TEST(DeviceMapping, NeighbouringWorkersGetDifferentGpusFirst) {
    // Round-robin: with 2 slots on 2 GPUs, workers 0,1,2,3 -> 0,1,0,1 (not 0,0,1,1), so a
    // half-full node uses every GPU.
    const std::vector<int> gpus{0, 1};
    EXPECT_EQ(choose_device(0, gpus, 2), 0);
    EXPECT_EQ(choose_device(1, gpus, 2), 1);
    EXPECT_EQ(choose_device(2, gpus, 2), 0);
    EXPECT_EQ(choose_device(3, gpus, 2), 1);
}

TEST(DeviceMapping, ExplicitDeviceListIsUsedInItsOrder) {
    const std::vector<int> gpus{3, 1};
    EXPECT_EQ(choose_device(0, gpus, 1), 3);
    EXPECT_EQ(choose_device(1, gpus, 1), 1);
    EXPECT_EQ(choose_device(2, gpus, 1), -1);
}

TEST(VisibleDevices, OrdinalMapsToTheCudaVisibleDevicesEntry) {
    EXPECT_EQ(mpisweep::visible_device_name(0, "2,3"), "2");
    EXPECT_EQ(mpisweep::visible_device_name(1, "2,3"), "3");
    EXPECT_EQ(mpisweep::visible_device_name(1, "GPU-aaaa,GPU-bbbb"), "GPU-bbbb");
    EXPECT_EQ(mpisweep::visible_device_name(1, nullptr), "1");
    EXPECT_EQ(mpisweep::visible_device_name(1, ""), "1");
    EXPECT_EQ(mpisweep::visible_device_name(-1, "2,3"), "");
}

TEST(CudaRuntime, NoDriverMeansZeroDevicesAndCpuModeNotAnError) {
    // The test machines have the CUDA toolkit but no GPU and no driver.
    if (mpisweep::cuda_device_count() > 0) GTEST_SKIP() << "this machine has a GPU";
    if (std::getenv("MPISWEEP_EXPECT_GPU") != nullptr) FAIL() << "a GPU was expected here";
    mpisweep::DeviceOptions options;
    EXPECT_TRUE(mpisweep::available_devices(options).empty());
    options.devices = {0, 1};  // asked for explicitly on a node without GPUs: still CPU mode
    EXPECT_TRUE(mpisweep::available_devices(options).empty());
    EXPECT_NO_THROW(mpisweep::bind_cuda_device(-1));
    options.cpu_only = true;
    EXPECT_TRUE(mpisweep::available_devices(options).empty());
}
