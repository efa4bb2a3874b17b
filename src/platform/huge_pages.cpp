#include "platform/huge_pages.hpp"

#include <cstdint>
#include <sys/mman.h>

namespace mpisweep {

namespace {
std::size_t whole_huge_pages(std::size_t bytes) {
    return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}
}  // namespace

void* map_huge_pages(std::size_t bytes) {
    const std::size_t size = whole_huge_pages(bytes);
    // A huge page longer, then trimmed to an aligned start: mmap aligns to 4 KiB only.
    const std::size_t mapped = size + kHugePage;
    void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > start) ::munmap(p, aligned - start);
    if (const std::size_t tail = start + mapped - (aligned + size); tail > 0)
        ::munmap(reinterpret_cast<void*>(aligned + size), tail);
    void* data = reinterpret_cast<void*>(aligned);
    ::madvise(data, size, MADV_HUGEPAGE);  // EINVAL without THP: plain pages then
    return data;
}

void unmap_huge_pages(void* data, std::size_t bytes) noexcept {
    if (data != nullptr) ::munmap(data, whole_huge_pages(bytes));
}

}  // namespace mpisweep
