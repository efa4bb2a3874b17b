#include "platform/guardian.hpp"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "platform/clock.hpp"
#include "platform/raw_child.hpp"

namespace mpisweep::detail {
namespace {

// ---- the guardian process: raw system calls only (it is a copy of a process that may have
// other threads, made without fork's handlers; no libc state is safe to use) ----

constexpr std::size_t kMaxGroups = 4096;
constexpr int kGuardianSocket = 3;

pid_t registered[kMaxGroups];  // the guardian's copy; 0: free slot
alignas(64) char guardian_stack[64 * 1024];

MPISWEEP_RAW_CHILD void keep(pid_t group, bool add) {
    for (pid_t& slot : registered) {
        if (add ? slot == 0 : slot == group) {
            slot = add ? group : 0;
            return;
        }
    }
}

MPISWEEP_RAW_CHILD bool any_group_left() {
    for (pid_t group : registered) {
        if (group > 0 && raw_syscall(SYS_kill, -group, 0) == 0) return true;
    }
    return false;
}

MPISWEEP_RAW_CHILD void signal_groups(int sig) {
    for (pid_t group : registered) {
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
    for (;;) {
        GuardianMessage message{};
        const long n =
            raw_syscall(SYS_recvfrom, kGuardianSocket, reinterpret_cast<long>(&message), sizeof message, 0);
        if (n == static_cast<long>(sizeof message)) {
            if (message.group > 0) keep(message.group, message.op == GuardianMessage::kAdd);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
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
bool message_failed = false;

bool guardian_alive() {
    if (guardian <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(guardian, &status, WNOHANG);
    return r == 0;  // still running (r == guardian: it exited and is reaped now)
}

void start_guardian() {
    if (rank_end >= 0) ::close(rank_end);
    rank_end = -1;
    guardian = -1;
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

int guardian_fd() {
    std::lock_guard<std::mutex> lock(mutex);
    // Whether it died is asked (a waitpid) when a message to it failed and at most once a
    // second otherwise, not at every spawn: one system call fewer per task. A guardian
    // killed by someone is replaced within a second, or at the next task's end.
    // A child made by fork() must not use its parent's guardian (its death would go unseen):
    // the at-fork handler makes the child ask, and start its own.
    static const bool fork_handled = ::pthread_atfork(nullptr, nullptr, [] { message_failed = true; }) == 0;
    const double now = monotonic_seconds();
    if (rank_end >= 0 && fork_handled && !message_failed && now - last_alive_check < kAliveCheckSeconds)
        return rank_end;
    last_alive_check = now;
    message_failed = false;
    if (rank_end < 0 || !guardian_alive()) start_guardian();
    return rank_end;
}

void guardian_forget(pid_t group) noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    if (rank_end < 0 || group <= 0) return;
    const GuardianMessage message{GuardianMessage::kRemove, static_cast<std::int32_t>(group)};
    ssize_t sent;
    while ((sent = ::send(rank_end, &message, sizeof message, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
    if (sent < 0) message_failed = true;  // EPIPE: the guardian is gone
}

pid_t guardian_pid() noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    return guardian;
}

}  // namespace mpisweep::detail
