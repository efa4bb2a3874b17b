#pragma once
// What a sweep tells the program that runs it: messages, progress, each copy of a task
// started and answered, each result accepted. run() never prints; it calls the Observer in
// Options::observer (by default a StderrObserver, below).
//
// Rules for an observer (as Taskflow's ObserverInterface): every method has a no-op default;
// each is called on rank 0, from the thread that called run(), unless its comment says
// otherwise; none may throw (run() catches and ignores what one throws); each must return
// quickly: the master handles every worker's messages on that same thread.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "mpisweep/grid.hpp"
#include "mpisweep/ids.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep {

enum class MessageLevel : std::uint8_t {
    Notice,   ///< worth knowing, nothing is wrong: a worker runs on CPU beside idle GPUs
    Warning,  ///< something went wrong and the sweep goes on: a worker retired, a journal ignored
    Error,    ///< the sweep stops or did not start: a usage error, the reason it stopped early
};

/// Where the sweep stands. total = done + failed + pending.
struct SweepCounts {
    std::uint64_t total = 0;       ///< tasks in the grid
    std::uint64_t done = 0;        ///< tasks with a result (found in the file on resume included)
    std::uint64_t failed = 0;      ///< tasks failed for good
    std::uint64_t pending = 0;     ///< tasks not settled (running ones included)
    std::uint64_t running = 0;     ///< tasks with a copy held and not being cancelled
    std::uint64_t duplicates = 0;  ///< results dropped because another copy won
    std::uint64_t speculative_started = 0, speculative_won = 0;
    int workers = 0;              ///< worker ranks (rank 0 alone when it is the only rank)
    int retired = 0;              ///< workers that get no more tasks
    std::uint64_t in_flight = 0;  ///< copies sent and not answered yet, cancelled ones included
};

/// How an answered copy of a task ended (on_task_finished).
enum class TaskOutcome : std::uint8_t {
    Done,        ///< its result was accepted: the task is done
    Retrying,    ///< it failed; the task runs again (or another copy of it still runs)
    Failed,      ///< it failed and the task failed for good (max_attempts reached)
    Cancelled,   ///< it was stopped or dropped on request: a drain, a race lost, a move
    Superseded,  ///< it answered after another copy had settled the task; ignored
};

/// One copy of a task, as on_task_started and on_task_finished see it. The string views are
/// valid during the call only.
struct TaskEvent {
    TaskId task;
    int attempt = 1;           ///< the copy's attempt number in this run (1-based)
    int worker = 0;            ///< rank that runs it
    std::string_view host;     ///< that rank's host name
    int device = -1;           ///< that rank's CUDA device, -1 for CPU
    bool speculative = false;  ///< a second copy of a running task (on_task_started only)
    double wall_s = 0;         ///< how long it ran (0 when it never started; started: 0)
    int exit_code = 0;         ///< commands: the exit status, -signal for a signal
    std::string_view error;    ///< why it failed; empty otherwise
};

class Observer {
public:
    virtual ~Observer() = default;

    /// A notice, warning or error, one line without the "mpisweep: " prefix. Usage errors of
    /// run() (rank 0), workers on CPU, retired workers, why the sweep stopped early and how to
    /// resume it, teardown failures of any rank (gathered on rank 0). An error that ends the
    /// job from a worker rank (MPI_Abort follows) is reported on that rank.
    virtual void on_message(MessageLevel level, std::string_view text) {
        (void)level;
        (void)text;
    }
    /// Once, before the first task is handed out, with what the file already held (resume).
    virtual void on_start(const SweepCounts& counts) { (void)counts; }
    /// Every Options::progress_interval and once at the end; never when it is 0. `elapsed_s`:
    /// seconds since on_start.
    virtual void on_progress(const SweepCounts& counts, double elapsed_s) {
        (void)counts;
        (void)elapsed_s;
    }
    /// true (the default): on_task_started and on_task_finished are called. Asked once when
    /// the sweep starts; when false the master builds no event per task for them.
    virtual bool wants_task_events() const { return true; }
    /// A copy of a task was handed to a worker (queued there, or run at once by rank 0 alone).
    virtual void on_task_started(const TaskEvent& event) { (void)event; }
    /// A worker answered a copy: done, failed (retry or for good), cancelled, or superseded.
    /// Called after the scheduler settled it (and the store took a result).
    virtual void on_task_finished(const TaskEvent& event, TaskOutcome outcome) {
        (void)event;
        (void)outcome;
    }
    /// A worker takes no more tasks: its setup failed (before the first task), or it failed
    /// too many tasks in a row. `why` says which (the same reason also comes as a message).
    virtual void on_worker_retired(int rank, std::string_view host, std::string_view why) {
        (void)rank;
        (void)host;
        (void)why;
    }
    /// A worker sent nothing (not even a heartbeat) for Options::heartbeat_timeout: it is
    /// declared lost (a hung node or rank) and gets nothing more; its copies run elsewhere.
    /// `silent_s`: seconds since it was last heard from.
    virtual void on_worker_lost(int rank, std::string_view host, double silent_s) {
        (void)rank;
        (void)host;
        (void)silent_s;
    }
    /// true: on_result is called. Asked once when the sweep starts; when false (the default)
    /// no parameters are decoded for it.
    virtual bool wants_results() const { return false; }
    /// Each accepted result, with the task's parameters, after the store took it.
    virtual void on_result(TaskId task, const Point& params, const TaskResult& result) {
        (void)task;
        (void)params;
        (void)result;
    }
    /// Once, after everything else (the last progress, the messages on how the sweep ended,
    /// teardown failures), with the exit code run() returns. Only after on_start; not when
    /// the job is aborted (a second signal, a rank's fatal error).
    virtual void on_end(const SweepCounts& counts, int exit_code) {
        (void)counts;
        (void)exit_code;
    }
};

/// Prints what the mpisweep command prints: each message as one line "mpisweep: <text>",
/// and progress as "[12/40] failed 1, running 4, 3.1 tasks/s, ETA 9s", rewritten in place on
/// a terminal or one line "mpisweep: ..." per call otherwise. The default Options::observer.
class StderrObserver : public Observer {
public:
    /// To std::cerr; progress in place when stderr is a terminal.
    StderrObserver();
    /// To `out` (which must outlive the observer); `in_place`: rewrite one progress line.
    StderrObserver(std::ostream& out, bool in_place);

    void on_message(MessageLevel level, std::string_view text) override;
    void on_start(const SweepCounts& counts) override;
    void on_progress(const SweepCounts& counts, double elapsed_s) override;
    void on_end(const SweepCounts& counts, int exit_code) override;
    /// It prints no line per task: false.
    bool wants_task_events() const override { return false; }

    /// "[12/40] failed 1, running 4, 3.1 tasks/s, ETA 9s": the rate and ETA from the tasks
    /// settled since the start (`settled_at_start` were already in the file); "ETA ?" before one.
    static std::string progress_line(const SweepCounts& counts, std::uint64_t settled_at_start,
                                     double elapsed_s);
    /// "45s", "3m07s", "2h05m"; "?" for a negative or infinite time.
    static std::string format_duration(double seconds);

private:
    std::ostream& out_;
    bool in_place_;
    std::uint64_t settled_at_start_ = 0;
    std::size_t last_width_ = 0;  ///< of the in-place line, padded over when shorter
    bool line_open_ = false;      ///< an in-place line without its newline yet
};

}  // namespace mpisweep
