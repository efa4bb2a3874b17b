#pragma once
// Signals that ask a sweep to stop early (SIGTERM, SIGINT, SIGUSR1, SIGHUP) while run() is
// running. The first one only sets a flag that the master and worker loops poll: the sweep
// then drains (no new tasks, running ones cancelled, results kept, file closed, exit 75). A
// second one stops every running command's process group at once and marks the stop
// urgent; a watchdog thread ends the process with exit code 75 if the main thread does not
// end it soon (it may be stuck in a task that never polls cancelled()).
namespace mpisweep::detail {

/// Exit code of a rank that the watchdog ends (kExitInterrupted).
constexpr int kWatchdogExitCode = 75;

/// Installs the handlers for its lifetime and restores the previous ones after; resets the
/// flags when it starts. One at a time per process.
class InterruptScope {
public:
    /// `patience_s`: how long the watchdog waits after a second signal for the main thread
    /// to end the process by itself, before it calls _exit(75).
    explicit InterruptScope(double patience_s);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;
};

/// The first signal received (0: none). Cheap: one atomic load.
int interrupt_signal() noexcept;
/// A second signal arrived: stop at once.
bool interrupt_urgent() noexcept;
/// The main thread is saving the results after an urgent stop: the watchdog waits longer.
void interrupt_closing() noexcept;
/// "SIGTERM" for SIGTERM; "signal N" for others.
const char* signal_name(int sig) noexcept;

}  // namespace mpisweep::detail
