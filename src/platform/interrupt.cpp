#include "platform/interrupt.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>

#include "platform/child_process.hpp"

namespace mpisweep::detail {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};
// After an urgent stop, how long the main thread may take to save the results once it said
// it is doing so (flush and close of the HDF5 file).
constexpr double kClosingPatience = 30;

std::atomic<int> first_signal{0};
std::atomic<long long> first_signal_ns{0};  // CLOCK_MONOTONIC
std::atomic<int> signal_count{0};
std::atomic<bool> closing{false};
std::atomic<int> wake_fd{-1};  // write end of the watchdog's pipe
// The watchdog's patience after a second signal, in milliseconds (set by the innermost scope).
std::atomic<long> patience_ms{5000};

extern "C" void on_interrupt(int sig) {
    const int saved_errno = errno;
    int expected = 0;
    if (first_signal.compare_exchange_strong(expected, sig)) {
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
        first_signal_ns = static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
    }
    if (signal_count.fetch_add(1) + 1 >= 2) stop_running_children_now();
    const int fd = wake_fd.load();
    if (fd >= 0) {
        const char byte = 1;
        (void)!::write(fd, &byte, 1);
    }
    errno = saved_errno;
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Waits for signals; after the second one, gives the main thread the patience to end the
// process (more once it is closing the file), then ends it. A 0 byte ends the thread.
void watchdog(int read_fd) {
    for (;;) {
        char byte = 0;
        const ssize_t n = ::read(read_fd, &byte, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || byte == 0) return;
        if (signal_count.load() < 2) continue;
        const double start = now_s();
        while (true) {
            const double patience_s = static_cast<double>(patience_ms.load()) / 1000;
            const double limit = closing.load() ? patience_s + kClosingPatience : patience_s;
            const double left = start + limit - now_s();
            if (left <= 0) ::_exit(kWatchdogExitCode);
            pollfd p{read_fd, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
            if (ready > 0 && ::read(read_fd, &byte, 1) == 1 && byte == 0) return;
        }
    }
}

struct Installed {
    struct sigaction previous[sizeof kSignals / sizeof kSignals[0]];
    bool replaced[sizeof kSignals / sizeof kSignals[0]] = {};
    std::thread thread;
};
Installed* installed = nullptr;

// The watchdog's pipe, made once and never closed: a handler that read wake_fd just before
// a scope ended must not write into a descriptor number that something else reuses. The
// write end does not block (a burst of signals fills no more than the pipe).
int watchdog_pipe[2] = {-1, -1};

bool open_watchdog_pipe() {
    if (watchdog_pipe[0] >= 0) return true;
    if (::pipe2(watchdog_pipe, O_CLOEXEC) != 0) return false;
    (void)::fcntl(watchdog_pipe[1], F_SETFL, O_NONBLOCK);
    return true;
}

bool install_handler(int sig, struct sigaction* previous) {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    return ::sigaction(sig, &action, previous) == 0;
}

}  // namespace

InterruptScope::InterruptScope(double patience_s) {
    previous_patience_s_ = static_cast<double>(patience_ms.load()) / 1000;
    patience_ms = static_cast<long>(patience_s * 1000);
    if (installed != nullptr) {
        // Inside another scope: its handlers and flags stand; put ours back where a library
        // (MPI_Init) replaced them meanwhile.
        for (int sig : kSignals) {
            struct sigaction current {};
            if (::sigaction(sig, nullptr, &current) != 0 || current.sa_handler == SIG_IGN ||
                current.sa_handler == on_interrupt)
                continue;
            install_handler(sig, nullptr);
        }
        return;
    }
    outermost_ = true;
    first_signal = 0;
    signal_count = 0;
    closing = false;
    auto* state = new Installed;
    if (open_watchdog_pipe()) {
        wake_fd = watchdog_pipe[1];
        state->thread = std::thread(watchdog, watchdog_pipe[0]);
    }
    for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
        struct sigaction current {};
        // A signal the caller ignores (nohup) stays ignored.
        if (::sigaction(kSignals[i], nullptr, &current) != 0 || current.sa_handler == SIG_IGN) continue;
        if (install_handler(kSignals[i], &state->previous[i])) state->replaced[i] = true;
    }
    installed = state;
}

InterruptScope::~InterruptScope() {
    patience_ms = static_cast<long>(previous_patience_s_ * 1000);
    if (!outermost_) return;
    Installed* state = installed;
    if (state == nullptr) return;
    // After a stop signal the process is ending with 75: more signals of the same burst must
    // not end it by their default action (mpirun passes each one on to every rank).
    if (first_signal.load() == 0) {
        for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
            if (state->replaced[i]) ::sigaction(kSignals[i], &state->previous[i], nullptr);
        }
    }
    wake_fd = -1;
    if (state->thread.joinable()) {
        const char stop = 0;
        while (::write(watchdog_pipe[1], &stop, 1) < 0 && errno == EAGAIN) ::usleep(1000);
        state->thread.join();
    }
    installed = nullptr;
    delete state;
}

int interrupt_signal() noexcept {
    return first_signal.load(std::memory_order_relaxed);
}

bool interrupt_urgent() noexcept {
    return signal_count.load(std::memory_order_relaxed) >= 2;
}

void hold_after_signal() noexcept {
    if (first_signal.load() == 0) return;
    const long long until = first_signal_ns.load() + static_cast<long long>(kSignalHoldSeconds * 1e9);
    timespec deadline{static_cast<time_t>(until / 1'000'000'000), static_cast<long>(until % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {}
}

void interrupt_closing() noexcept {
    closing = true;
}

const char* signal_name(int sig) noexcept {
    switch (sig) {
        case SIGTERM:
            return "SIGTERM";
        case SIGINT:
            return "SIGINT";
        case SIGUSR1:
            return "SIGUSR1";
        case SIGHUP:
            return "SIGHUP";
        default:
            return "a signal";
    }
}

}  // namespace mpisweep::detail
