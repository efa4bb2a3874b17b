#pragma once
// Reading files that another process may still be appending to: positioned reads that give
// what is there (fewer bytes at the end).
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace mpisweep::detail {

/// Reads up to `size` bytes at `offset`; fewer at the end of the file. -1 on an error (errno).
inline ssize_t read_at(int fd, char* out, std::size_t size, std::uint64_t offset) {
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(got);
}

}  // namespace mpisweep::detail
