#include "platform/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <utility>

#include "platform/guardian.hpp"
#include "platform/spawn.hpp"
#include "platform/unique_fd.hpp"

extern char** environ;

namespace mpisweep::detail {
namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// How often the cancel check and the clock are looked at while the program runs; with a
// pidfd the exit itself wakes the wait at once.
constexpr double kCheckInterval = 0.05;
// Pieces (up to 64 KiB each) read from a pipe per wake-up, and after the program has ended.
constexpr int kReadsPerWake = 16;
constexpr int kReadsAfterExit = 64;

std::string errno_text(int error_number) {
    return std::string(std::strerror(error_number)) + " (errno " + std::to_string(error_number) + ")";
}

// A pipe whose read end does not block (the waiter reads what is there, never more) and
// whose ends are closed unless taken.
class Pipe {
public:
    Pipe() = default;
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() {
        for (int fd : ends_)
            if (fd >= 0) ::close(fd);
    }
    void open() {
        if (::pipe2(ends_, O_CLOEXEC) != 0) {
            const int e = errno;
            throw SpawnError("cannot create a pipe for the program's output: " + errno_text(e), e);
        }
        ::fcntl(ends_[0], F_SETFL, O_NONBLOCK);  // a new pipe has no other status flag to keep
    }
    int take_read() { return std::exchange(ends_[0], -1); }
    int take_write() { return std::exchange(ends_[1], -1); }

private:
    int ends_[2] = {-1, -1};
};

// The children's stdin, opened once per process and kept (O_CLOEXEC): an open and a close
// fewer per task. Throws SpawnError when /dev/null cannot be opened (tried again next time).
int dev_null() {
    static std::mutex mutex;
    static int fd = -1;
    std::lock_guard<std::mutex> lock(mutex);
    if (fd < 0) fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        throw SpawnError("cannot open /dev/null: " + errno_text(e), e);
    }
    return fd;
}

int open_output(const std::string& path) {
    const char* target = path.empty() ? "/dev/null" : path.c_str();
    int fd = ::open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int e = errno;
        throw SpawnError("cannot open log file '" + std::string(target) + "': " + errno_text(e), e, target);
    }
    return fd;
}

// The parent's environment without the names `drop` selects, with `overrides` set on top,
// as pointers: the parent's entries are not copied (glibc never frees an environment string,
// so they outlive the spawn), the overrides' "NAME=value" strings are kept in `owned`.
std::vector<const char*> merged_environment(const std::vector<std::pair<std::string, std::string>>& overrides,
                                            const std::function<bool(std::string_view)>& drop,
                                            std::vector<std::string>& owned) {
    std::vector<const char*> out;
    out.reserve(128);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const char* eq = std::strchr(*e, '=');
        const std::size_t key_len = eq ? static_cast<std::size_t>(eq - *e) : std::strlen(*e);
        if (drop && drop(std::string_view(*e, key_len))) continue;
        const bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const auto& kv) {
            return kv.first.size() == key_len && std::strncmp(kv.first.c_str(), *e, key_len) == 0;
        });
        if (!overridden) out.push_back(*e);
    }
    // Of several overrides of one name the last wins.
    owned.reserve(overrides.size());
    for (std::size_t i = 0; i < overrides.size(); ++i) {
        const bool later =
            std::any_of(overrides.begin() + static_cast<std::ptrdiff_t>(i) + 1, overrides.end(),
                        [&](const auto& kv) { return kv.first == overrides[i].first; });
        if (!later) owned.push_back(overrides[i].first + "=" + overrides[i].second);
    }
    for (const std::string& entry : owned) out.push_back(entry.c_str());
    return out;
}

// The process groups of the running children, for the signal handler: a fixed array of
// lock-free atomics, the only kind of state a handler may read.
constexpr std::size_t kTrackedGroups = 256;
std::atomic<pid_t> running_groups[kTrackedGroups];

void track_group(pid_t group) {
    for (auto& slot : running_groups) {
        pid_t empty = 0;
        if (slot.compare_exchange_strong(empty, group)) return;
    }
    // More than kTrackedGroups children at once: the extra ones are not stopped by a signal.
}

void untrack_group(pid_t group) {
    for (auto& slot : running_groups) {
        pid_t expected = group;
        if (slot.compare_exchange_strong(expected, 0)) return;
    }
}

}  // namespace

void stop_running_children_now() noexcept {
    bool any = false;
    for (auto& slot : running_groups) {
        const pid_t group = slot.load();
        if (group > 0) {
            ::kill(-group, SIGTERM);
            any = true;
        }
    }
    if (!any) return;
    timespec grace{0, 300'000'000};
    ::nanosleep(&grace, nullptr);
    for (auto& slot : running_groups) {
        const pid_t group = slot.load();
        if (group > 0) ::kill(-group, SIGKILL);
    }
}

namespace {

constexpr int kTerminationSignals[] = {SIGTERM, SIGINT, SIGHUP};
struct sigaction previous_actions[NSIG];

extern "C" void stop_children_then_terminate(int sig, siginfo_t* info, void* context) {
    const int saved_errno = errno;
    stop_running_children_now();
    const struct sigaction& previous = previous_actions[sig];
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        // Default action: delivered again once this handler returns (it is blocked meanwhile).
        struct sigaction default_action {};
        default_action.sa_handler = SIG_DFL;
        ::sigaction(sig, &default_action, nullptr);
        ::raise(sig);
    }
    errno = saved_errno;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? static_cast<int>(fd) : -1;
#else
    (void)pid;
    return -1;
#endif
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return -1;
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

ChildProcess ChildProcess::spawn(const SpawnRequest& request) {
    if (request.argv.empty() || request.argv.front().empty()) {
        throw SpawnError("cannot run an empty command: expected a program name", EINVAL);
    }
    const int in = dev_null();
    // With pipes, `out` and `err` hold the write ends (the child's); the read ends go to the
    // ChildProcess.
    Pipe out_pipe, err_pipe;
    if (request.pipe_output) {
        out_pipe.open();
        err_pipe.open();
    }
    UniqueFd out(request.pipe_output ? out_pipe.take_write() : open_output(request.stdout_path));
    // The same file for both streams must share one offset, or they overwrite each other.
    UniqueFd err(request.pipe_output                          ? err_pipe.take_write()
                 : request.stderr_path == request.stdout_path ? ::fcntl(out.get(), F_DUPFD_CLOEXEC, 0)
                                                              : open_output(request.stderr_path));

    SpawnPlan plan;
    const std::string& program = request.program_path.empty() ? request.argv.front() : request.program_path;
    plan.candidates = program_candidates(program);
    plan.argv = request.argv;
    std::vector<std::string> env_owned;
    plan.env = merged_environment(request.env, request.drop_env, env_owned);
    plan.stdin_fd = in;
    plan.stdout_fd = out.get();
    plan.stderr_fd = err.get();
    // The group is registered by the child itself before the program runs (spawn.hpp).
    plan.guardian_table = guardian_table();
    int error = 0;
    const pid_t pid = spawn_in_own_group(plan, error);
    if (pid < 0) {
        throw SpawnError("cannot run '" + program + "': " + errno_text(error), error);
    }
    track_group(pid);
    ChildProcess child(pid, now_s());
    child.pipes_[0] = out_pipe.take_read();
    child.pipes_[1] = err_pipe.take_read();
    child.watch_exit(request.use_pidfd);  // on failure child's destructor kills the program
    return child;
}

void ChildProcess::watch_exit(bool use_pidfd) {
    if (use_pidfd) pidfd_ = open_pidfd(pid_);
    if (pidfd_ >= 0) return;
    exit_flag_ = std::make_shared<ExitFlag>();
    waiter_ = std::thread([flag = exit_flag_, pid = pid_] {
        siginfo_t info{};
        while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
        std::lock_guard<std::mutex> lock(flag->mutex);
        flag->exited = true;
        flag->changed.notify_all();
    });
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      exit_flag_(std::move(other.exit_flag_)),
      waiter_(std::move(other.waiter_)),
      started_(other.started_) {
    for (int i = 0; i < 2; ++i) pipes_[i] = std::exchange(other.pipes_[i], -1);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        release();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::exchange(other.pidfd_, -1);
        exit_flag_ = std::move(other.exit_flag_);
        waiter_ = std::move(other.waiter_);
        started_ = other.started_;
        for (int i = 0; i < 2; ++i) pipes_[i] = std::exchange(other.pipes_[i], -1);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    release();
}

void ChildProcess::release() noexcept {
    if (pid_ > 0) {
        ::kill(-pid_, SIGKILL);
        untrack_group(pid_);
        if (waiter_.joinable()) waiter_.join();  // returns once the killed program is a zombie
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
        guardian_forget(pid_);
        pid_ = -1;
    }
    if (waiter_.joinable()) waiter_.join();
    if (pidfd_ >= 0) {
        ::close(pidfd_);
        pidfd_ = -1;
    }
    close_pipes();
}

void ChildProcess::close_pipes() noexcept {
    for (int& fd : pipes_) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
}

void ChildProcess::read_pipes(const WaitOptions& options, int max_reads) {
    char buffer[65536];
    for (int i = 0; i < 2; ++i) {
        for (int reads = 0; pipes_[i] >= 0 && reads < max_reads;) {
            const ssize_t n = ::read(pipes_[i], buffer, sizeof buffer);
            if (n > 0) {
                if (options.on_output) options.on_output(i + 1, buffer, static_cast<std::size_t>(n));
                ++reads;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            ::close(pipes_[i]);  // the end (or an error no retry mends)
            pipes_[i] = -1;
        }
    }
}

bool ChildProcess::exited_flag() {
    std::lock_guard<std::mutex> lock(exit_flag_->mutex);
    return exit_flag_->exited;
}

bool ChildProcess::wait_exit_for(double seconds, const WaitOptions& options) {
    seconds = std::max(seconds, 0.0);
    const bool piping = pipes_[0] >= 0 || pipes_[1] >= 0;
    if (pidfd_ < 0 && !piping) {
        std::unique_lock<std::mutex> lock(exit_flag_->mutex);
        return exit_flag_->changed.wait_for(lock, std::chrono::duration<double>(seconds),
                                            [this] { return exit_flag_->exited; });
    }
    // Without a pidfd the waiter thread cannot wake a poll: look at its flag every 10 ms.
    if (pidfd_ < 0) seconds = std::min(seconds, 0.01);
    pollfd fds[3];
    nfds_t n = 0;
    if (pidfd_ >= 0) fds[n++] = {pidfd_, POLLIN, 0};
    for (int fd : pipes_)
        if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(seconds);
    ts.tv_nsec = static_cast<long>((seconds - static_cast<double>(ts.tv_sec)) * 1e9);
    const int ready = ::ppoll(fds, n, &ts, nullptr);
    if (piping && ready > 0) read_pipes(options, kReadsPerWake);
    if (pidfd_ >= 0) return ready > 0 && (fds[0].revents & POLLIN) != 0;
    return exited_flag();
}

int ChildProcess::reap() {
    ::kill(-pid_, SIGKILL);  // whatever the program left behind in its group
    untrack_group(pid_);
    if (waiter_.joinable()) waiter_.join();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) {
            status = 0;
            break;
        }
    }
    guardian_forget(pid_);
    pid_ = -1;
    if (pidfd_ >= 0) {
        ::close(pidfd_);
        pidfd_ = -1;
    }
    return exit_code_of(status);
}

WaitResult ChildProcess::wait(const WaitOptions& options) {
    if (!running()) throw std::logic_error("ChildProcess::wait: no running process");
    constexpr double never = std::numeric_limits<double>::infinity();
    WaitResult result;
    const double deadline = options.timeout_s > 0 ? started_ + options.timeout_s : never;
    double kill_at = never;
    bool stopping = false;
    while (true) {
        const double now = now_s();
        if (!stopping) {
            if (options.cancel_check && options.cancel_check()) {
                result.cancelled = true;
            } else if (now >= deadline) {
                result.timed_out = true;
            }
            if (result.cancelled || result.timed_out) {
                ::kill(-pid_, SIGTERM);
                stopping = true;
                kill_at = now + std::max(options.kill_grace_s, 0.0);
            }
        }
        if (now >= kill_at) {
            ::kill(-pid_, SIGKILL);
            kill_at = never;
        }
        // Once stopping, the deadline is spent; only the SIGKILL time matters.
        const double slice = std::min({kCheckInterval, stopping ? never : deadline - now, kill_at - now});
        if (wait_exit_for(slice, options)) break;
    }
    result.exit_code = reap();
    // What the program and its group wrote before they ended (at most what a pipe holds,
    // 64 KiB, unless a process that left the group keeps writing: it is not waited for).
    read_pipes(options, kReadsAfterExit);
    close_pipes();
    result.wall_s = now_s() - started_;
    return result;
}

void stop_children_on_termination_signals() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int sig : kTerminationSignals) {
            struct sigaction current {};
            if (::sigaction(sig, nullptr, &current) != 0 || current.sa_handler == SIG_IGN) continue;
            previous_actions[sig] = current;
            struct sigaction action {};
            action.sa_sigaction = stop_children_then_terminate;
            action.sa_flags = SA_SIGINFO | SA_RESTART;
            sigemptyset(&action.sa_mask);
            ::sigaction(sig, &action, nullptr);
        }
    });
}

std::string find_executable(const std::string& program) {
    if (program.empty()) return "";
    if (program.find('/') != std::string::npos) return is_executable_file(program) ? program : "";
    const char* path_env = std::getenv("PATH");
    // posix_spawnp's default search path when PATH is unset.
    const std::string path = path_env ? path_env : "/bin:/usr/bin";
    std::size_t begin = 0;
    while (true) {
        const std::size_t end = path.find(':', begin);
        std::string dir = path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
        if (is_executable_file(candidate)) return candidate;
        if (end == std::string::npos) return "";
        begin = end + 1;
    }
}

std::string describe_exit(int exit_code) {
    if (exit_code >= 0) return "exit code " + std::to_string(exit_code);
    const int sig = -exit_code;
    static const std::pair<int, const char*> names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}};
    for (const auto& [number, name] : names) {
        if (number == sig) return "signal " + std::to_string(sig) + " (" + name + ")";
    }
    return "signal " + std::to_string(sig);
}

}  // namespace mpisweep::detail
