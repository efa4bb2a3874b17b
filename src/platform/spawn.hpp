#pragma once
// Starting a program in a process group of its own, registered with the guardian
// (guardian.hpp) by the new process itself before the program runs, so no moment exists at
// which a task runs that the guardian does not know about. posix_spawn cannot run that step,
// so this is the same technique as glibc's: clone(CLONE_VM | CLONE_VFORK) onto a stack of
// its own, a child that makes only system calls, then execve.
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mpisweep::detail {

struct SpawnPlan {
    /// Paths to try in order (one for a path with '/', each folder of PATH otherwise).
    std::vector<std::string> candidates;
    std::vector<std::string> argv;
    /// NAME=value, the whole environment (no final null pointer); the strings must live
    /// until spawn_in_own_group returns.
    std::vector<const char*> env;
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
    std::int32_t* guardian_table = nullptr;  ///< where the child registers its group; null: no guardian
};

/// The new process's pid, or -1 with the reason in `error` (errno of the last execve that
/// mattered, or of clone). The child: own process group (pgid = pid), every signal at its
/// default action, an empty signal mask, stdin/stdout/stderr from the plan, no other
/// descriptor open.
pid_t spawn_in_own_group(const SpawnPlan& plan, int& error);

/// The candidates for `program`: itself when it has '/', else each folder of PATH (or the
/// default search path) joined with it, as posix_spawnp would try them.
std::vector<std::string> program_candidates(const std::string& program);

}  // namespace mpisweep::detail
