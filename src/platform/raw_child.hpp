#pragma once
// Code that runs in a child made by a raw clone(2): a vfork-like child sharing the parent's
// memory, or the guardian, a copy of a process that may have other threads, made without
// fork's handlers. Neither may touch a sanitizer's runtime: its state and locks belong to
// the parent (under TSan the guardian hung on a lock another thread held at the clone).
#include <unistd.h>

#define MPISWEEP_RAW_CHILD __attribute__((no_sanitize("address", "undefined", "thread")))

namespace mpisweep::detail {

/// A system call with no libc state and no sanitizer interceptor in the way.
MPISWEEP_RAW_CHILD inline long raw_syscall(long number, long a = 0, long b = 0, long c = 0, long d = 0) {
    return ::syscall(number, a, b, c, d);
}

}  // namespace mpisweep::detail
