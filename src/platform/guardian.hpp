#pragma once
// The guardian: one small process per process that runs tasks (per worker rank, not per
// task), so that a task's process group never outlives the rank that started it, even when
// the rank is SIGKILLed (the OOM killer, a launcher tearing a job down). Each task registers
// its group itself, before its program runs (spawn.hpp), in a table of memory shared with
// the guardian: no message, no wake-up of the guardian per task. The rank clears the entry
// once the group is gone. The guardian holds one end of a socket pair whose other end only
// the rank holds (and a task, until it has registered and closes it before execve): when the
// rank dies, for any reason, the socket reports end of file, and the guardian sends SIGTERM
// to every group in the table, then SIGKILL to what is left after kGuardianGraceSeconds, and
// exits. It lives in a session of its own and ignores the signals that stop a sweep, so that
// whatever ends the rank does not end it first.
#include <cstddef>
#include <cstdint>
#include <sys/types.h>

#include "platform/raw_child.hpp"

namespace mpisweep::detail {

/// How long the guardian waits between SIGTERM and SIGKILL for the groups of a dead rank.
constexpr double kGuardianGraceSeconds = 1.0;

/// Groups registered at once at most (per process); a task that finds no free entry runs
/// unguarded.
constexpr std::size_t kGuardianEntries = 4096;

/// The table tasks register their group in (kGuardianEntries entries, 0: free), starting the
/// guardian on first use (and again if it died; the table is kept); null when it cannot be
/// started (then tasks run without one).
std::int32_t* guardian_table();

/// Puts `group` in a free entry of `table`; false when none is free. Atomic builtins, no
/// sanitizer: the child of a raw clone calls it (raw_child.hpp).
MPISWEEP_RAW_CHILD inline bool guardian_register(std::int32_t* table, std::int32_t group) noexcept {
    for (std::size_t i = 0; i < kGuardianEntries; ++i) {
        std::int32_t free = 0;
        if (__atomic_load_n(&table[i], __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&table[i], &free, group, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return true;
    }
    return false;
}

/// The group `group` is gone (its leader reaped, its leftovers killed). Never throws.
void guardian_forget(pid_t group) noexcept;

/// The guardian's pid, or -1 when none runs (for tests).
pid_t guardian_pid() noexcept;

}  // namespace mpisweep::detail
