#include "platform/interrupt.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

#include "platform/child_process.hpp"

namespace mpisweep::detail {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};
// After an urgent stop, how long the main thread may take to save the results once it said
// it is doing so (flush and close of the HDF5 file).
constexpr double kClosingPatience = 30;

std::atomic<int> first_signal{0};
std::atomic<int> signal_count{0};
std::atomic<bool> closing{false};
std::atomic<int> wake_fd{-1};  // write end of the watchdog's pipe

extern "C" void on_interrupt(int sig) {
    const int saved_errno = errno;
    int expected = 0;
    first_signal.compare_exchange_strong(expected, sig);
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

// Waits for signals; after the second one, gives the main thread `patience_s` to end the
// process (more once it is closing the file), then ends it. A 0 byte ends the thread.
void watchdog(int read_fd, double patience_s) {
    for (;;) {
        char byte = 0;
        const ssize_t n = ::read(read_fd, &byte, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || byte == 0) return;
        if (signal_count.load() < 2) continue;
        const double start = now_s();
        while (true) {
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
    int pipe_fds[2] = {-1, -1};
    std::thread thread;
};
Installed* installed = nullptr;

}  // namespace

InterruptScope::InterruptScope(double patience_s) {
    if (installed != nullptr) return;
    first_signal = 0;
    signal_count = 0;
    closing = false;
    auto* state = new Installed;
    if (::pipe2(state->pipe_fds, O_CLOEXEC) == 0) {
        wake_fd = state->pipe_fds[1];
        state->thread = std::thread(watchdog, state->pipe_fds[0], patience_s);
    }
    for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
        struct sigaction current {};
        // A signal the caller ignores (nohup) stays ignored.
        if (::sigaction(kSignals[i], nullptr, &current) != 0 || current.sa_handler == SIG_IGN) continue;
        struct sigaction action {};
        action.sa_handler = on_interrupt;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (::sigaction(kSignals[i], &action, &state->previous[i]) == 0) state->replaced[i] = true;
    }
    installed = state;
}

InterruptScope::~InterruptScope() {
    Installed* state = installed;
    if (state == nullptr) return;
    for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
        if (state->replaced[i]) ::sigaction(kSignals[i], &state->previous[i], nullptr);
    }
    if (state->thread.joinable()) {
        wake_fd = -1;
        const char stop = 0;
        (void)!::write(state->pipe_fds[1], &stop, 1);
        state->thread.join();
    }
    for (int fd : state->pipe_fds) {
        if (fd >= 0) ::close(fd);
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
