#pragma once
// One external program run in its own process group: spawned without a shell (spawn.hpp),
// stdout/stderr to files or to pipes read while it runs, stdin from /dev/null, waited for
// with a timeout and a cancel check.
// The object owns the process: destroying it while the program runs kills the whole group.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <utility>
#include <vector>

namespace mpisweep::detail {

/// The program could not be started (not found, not executable, log file not writable).
/// The message names the program or file and the system's reason (strerror and errno).
class SpawnError : public std::runtime_error {
public:
    /// `file`: the log file at fault, empty when the program itself could not be run.
    SpawnError(const std::string& message, int error_number, std::string file = {})
        : std::runtime_error(message), error_number_(error_number), file_(std::move(file)) {}
    int error_number() const { return error_number_; }
    const std::string& file() const { return file_; }

private:
    int error_number_;
    std::string file_;
};

struct SpawnRequest {
    /// argv[0] is the program: run as given when it contains '/', else searched in PATH.
    std::vector<std::string> argv;
    /// The file to run, when the caller already searched PATH for argv[0] (argv[0] stays as
    /// typed: programs may look at it); empty: argv[0] as above.
    std::string program_path;
    /// Variables set (or replaced) on top of the parent's environment.
    std::vector<std::pair<std::string, std::string>> env;
    /// Variables of the parent's environment left out when this returns true for the name.
    std::function<bool(std::string_view name)> drop_env;
    /// Files that receive stdout and stderr (created or truncated); empty: /dev/null.
    std::string stdout_path;
    std::string stderr_path;
    /// stdout and stderr to pipes instead, handed to WaitOptions::on_output as the program
    /// writes (the paths above are then unused). Read while waiting, so a program that
    /// writes a lot never blocks on a full pipe.
    bool pipe_output = false;
    /// Wait on a pidfd (Linux >= 5.3) when the kernel has them; false forces the fallback
    /// of older kernels, a thread blocked in waitid (for tests).
    bool use_pidfd = true;
};

struct WaitOptions {
    /// Seconds the program may run; <= 0 means no limit. Past it the group gets SIGTERM,
    /// then SIGKILL after kill_grace_s.
    double timeout_s = 0;
    double kill_grace_s = 5;
    /// Polled while waiting (at least every 50 ms); once it returns true the group is
    /// stopped like on a timeout.
    std::function<bool()> cancel_check;
    /// With SpawnRequest::pipe_output: each piece the program writes, in order per stream
    /// (1 stdout, 2 stderr), until both pipes close or the program and its group have ended
    /// (what is still buffered in the pipes then is passed too).
    std::function<void(int stream, const char* data, std::size_t size)> on_output;
};

struct WaitResult {
    int exit_code = 0;       ///< the exit status, or -signal when a signal ended the program
    bool timed_out = false;  ///< the timeout expired and the group was told to stop
    bool cancelled = false;  ///< the cancel check fired and the group was told to stop
    double wall_s = 0;       ///< from spawn to exit
};

class ChildProcess {
public:
    /// Starts the program. Throws SpawnError naming the program or the log file at fault.
    static ChildProcess spawn(const SpawnRequest& request);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// Kills the group with SIGKILL and reaps the program if it still runs. Never throws.
    ~ChildProcess();

    /// Waits until the program ends (see WaitOptions). Whatever the program left running in
    /// its process group is killed once it has ended, so a task leaves no stray processes.
    /// Callable once.
    WaitResult wait(const WaitOptions& options = {});

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }

private:
    // Without a pidfd a thread blocks in waitid (not reaping, so the zombie keeps the group
    // id pinned until the leftovers are killed) and wakes the waiting caller.
    struct ExitFlag {
        std::mutex mutex;
        std::condition_variable changed;
        bool exited = false;
    };

    ChildProcess(pid_t pid, double started) : pid_(pid), started_(started) {}
    void watch_exit(bool use_pidfd);  // opens the pidfd or starts the waiter thread
    // True once the program has exited (not yet reaped); passes what the pipes hold meanwhile.
    bool wait_exit_for(double seconds, const WaitOptions& options);
    bool exited_flag();
    // Reads what the pipes hold now, at most `max_reads` pieces per pipe (a program writing
    // without pause must not keep the waiter from its clock); closes a pipe at its end.
    void read_pipes(const WaitOptions& options, int max_reads);
    int reap();  // kills leftovers, reaps, returns exit_code form
    void close_pipes() noexcept;
    void release() noexcept;

    pid_t pid_ = -1;
    int pidfd_ = -1;
    int pipes_[2] = {-1, -1};  ///< read ends of stdout and stderr with pipe_output
    std::shared_ptr<ExitFlag> exit_flag_;
    std::thread waiter_;
    double started_ = 0;
};

/// Makes SIGTERM, SIGINT and SIGHUP stop the process group of every ChildProcess still
/// running before they act as they would have: the groups get SIGTERM, then SIGKILL 0.3 s
/// later; then the previous handler runs, or the default action ends the process. Without
/// this, a rank killed by its launcher (mpirun passes SIGTERM on) leaves its task running, as
/// the task is in a process group of its own. A signal that was ignored stays ignored. Safe
/// to call more than once.
void stop_children_on_termination_signals();

/// SIGTERM to the process group of every ChildProcess still running, then SIGKILL 0.3 s later
/// (at once when none runs). Async-signal-safe: for signal handlers.
void stop_running_children_now() noexcept;

/// The path posix_spawnp would run for `program` (searching PATH when it has no '/'), or
/// "" when there is no such executable file. For checking a command before any task runs.
std::string find_executable(const std::string& program);

/// "signal 11 (Segmentation fault)" for -11, "exit code 3" for 3.
std::string describe_exit(int exit_code);

}  // namespace mpisweep::detail
