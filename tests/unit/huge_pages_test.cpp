#include "platform/huge_pages.hpp"

#include <cstdint>
#include <fstream>
#include <gtest/gtest.h>
#include <numeric>
#include <sstream>
#include <string>

namespace mpisweep {
namespace {

// The VmFlags line of the mapping that holds `address`, from /proc/self/smaps.
std::string vm_flags_of(const void* address) {
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    std::ifstream smaps("/proc/self/smaps");
    bool inside = false;
    for (std::string line; std::getline(smaps, line);) {
        std::uintptr_t begin = 0, end = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> begin >> dash >> end && dash == '-' && line.find(' ') != std::string::npos &&
            line.find(':') > line.find(' '))
            inside = begin <= a && a < end;
        else if (inside && line.rfind("VmFlags:", 0) == 0)
            return line;
    }
    return "";
}

TEST(HugePageRegion, IsZeroedAlignedWritableAndAdvisedForHugePages) {
    const std::size_t bytes = 3 * kHugePage + 12345;
    HugePageRegion region(bytes);
    ASSERT_NE(region.data(), nullptr);
    EXPECT_EQ(region.size(), bytes);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(region.data()) % kHugePage, 0u);
    for (std::size_t i = 0; i < bytes; i += 4096) EXPECT_EQ(region.data()[i], std::byte{0});
    region.data()[bytes - 1] = std::byte{7};
    EXPECT_EQ(region.data()[bytes - 1], std::byte{7});
    // "hg": MADV_HUGEPAGE took (a kernel without THP refuses the advice: nothing to check).
    std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string modes;
    if (std::getline(thp, modes) && modes.find("[never]") == std::string::npos) {
        EXPECT_NE(vm_flags_of(region.data()).find(" hg"), std::string::npos) << vm_flags_of(region.data());
    }
}

TEST(HugePageRegion, ASmallOneIsNotAdvised) {
    HugePageRegion region(kHugePagesFrom - 1);  // a 64-task sweep's chunk buffers
    region.data()[0] = std::byte{1};
    const std::string flags = vm_flags_of(region.data());
    EXPECT_NE(flags, "");
    EXPECT_EQ(flags.find(" hg"), std::string::npos) << flags;
}

TEST(HugePageRegion, MovesItsMappingAndUnmapsOnce) {
    HugePageRegion a(kHugePage);
    std::byte* data = a.data();
    data[0] = std::byte{1};
    HugePageRegion b(std::move(a));
    EXPECT_EQ(a.data(), nullptr);
    EXPECT_EQ(b.data(), data);
    HugePageRegion c;
    c = std::move(b);
    EXPECT_EQ(c.data()[0], std::byte{1});
    EXPECT_NE(vm_flags_of(data), "");
    c = HugePageRegion();
    EXPECT_EQ(vm_flags_of(data), "");  // unmapped
}

TEST(HugePageVector, KeepsItsValuesWhileGrowingPastTheHugePageThreshold) {
    HugePageVector<std::uint64_t> v;
    const std::size_t n = 3 * kHugePagesFrom / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < n; ++i) v.push_back(i * 3);
    EXPECT_GE(v.capacity() * sizeof(std::uint64_t), kHugePagesFrom);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % kHugePage, 0u);  // from map_huge_pages
    std::uint64_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected += i * 3;
    EXPECT_EQ(std::accumulate(v.begin(), v.end(), std::uint64_t{0}), expected);
    v.resize(10);
    v.shrink_to_fit();  // back to the heap
    EXPECT_EQ(v[9], 27u);
}

}  // namespace
}  // namespace mpisweep
