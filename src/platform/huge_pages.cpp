#include "platform/huge_pages.hpp"

#include <unistd.h>

#include <cstdint>
#include <sys/mman.h>

namespace mpisweep {

namespace {

std::size_t round_up(std::size_t bytes, std::size_t to) {
    return (bytes + to - 1) / to * to;
}

// Whole huge pages from kHugePagesFrom; below, whole pages of the smallest size, so that not
// even THP's "always" mode backs it with a huge page.
std::size_t mapped_size(std::size_t bytes) {
    if (bytes >= kHugePagesFrom) return round_up(bytes, kHugePage);
    return round_up(bytes, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
}

void* map_anonymous(std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
}

}  // namespace

void* map_huge_pages(std::size_t bytes) {
    const std::size_t size = mapped_size(bytes);
    if (bytes < kHugePagesFrom) return map_anonymous(size);
    // A huge page longer, then trimmed to an aligned start: mmap aligns to 4 KiB only.
    const std::size_t mapped = size + kHugePage;
    void* p = map_anonymous(mapped);
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = round_up(start, kHugePage);
    if (aligned > start) ::munmap(p, aligned - start);
    if (const std::size_t tail = start + mapped - (aligned + size); tail > 0)
        ::munmap(reinterpret_cast<void*>(aligned + size), tail);
    void* data = reinterpret_cast<void*>(aligned);
    ::madvise(data, size, MADV_HUGEPAGE);  // EINVAL without THP: plain pages then
    return data;
}

void unmap_huge_pages(void* data, std::size_t bytes) noexcept {
    if (data != nullptr) ::munmap(data, mapped_size(bytes));
}

}  // namespace mpisweep
