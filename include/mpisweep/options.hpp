#pragma once
// What a sweep can be told: Options for run(), with the scheduling and device options it
// holds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mpisweep/observer.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep {

/// Every time span in Options: seconds as a double. Any std::chrono duration converts to it
/// (`options.batch_target = std::chrono::microseconds(500);`), and so does a plain number of
/// seconds written as Duration(2.5).
using Duration = std::chrono::duration<double>;

struct SchedulerOptions {
    int max_attempts = 3;          ///< failed attempts after which a task is failed for good
    int max_worker_errors = 5;     ///< consecutive failures after which a worker gets no more
                                   ///< tasks; 0: never retire a worker
    int prefetch = 1;              ///< tasks queued on a worker beyond the one it runs
    bool speculate = true;         ///< give idle workers copies of the slowest running tasks
    double speculate_after = 1.5;  ///< a task is slow once elapsed > this x median duration
    int max_copies = 1;            ///< extra copies of one task at once
    int max_speculative = 0;       ///< speculative copies running at once; 0: half the workers, >= 1
                                   ///< (a queued copy moved to an idle worker does not count)
    int min_samples = 3;           ///< finished tasks needed before the median is trusted
};

/// What a worker that gets no GPU does, in a sweep where some node has GPUs (DeviceOptions::no_gpu).
enum class NoGpuPolicy : std::uint8_t {
    Wait,   ///< it takes no task until a GPU has room for one (a worker of in-process tasks
            ///< without a GPU of its own: for the whole sweep)
    Cpu,    ///< it runs the task on CPU (CUDA_VISIBLE_DEVICES="", device -1)
    Error,  ///< the sweep does not start (exit 2) while a worker has no GPU
};

/// Which GPUs each copy of a task runs on. On a node with GPUs, the master places each copy:
/// on GPUs that run fewer copies than their cap and whose memory left (total, less other
/// users', less what the copies there declared) covers what the task declares; among those,
/// the one with the most memory left. A command task gets its GPUs per copy (its
/// CUDA_VISIBLE_DEVICES); a task function runs in its worker, whose GPUs are chosen once,
/// before setup. A sweep where no node has a GPU runs on CPU.
struct DeviceOptions {
    /// Devices to use, as CUDA ordinals; empty: every device of the node.
    std::vector<int> devices;
    /// Copies that may run at once on each GPU (task functions: workers bound to each GPU).
    /// 0: 1, or no count limit when memory is declared or learned (memory decides).
    int slots_per_gpu = 0;
    /// Caps of single GPUs by CUDA ordinal, overriding slots_per_gpu for them.
    std::map<int, int> gpu_slots;
    /// GPU memory each task needs on each of its GPUs, in bytes; 0: not declared.
    std::uint64_t memory = 0;
    /// The same per task, from its parameters; overrides `memory`. Called on rank 0.
    std::function<std::uint64_t(const Point&)> memory_of;
    /// Learn what a task needs from the peak per-process memory of the copies so far (NVML
    /// or fake GPUs) and place by the largest seen, plus learn_margin; before any copy was
    /// seen, a GPU runs one copy at a time. Ignored for tasks that declare memory.
    bool learn_memory = false;
    double learn_margin = 0.1;  ///< fraction added to the largest peak
    /// GPUs of one node each copy gets (CUDA_VISIBLE_DEVICES lists them all).
    int gpus_per_task = 1;
    NoGpuPolicy no_gpu = NoGpuPolicy::Wait;
    /// Each copy gets its GPUs when it starts, in CUDA_VISIBLE_DEVICES: tasks that run in a
    /// process of their own (`mpisweep run`'s commands set this). false: a worker's GPUs are
    /// chosen once, before setup, for task functions that keep state on them.
    bool place_each_copy = false;
    /// Task functions: cudaSetDevice on the worker's (first) GPU before setup. false: only
    /// WorkerInfo says which (for a front end that sets CUDA_VISIBLE_DEVICES itself).
    bool bind_cuda = true;
    /// Never touch CUDA, even when it is there.
    bool cpu_only = false;
    /// Between readings of GPU memory on a worker while a copy runs.
    Duration memory_poll{1.0};
};

struct Options {
    std::string output = "mpisweep.h5";  ///< the results file
    bool resume = false;                 ///< continue an existing file: run its pending tasks
    bool retry_failed = false;           ///< with resume: run its failed tasks again too
    bool overwrite = false;              ///< replace an existing file (never without this)
    /// One sweep at a time per file: a file that another sweep owns (its `<output>.owner`
    /// record, docs/cli.md) is refused, unless that sweep is gone (a dead pid on this host,
    /// or no heartbeat for a minute from another host). true: take it anyway (the owner is
    /// known to be dead, e.g. its node crashed less than a minute ago).
    bool break_lock = false;
    std::string command;  ///< recorded in the file's "command" attribute
    /// Names this run in the live view that `mpisweep status FILE --running` shows (the CLI
    /// gives the name of its output streams); may be empty.
    std::string run_name;

    SchedulerOptions scheduler;
    DeviceOptions devices;

    /// Automatic batching of short tasks: the master learns how long tasks take and queues
    /// on each worker about this much work, sent as few messages; workers report back
    /// about as often. Tasks longer than this still go one by one (plus prefetch). 0: one
    /// task per message and one report per task.
    Duration batch_target = std::chrono::milliseconds(2);

    std::size_t flush_rows = 65536;                     ///< results written in batches of rows
    Duration flush_interval = std::chrono::seconds(2);  ///< or at least this often
    /// Time between Observer::on_progress calls (progress lines of a StderrObserver); 0: none.
    Duration progress_interval{0};

    /// Receives messages, progress and task events on rank 0 (see observer.hpp). The default
    /// prints them on stderr as the mpisweep command does; nullptr: run() says nothing (its
    /// return value still tells how the sweep ended).
    std::shared_ptr<Observer> observer = std::make_shared<StderrObserver>();

    /// Stopping early. SIGTERM, SIGINT, SIGUSR1 or SIGHUP reaching any rank during run()
    /// make the whole sweep drain: no new tasks, running copies cancelled (commands get
    /// SIGTERM, in-process tasks see TaskContext::cancelled()), finished results kept, the
    /// file closed, run() returns kExitInterrupted on every rank. A second signal stops at
    /// once (command groups killed, the file flushed and closed, MPI_Abort with 75). false:
    /// run() leaves the signal handlers alone.
    bool handle_signals = true;
    /// After a drain began, how long the master waits for running copies to stop (a task
    /// that ignores cancelled() keeps its worker busy); then it closes the file and ends the
    /// job with MPI_Abort(75). Keep it above CommandSpec::kill_grace_s.
    Duration drain_grace{10.0};
    /// A worker rank silent this long is lost (a hung node, a SIGSTOPped rank): its tasks
    /// are pending again, it gets nothing more and nothing it sends later counts. Workers
    /// speak at least every heartbeat_timeout / 4, also while a task runs, but only when the
    /// task lets them: commands always do, an in-process task must call
    /// TaskContext::cancelled() that often. Once every task is settled, rank 0 closes the
    /// file and ends the job with MPI_Abort(exit code) instead of waiting for a lost rank.
    /// 0: off (the library's default, for in-process tasks that do not poll; the mpisweep
    /// command uses 120 s).
    Duration heartbeat_timeout{0.0};
    /// Walltime: no task is started that is not expected to finish by deadline -
    /// deadline_margin (expected: the longest task so far; before any finished, tasks start).
    /// At that time a drain begins; when nothing runs and nothing fits, run() returns
    /// kExitInterrupted with the rest pending. See deadline.hpp for the job's end time.
    std::optional<std::chrono::system_clock::time_point> deadline;
    Duration deadline_margin{60.0};

    WorkerHook setup;     ///< once per worker, before its first task
    WorkerHook teardown;  ///< once per worker, after its last task
};
}  // namespace mpisweep
