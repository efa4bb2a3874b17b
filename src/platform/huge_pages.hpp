#pragma once
// Anonymous memory that the kernel may back with transparent huge pages: a first touch then
// costs one fault per 2 MiB instead of one per 4 KiB page. Where THP is "madvise" (Debian's
// default) only memory advised so gets them; on VMs with shadow page tables a 4 KiB fault
// cost ~11 us (bench/README.md, "Session 16"). Where THP is off this is plain memory.
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace mpisweep {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;
/// Less than this is not advised: a huge page would be mostly unused (a huge page's first
/// touch zeroes all 2 MiB of it).
inline constexpr std::size_t kHugePagesFrom = std::size_t{512} << 10;

/// `bytes` (> 0) of zeroed memory; from kHugePagesFrom bytes aligned to kHugePage, mapped in
/// whole huge pages and advised for them. Throws std::bad_alloc. Give it back with
/// unmap_huge_pages(data, the same bytes).
void* map_huge_pages(std::size_t bytes);
void unmap_huge_pages(void* data, std::size_t bytes) noexcept;

/// One such mapping, unmapped by its destructor.
class HugePageRegion {
public:
    HugePageRegion() = default;
    explicit HugePageRegion(std::size_t bytes)
        : data_(static_cast<std::byte*>(map_huge_pages(bytes))), size_(bytes) {}
    HugePageRegion(HugePageRegion&& other) noexcept { swap(other); }
    HugePageRegion& operator=(HugePageRegion&& other) noexcept {
        HugePageRegion(std::move(other)).swap(*this);
        return *this;
    }
    HugePageRegion(const HugePageRegion&) = delete;
    HugePageRegion& operator=(const HugePageRegion&) = delete;
    ~HugePageRegion() { unmap_huge_pages(data_, size_); }

    std::byte* data() const { return data_; }
    std::size_t size() const { return size_; }

private:
    void swap(HugePageRegion& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

/// For containers that grow large on the master (staging columns, a worker's copies): blocks
/// of kHugePagesFrom bytes or more come from map_huge_pages, smaller ones from the heap.
template <class T>
struct HugePageAllocator {
    using value_type = T;

    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (n * sizeof(T) < kHugePagesFrom) return std::allocator<T>().allocate(n);
        return static_cast<T*>(map_huge_pages(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if (n * sizeof(T) < kHugePagesFrom) return std::allocator<T>().deallocate(p, n);
        unmap_huge_pages(p, n * sizeof(T));
    }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const HugePageAllocator<U>&) const noexcept {
        return false;
    }
};

template <class T>
using HugePageVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace mpisweep
