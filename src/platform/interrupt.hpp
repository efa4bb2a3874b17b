#pragma once
// Signals that ask a sweep to stop early (SIGTERM, SIGINT, SIGUSR1, SIGHUP) while run() is
// running. The first one only sets a flag that the master and worker loops poll: the sweep
// then drains (no new tasks, running ones cancelled, results kept, file closed, exit 75). A
// second one stops every running command's process group at once and marks the stop
// urgent; a watchdog thread ends the process with exit code 75 if the main thread does not
// end it soon (it may be stuck in a task that never polls cancelled()).
//
// Any number of these signals, at any moment, never end the process by the signal itself:
// once one has arrived, the handlers stay installed after the scope ends (the process is on
// its way out with 75), and the CLI holds a scope from before MPI_Init to its exit.
namespace mpisweep::detail {

/// Exit code of a rank that the watchdog ends (kExitInterrupted).
constexpr int kWatchdogExitCode = 75;

/// Installs the handlers for its lifetime. The outermost scope of a process installs them and
/// resets the flags; a scope inside it (run() inside the CLI's) only sets the patience, so a
/// signal that arrived before (during MPI_Init) still counts. When the outermost scope ends,
/// the previous handlers come back, unless a signal arrived meanwhile: then ours stay, so
/// that the rest of a burst of signals cannot kill a process that is ending with 75.
class InterruptScope {
public:
    /// `patience_s`: how long the watchdog waits after a second signal for the main thread
    /// to end the process by itself, before it calls _exit(75).
    explicit InterruptScope(double patience_s);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

private:
    bool outermost_ = false;
    double previous_patience_s_ = 0;
};

/// The first signal received (0: none). Cheap: one atomic load.
int interrupt_signal() noexcept;
/// A second signal arrived: stop at once.
bool interrupt_urgent() noexcept;
/// How long after the first stop signal a rank stays up at least (hold_after_signal()).
constexpr double kSignalHoldSeconds = 2.0;
/// Returns once kSignalHoldSeconds have passed since the first stop signal (at once when
/// none came). mpirun passes SIGUSR1 on only while its job runs: once every rank has
/// exited, the default action of the signal ends mpirun itself. A rank that holds this long
/// keeps the job up for the rest of a burst of signals (someone pressing Ctrl-C a few
/// times, a script passing several on).
void hold_after_signal() noexcept;
/// The main thread is saving the results after an urgent stop: the watchdog waits longer.
void interrupt_closing() noexcept;
/// "SIGTERM" for SIGTERM; "signal N" for others.
const char* signal_name(int sig) noexcept;

}  // namespace mpisweep::detail
