// The CUDA calls of a worker without a GPU: no device, no error; CUDA_VISIBLE_DEVICES entries.
#include "platform/device.hpp"

#include <cstdlib>
#include <gtest/gtest.h>

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
    EXPECT_NO_THROW(mpisweep::bind_cuda_device(-1));
    EXPECT_EQ(mpisweep::cuda_ordinal_of("GPU-00000000-0000-0000-0000-000000000000"), -1);
}
