#include "platform/guardian.hpp"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "platform/clock.hpp"
#include "platform/raw_child.hpp"

namespace mpisweep::detail {
namespace {

// ---- the guardian process: raw system calls only (it is a copy of a process that may have
// other threads, made without fork's handlers; no libc state is safe to use) ----

constexpr int kGuardianSocket = 3;

// The table, shared with the guardian (and written by tasks before execve); 0: free.
std::int32_t* table = nullptr;
pid_t table_owner = -1;  // the process that made it: a process made by fork() makes its own
alignas(64) char guardian_stack[64 * 1024];

MPISWEEP_RAW_CHILD bool any_group_left() {
    for (std::size_t i = 0; i < kGuardianEntries; ++i) {
        const std::int32_t group = __atomic_load_n(&table[i], __ATOMIC_SEQ_CST);
        if (group > 0 && raw_syscall(SYS_kill, -group, 0) == 0) return true;
    }
    return false;
}

MPISWEEP_RAW_CHILD void signal_groups(int sig) {
    for (std::size_t i = 0; i < kGuardianEntries; ++i) {
        const std::int32_t group = __atomic_load_n(&table[i], __ATOMIC_SEQ_CST);
        if (group > 0) raw_syscall(SYS_kill, -group, sig);
    }
}

// Its own session (whatever signals the rank's group or terminal does not reach it), the
// stop signals ignored, only the socket open (no MPI descriptor, no stdout of the rank kept
// open behind the rank's back), then: follow the registrations until the rank is gone.
MPISWEEP_RAW_CHILD int guardian_main(void* opaque) {
    const int* sockets = static_cast<const int*>(opaque);  // [rank's end, guardian's end]
    raw_syscall(SYS_setsid);
    struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        unsigned long mask;
    } ignore{SIG_IGN, 0, nullptr, 0};
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU})
        raw_syscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(&ignore), 0, 8);
    const unsigned long none = 0;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8);
    raw_syscall(SYS_close, sockets[0]);
    if (sockets[1] != kGuardianSocket) raw_syscall(SYS_dup2, sockets[1], kGuardianSocket);
    for (long fd = 0; fd < 3; ++fd) raw_syscall(SYS_close, fd);
    if (raw_syscall(SYS_close_range, kGuardianSocket + 1, ~0U, 0) != 0) {
        for (long fd = kGuardianSocket + 1; fd < 65536; ++fd) raw_syscall(SYS_close, fd);
    }
    raw_syscall(SYS_chdir, reinterpret_cast<long>("/"));
    // Nothing is ever sent: the socket only tells when every holder of the other end is
    // gone (the rank, and a task between its registration and its execve).
    for (;;) {
        char byte = 0;
        const long n = raw_syscall(SYS_recvfrom, kGuardianSocket, reinterpret_cast<long>(&byte), 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) continue;
        break;  // end of file: the rank is gone
    }
    signal_groups(SIGTERM);
    const long step_ns = 20'000'000;
    for (long waited = 0; waited < static_cast<long>(kGuardianGraceSeconds * 1e9) && any_group_left();
         waited += step_ns) {
        struct timespec step {
            0, step_ns
        };
        raw_syscall(SYS_nanosleep, reinterpret_cast<long>(&step), 0);
    }
    signal_groups(SIGKILL);
    raw_syscall(SYS_exit_group, 0);
    return 0;
}

// ---- the rank's side ----

std::mutex mutex;
int rank_end = -1;  // our end of the socket pair
pid_t guardian = -1;
constexpr double kAliveCheckSeconds = 1.0;
double last_alive_check = 0;  // monotonic seconds
bool forked = false;          // set in a child made by fork(): it must start its own guardian

bool guardian_alive() {
    if (guardian <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(guardian, &status, WNOHANG);
    return r == 0;  // still running (r == guardian: it exited and is reaped now)
}

// A table of the process's own: kept across restarts of its guardian (the new one inherits
// the registrations of tasks still running), made anew in a child of fork().
bool ensure_table() {
    if (table != nullptr && table_owner == ::getpid()) return true;
    if (table != nullptr) ::munmap(static_cast<void*>(table), kGuardianEntries * sizeof *table);
    void* memory = ::mmap(nullptr, kGuardianEntries * sizeof *table, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    table = memory == MAP_FAILED ? nullptr : static_cast<std::int32_t*>(memory);
    table_owner = ::getpid();
    return table != nullptr;
}

void start_guardian() {
    if (rank_end >= 0) ::close(rank_end);
    rank_end = -1;
    guardian = -1;
    if (!ensure_table()) return;
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) return;
    sigset_t all, previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous);
    // A copy of this process without fork's at-fork handlers (MPI and others register some).
    const pid_t pid = ::clone(guardian_main, guardian_stack + sizeof guardian_stack, SIGCHLD, sockets);
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    ::close(sockets[1]);
    if (pid < 0) {
        ::close(sockets[0]);
        return;
    }
    rank_end = sockets[0];
    guardian = pid;
}

}  // namespace

std::int32_t* guardian_table() {
    std::lock_guard<std::mutex> lock(mutex);
    // Whether it died is asked (a waitpid) at most once a second, not at every spawn: one
    // system call fewer per task. A guardian killed by someone is replaced within a second.
    // A child made by fork() must not use its parent's guardian or table (its death would
    // go unseen): the at-fork handler makes the child start its own.
    static const bool fork_handled = ::pthread_atfork(nullptr, nullptr, [] { forked = true; }) == 0;
    const double now = monotonic_seconds();
    if (rank_end >= 0 && fork_handled && !forked && now - last_alive_check < kAliveCheckSeconds) return table;
    last_alive_check = now;
    if (rank_end < 0 || forked || !guardian_alive()) start_guardian();
    forked = false;
    return rank_end >= 0 ? table : nullptr;
}

void guardian_forget(pid_t group) noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    if (table == nullptr || group <= 0 || table_owner != ::getpid()) return;
    for (std::size_t i = 0; i < kGuardianEntries; ++i) {
        if (__atomic_load_n(&table[i], __ATOMIC_RELAXED) == group) {
            __atomic_store_n(&table[i], 0, __ATOMIC_SEQ_CST);
            return;
        }
    }
}

pid_t guardian_pid() noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    return guardian;
}

}  // namespace mpisweep::detail
