#include "platform/spawn.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "platform/guardian.hpp"
#include "platform/raw_child.hpp"

namespace mpisweep::detail {
namespace {

// What the child reads: prepared by the parent, so the child allocates nothing.
struct ChildArgs {
    char* const* candidates = nullptr;
    std::size_t n_candidates = 0;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    int fds[3] = {-1, -1, -1};
    std::int32_t* guardian_table = nullptr;
    const cpu_set_t* cpus = nullptr;  ///< the CPUs to take back before execve (CpuPin); null: none
    int error = 0;                    // written by the child when every execve failed (the memory is shared)
    int error_fd = -1;                // or written there, when the child has a copy of the memory
};

#if defined(__SANITIZE_THREAD__)
// TSan cannot follow a child that shares the parent's memory: the parent's next lock is then
// reported as a race. Under TSan the child gets a copy of the memory and sends its error
// through a pipe that closes at execve.
constexpr bool kShareMemory = false;
#else
constexpr bool kShareMemory = true;
#endif

constexpr std::size_t kChildStackBytes = 64 * 1024;

// The child's stack; one per thread that spawns, made on its first spawn and kept.
char* child_stack_top() {
    thread_local char* top = nullptr;
    if (top == nullptr) {
        void* stack = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) return nullptr;
        top = static_cast<char*>(stack) + kChildStackBytes;
    }
    return top;
}

// Closes every descriptor from `first` on but `keep` (-1: none kept).
MPISWEEP_RAW_CHILD void close_descriptors_from(long first, long keep) {
    const auto close_range = [](long low, long high) {
        if (low > high) return;
        if (raw_syscall(SYS_close_range, low, high, 0) != 0) {
            for (long fd = low; fd <= std::min(high, 65535L); ++fd) raw_syscall(SYS_close, fd);
        }
    };
    if (keep < first) return close_range(first, ~0U);
    close_range(first, keep - 1);
    close_range(keep + 1, ~0U);
}

// Runs in the child, on its own stack, sharing the parent's memory while the parent waits:
// raw system calls only (no libc state, no sanitizer interceptors), nothing allocated.
MPISWEEP_RAW_CHILD int child_main(void* opaque) {
    auto* args = static_cast<ChildArgs*>(opaque);
    // Every signal at its default action (the rank's handlers mean nothing here).
    struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        std::uint64_t mask;
    } action{SIG_DFL, 0, nullptr, 0};
    for (long sig = 1; sig < 65; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP)
            raw_syscall(SYS_rt_sigaction, sig, reinterpret_cast<long>(&action), 0, 8);
    }
    raw_syscall(SYS_setpgid, 0, 0);
    // Registered before the program runs, and while this process still holds the rank's end
    // of the guardian's socket (closed below): the guardian reads the table only once every
    // holder of that end is gone.
    if (args->guardian_table != nullptr)
        guardian_register(args->guardian_table, static_cast<std::int32_t>(raw_syscall(SYS_getpid)));
    for (int target = 0; target < 3; ++target) {
        if (args->fds[target] >= 0) raw_syscall(SYS_dup2, args->fds[target], target);
    }
    close_descriptors_from(3, args->error_fd);
    const std::uint64_t empty = 0;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&empty), 0, 8);
    if (args->cpus != nullptr)
        raw_syscall(SYS_sched_setaffinity, 0, sizeof(cpu_set_t), reinterpret_cast<long>(args->cpus));
    int error = ENOENT;
    for (std::size_t i = 0; i < args->n_candidates; ++i) {
        raw_syscall(SYS_execve, reinterpret_cast<long>(args->candidates[i]),
                    reinterpret_cast<long>(args->argv), reinterpret_cast<long>(args->envp));
        const int e = errno;
        // As execvp: a permission error is kept unless a later folder has the program.
        if (e != ENOENT && e != ENOTDIR && error == ENOENT) error = e;
        if (e != ENOENT && e != ENOTDIR && e != EACCES) break;
    }
    args->error = error;
    if (args->error_fd >= 0)
        raw_syscall(SYS_write, args->error_fd, reinterpret_cast<long>(&error), sizeof error);
    raw_syscall(SYS_exit_group, 127);
    return 127;
}

// The spawning thread pinned to the CPU it runs on from just before the clone until the
// clone returns, so that the child, which shares its memory while the parent waits, starts
// on that CPU too; the child takes the thread's CPUs back just before execve, so the program
// (and any thread it starts) runs where the rank may. Left to the fork balancer, the child
// of a worker on a 2-core node was often put on the other, busy core while this one went
// idle (bench/README.md, "true at np = cores + 1").
class CpuPin {
public:
    CpuPin() {
        if (::sched_getaffinity(0, sizeof cpus_, &cpus_) != 0 || CPU_COUNT(&cpus_) < 2) return;
        const int cpu = ::sched_getcpu();
        if (cpu < 0 || !CPU_ISSET(cpu, &cpus_)) return;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        pinned_ = ::sched_setaffinity(0, sizeof one, &one) == 0;
    }
    ~CpuPin() {
        if (pinned_) (void)::sched_setaffinity(0, sizeof cpus_, &cpus_);
    }
    CpuPin(const CpuPin&) = delete;
    CpuPin& operator=(const CpuPin&) = delete;

    /// The thread's own CPUs when it is pinned, for the child to take back; else null.
    const cpu_set_t* cpus() const { return pinned_ ? &cpus_ : nullptr; }

private:
    cpu_set_t cpus_{};
    bool pinned_ = false;
};

std::vector<char*> pointers_to(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// The error a child with a copy of the memory sent before exiting, 0 once it ran execve.
int read_child_error(int (&error_pipe)[2]) {
    ::close(error_pipe[1]);
    int child_error = 0;
    ssize_t n = 0;
    while ((n = ::read(error_pipe[0], &child_error, sizeof child_error)) < 0 && errno == EINTR) {}
    ::close(error_pipe[0]);
    return n == static_cast<ssize_t>(sizeof child_error) ? child_error : 0;
}

}  // namespace

std::vector<std::string> program_candidates(const std::string& program) {
    if (program.find('/') != std::string::npos) return {program};
    const char* path_env = std::getenv("PATH");
    // posix_spawnp's default search path when PATH is unset.
    const std::string path = path_env ? path_env : "/bin:/usr/bin";
    std::vector<std::string> out;
    std::size_t begin = 0;
    while (true) {
        const std::size_t end = path.find(':', begin);
        const std::string dir =
            path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        out.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
        if (end == std::string::npos) return out;
        begin = end + 1;
    }
}

pid_t spawn_in_own_group(const SpawnPlan& plan, int& error) {
    std::vector<char*> candidates = pointers_to(plan.candidates);
    std::vector<char*> argv = pointers_to(plan.argv);
    std::vector<char*> envp;
    envp.reserve(plan.env.size() + 1);
    for (const char* entry : plan.env) envp.push_back(const_cast<char*>(entry));
    envp.push_back(nullptr);
    ChildArgs args;
    args.candidates = candidates.data();
    args.n_candidates = plan.candidates.size();
    args.argv = argv.data();
    args.envp = envp.data();
    args.fds[0] = plan.stdin_fd;
    args.fds[1] = plan.stdout_fd;
    args.fds[2] = plan.stderr_fd;
    args.guardian_table = plan.guardian_table;
    char* stack = child_stack_top();
    if (stack == nullptr) {
        error = ENOMEM;
        return -1;
    }
    int error_pipe[2] = {-1, -1};
    if (!kShareMemory && ::pipe2(error_pipe, O_CLOEXEC) != 0) {
        error = errno;
        return -1;
    }
    args.error_fd = error_pipe[1];
    // No handler of this process may run in the child before it has reset them: all signals
    // blocked across the clone (the child unblocks them just before execve).
    sigset_t all, previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous);
    const int flags = kShareMemory ? CLONE_VM | CLONE_VFORK | SIGCHLD : SIGCHLD;
    pid_t pid = -1;
    int clone_error = 0;
    {
        const CpuPin pin;
        args.cpus = pin.cpus();
        pid = ::clone(child_main, stack, flags, &args);
        clone_error = errno;
    }
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (!kShareMemory) args.error = read_child_error(error_pipe);
    if (pid < 0) {
        error = clone_error;
        return -1;
    }
    if (args.error != 0) {
        // The program could not be run: the child has exited with 127.
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        guardian_forget(pid);
        error = args.error;
        return -1;
    }
    error = 0;
    return pid;
}

}  // namespace mpisweep::detail
