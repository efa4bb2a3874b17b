#pragma once
// What `mpisweep run` shows and publishes on rank 0: the lines of StderrObserver, with
// --log-tasks one line per task start and finish ("[k/N] task 7 done in 3.2 s on node3
// rank 5"), and the live view file that `mpisweep status FILE --running` reads (rewritten by a
// thread of its own every `live_interval` while something changed, removed at the end).
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/live_view.hpp"
#include "cli/running_copies.hpp"
#include "mpisweep/observer.hpp"

namespace mpisweep::cli {

struct CliObserverOptions {
    bool log_tasks = false;
    std::string results_path;  ///< for the live view; empty: none
    std::string run;           ///< the run's name, shown by status --running
    double live_interval = 2;  ///< seconds
};

class CliObserver : public StderrObserver {
public:
    explicit CliObserver(CliObserverOptions options);
    /// To `out` instead of std::cerr (tests).
    CliObserver(CliObserverOptions options, std::ostream& out, bool in_place);
    ~CliObserver() override;

    void on_start(const SweepCounts& counts) override;
    void on_progress(const SweepCounts& counts, double elapsed_s) override;
    void on_task_started(const TaskEvent& event) override;
    void on_task_finished(const TaskEvent& event, TaskOutcome outcome) override;
    void on_worker_retired(int rank, std::string_view host, std::string_view why) override;
    void on_worker_lost(int rank, std::string_view host, double silent_s) override;
    void on_end(const SweepCounts& counts, int exit_code) override;

    /// "[3/40] task 7 done in 3.2 s on node3 rank 5", "... started on node3 rank 5", ...
    static std::string start_line(const LiveCopy& copy, std::uint64_t settled, std::uint64_t total);
    static std::string finish_line(const TaskEvent& event, TaskOutcome outcome, std::uint64_t settled,
                                   std::uint64_t total);

private:
    void publish_loop();
    LiveSnapshot snapshot_locked() const;  // with mutex_ held

    CliObserverOptions options_;
    mutable std::mutex mutex_;  ///< guards what the publisher thread reads
    std::condition_variable wake_;
    RunningCopies copies_;
    std::vector<LiveWorker> stopped_;  ///< retired and lost
    SweepCounts counts_;
    bool dirty_ = false, stopping_ = false;
    std::unique_ptr<LiveFile> live_;
    std::thread publisher_;
};

}  // namespace mpisweep::cli
