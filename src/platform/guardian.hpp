#pragma once
// The guardian: one small process per process that runs tasks (per worker rank, not per
// task), so that a task's process group never outlives the rank that started it, even when
// the rank is SIGKILLed (the OOM killer, a launcher tearing a job down). Each task registers
// its group itself, before its program runs (spawn.hpp); the rank unregisters it once the
// group is gone. The guardian holds one end of a socket pair whose other end only the rank
// holds: when the rank dies, for any reason, the socket reports end of file, and the
// guardian sends SIGTERM to every group still registered, then SIGKILL to what is left
// after kGuardianGraceSeconds, and exits. It lives in a session of its own and ignores the
// signals that stop a sweep, so that whatever ends the rank does not end it first.
#include <cstdint>
#include <sys/types.h>

namespace mpisweep::detail {

/// How long the guardian waits between SIGTERM and SIGKILL for the groups of a dead rank.
constexpr double kGuardianGraceSeconds = 1.0;

struct GuardianMessage {
    static constexpr std::int32_t kAdd = 1;
    static constexpr std::int32_t kRemove = 2;
    std::int32_t op;
    std::int32_t group;
};

/// The descriptor tasks register their group on, starting the guardian on first use (and
/// again if it died); -1 when it cannot be started (then tasks run without one).
int guardian_fd();

/// The group `group` is gone (its leader reaped, its leftovers killed). Never throws.
void guardian_forget(pid_t group) noexcept;

/// The guardian's pid, or -1 when none runs (for tests).
pid_t guardian_pid() noexcept;

}  // namespace mpisweep::detail
