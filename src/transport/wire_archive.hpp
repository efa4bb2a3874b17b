#pragma once
// A minimal Boost.Serialization-style archive for the hot messages (TaskBatch, ReportBatch,
// CancelRequest): the fields are laid out one after another with memcpy into one contiguous
// buffer, in native byte order (every rank runs the same binary on the same architecture).
//
// Why not Boost.MPI's packed archive here: with one task per message it cost ~1.9k
// instructions to pack a one-row ReportBatch (one vector range-insert per column) and ~0.8k to
// unpack a TaskBatch, against ~100 for this archive (callgrind, bench/e2e_sweep empty
// --batch-us 0); the round trip is latency-bound, so that was a third of its cost. The
// messages keep one serialize() each, which both this archive and Boost's accept; the rare
// messages (WorkerHello, InterruptNotice) still go through Boost.MPI.
//
// Loading never reads past the end: a short or corrupt message throws WireError.
#include <boost/serialization/array_wrapper.hpp>
#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#if defined(__GNUC__)
#define MPISWEEP_WIRE_INLINE inline __attribute__((always_inline))
#define MPISWEEP_WIRE_COLD __attribute__((noinline, cold))
#else
#define MPISWEEP_WIRE_INLINE inline
#define MPISWEEP_WIRE_COLD
#endif

namespace mpisweep {

class WireError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// memcpy, with the sizes of one value (a one-row column) as inline moves instead of a call.
MPISWEEP_WIRE_INLINE void wire_copy(void* to, const void* from, std::size_t bytes) {
    switch (bytes) {
        case 1:
            std::memcpy(to, from, 1);
            break;
        case 2:
            std::memcpy(to, from, 2);
            break;
        case 4:
            std::memcpy(to, from, 4);
            break;
        case 8:
            std::memcpy(to, from, 8);
            break;
        default:
            std::memcpy(to, from, bytes);
            break;
    }
}

/// Writes into `Buffer` (a std::vector<char>-like type) from offset 0. The buffer only grows:
/// its size() is the capacity, size() is the message length.
template <class Buffer>
class WireOArchive {
public:
    using is_loading = std::false_type;
    using is_saving = std::true_type;

    /// Writes from `offset` on (the bytes before it are the caller's).
    explicit WireOArchive(Buffer& buffer, std::size_t offset = 0) : buffer_(buffer), size_(offset) {
        if (buffer_.size() < offset) grow(offset);
    }
    std::size_t size() const { return size_; }

    template <class T>
    MPISWEEP_WIRE_INLINE std::enable_if_t<std::is_arithmetic_v<T>, WireOArchive&> operator&(const T& value) {
        write(&value, sizeof(T));
        return *this;
    }
    template <class T>
    MPISWEEP_WIRE_INLINE WireOArchive& operator&(const boost::serialization::array_wrapper<T>& array) {
        static_assert(std::is_arithmetic_v<T>, "wire archive: arrays of numbers only");
        write(array.address(), array.count() * sizeof(T));
        return *this;
    }
    WireOArchive& operator&(const std::string& text) {
        const std::uint64_t n = text.size();
        write(&n, sizeof n);
        write(text.data(), text.size());
        return *this;
    }

private:
    MPISWEEP_WIRE_INLINE void write(const void* data, std::size_t bytes) {
        if (bytes == 0) return;
        // MPI counts bytes in an int: a longer message cannot be sent in one piece.
        if (bytes > static_cast<std::size_t>(INT_MAX) - size_) too_large(bytes);
        if (size_ + bytes > buffer_.size()) grow(size_ + bytes);
        wire_copy(buffer_.data() + size_, data, bytes);
        size_ += bytes;
    }
    [[noreturn]] MPISWEEP_WIRE_COLD void too_large(std::size_t bytes) const {
        throw WireError("a message of " + std::to_string(size_ + bytes) +
                        " bytes or more: over the 2 GiB that one MPI message can carry");
    }
    MPISWEEP_WIRE_COLD void grow(std::size_t need) {
        std::size_t capacity = buffer_.size() < 256 ? 256 : buffer_.size();
        while (capacity < need) capacity *= 2;
        buffer_.resize(capacity);
    }

    Buffer& buffer_;
    std::size_t size_ = 0;
};

/// Reads a message of `size` bytes at `data`; finish() checks that all of it was read.
class WireIArchive {
public:
    using is_loading = std::true_type;
    using is_saving = std::false_type;

    WireIArchive(const char* data, std::size_t size, const char* what)
        : data_(data), size_(size), what_(what) {}

    template <class T>
    MPISWEEP_WIRE_INLINE std::enable_if_t<std::is_arithmetic_v<T>, WireIArchive&> operator&(T& value) {
        read(&value, sizeof(T));
        return *this;
    }
    template <class T>
    MPISWEEP_WIRE_INLINE WireIArchive& operator&(const boost::serialization::array_wrapper<T>& array) {
        static_assert(std::is_arithmetic_v<T>, "wire archive: arrays of numbers only");
        read(array.address(), array.count() * sizeof(T));
        return *this;
    }
    WireIArchive& operator&(std::string& text) {
        std::uint64_t n = 0;
        read(&n, sizeof n);
        expect_items(n, 1);
        text.assign(data_ + position_, static_cast<std::size_t>(n));
        position_ += static_cast<std::size_t>(n);
        return *this;
    }

    /// Throws unless `n` items of at least `item_bytes` each can still be in the message: a
    /// corrupt length must not size a vector before the read would fail.
    MPISWEEP_WIRE_INLINE void expect_items(std::uint64_t n, std::size_t item_bytes) const {
        if (item_bytes > 0 && n > (size_ - position_) / item_bytes) fail_length(n);
    }
    /// Throws unless every byte was read (a message of another type or layout).
    void finish() const {
        if (position_ != size_) fail(std::to_string(size_ - position_) + " bytes left over at the end");
    }

private:
    MPISWEEP_WIRE_INLINE void read(void* out, std::size_t bytes) {
        if (bytes > size_ - position_) fail("a field past its end");
        if (bytes == 0) return;
        wire_copy(out, data_ + position_, bytes);
        position_ += bytes;
    }
    [[noreturn]] MPISWEEP_WIRE_COLD void fail_length(std::uint64_t n) const {
        fail("a length of " + std::to_string(n) + " items");
    }
    [[noreturn]] MPISWEEP_WIRE_COLD void fail(const char* problem) const { fail(std::string(problem)); }
    [[noreturn]] MPISWEEP_WIRE_COLD void fail(const std::string& problem) const {
        throw WireError("corrupt or truncated " + std::string(what_) + " message (" + std::to_string(size_) +
                        " bytes): " + problem);
    }

    const char* data_;
    std::size_t size_;
    std::size_t position_ = 0;
    const char* what_;
};

}  // namespace mpisweep
