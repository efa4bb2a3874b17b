// What the guardian (src/platform/guardian.*) costs per task: mpisweep's own spawner
// (spawn_in_own_group: own process group, registered with the guardian by the child before
// execve, unregistered once reaped) run N times on PROGRAM with the guardian and N times
// without it (no guardian table), in alternating blocks (each way first in every other pair) so that the machine's load hits both
// alike. Prints the rate of each, the guardian's own CPU per spawn (from
// /proc/<guardian>/schedstat, in ns) and this process's CPU per spawn with its children's
// (getrusage) for each way. One loop, no threads: the guardian's work is per spawn.
// usage: guardian_spawn N [PROGRAM]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <vector>

#include "platform/guardian.hpp"
#include "platform/spawn.hpp"

extern char** environ;

namespace {

using mpisweep::detail::guardian_forget;
using mpisweep::detail::guardian_pid;
using mpisweep::detail::guardian_table;

double cpu_seconds() {
    double s = 0;
    for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage u{};
        ::getrusage(who, &u);
        s += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
    }
    return s;
}

// The first field of schedstat: the time the process ran, in ns (finer than stat's ticks).
double guardian_cpu_seconds() {
    std::ifstream in("/proc/" + std::to_string(guardian_pid()) + "/schedstat");
    double ns = 0;
    in >> ns;
    return ns * 1e-9;
}

struct Totals {
    double wall = 0, cpu = 0;
    long spawns = 0, failures = 0;
};

void spawn_block(mpisweep::detail::SpawnPlan& plan, bool guarded, long n, Totals& totals) {
    plan.guardian_table = guarded ? guardian_table() : nullptr;
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
        int error = 0;
        const pid_t pid = mpisweep::detail::spawn_in_own_group(plan, error);
        int status = 0;
        if (pid < 0 || ::waitpid(pid, &status, 0) != pid || status != 0) ++totals.failures;
        if (guarded && pid > 0) guardian_forget(pid);
    }
    totals.wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    totals.cpu += cpu_seconds() - cpu0;
    totals.spawns += n;
}

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 2000;
    const std::string program = argc > 2 ? argv[2] : "/bin/true";
    mpisweep::detail::SpawnPlan plan;
    plan.candidates = {program};
    plan.argv = {program};
    for (char** e = environ; *e != nullptr; ++e) plan.env.emplace_back(*e);
    plan.stdin_fd = plan.stdout_fd = plan.stderr_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (guardian_table() == nullptr) {
        std::fprintf(stderr, "guardian_spawn: the guardian could not be started\n");
        return 1;
    }
    const long block = 100;
    Totals with, without;
    const double guardian0 = guardian_cpu_seconds();
    double guardian_cpu = 0;
    for (long done = 0; done < n; done += block) {
        const long k = std::min(block, n - done);
        // Which way goes first alternates too: the first block after a switch may pay for it.
        const bool guarded_first = (done / block) % 2 == 1;
        for (const bool guarded : {guarded_first, !guarded_first}) {
            const double g0 = guardian_cpu_seconds();
            spawn_block(plan, guarded, k, guarded ? with : without);
            if (guarded) guardian_cpu += guardian_cpu_seconds() - g0;
        }
    }
    const double guardian_idle = guardian_cpu_seconds() - guardian0 - guardian_cpu;
    std::printf(
        "spawns=%ld rate_without=%.1f rate_with=%.1f ratio=%.3f guardian_cpu_us=%.2f "
        "guardian_cpu_us_unguarded_blocks=%.2f cpu_us_without=%.1f cpu_us_with=%.1f failures=%ld\n",
        n, static_cast<double>(without.spawns) / without.wall, static_cast<double>(with.spawns) / with.wall,
        without.wall / with.wall, guardian_cpu / static_cast<double>(with.spawns) * 1e6,
        guardian_idle / static_cast<double>(without.spawns) * 1e6,
        without.cpu / static_cast<double>(without.spawns) * 1e6,
        with.cpu / static_cast<double>(with.spawns) * 1e6, without.failures + with.failures);
    return without.failures + with.failures == 0 ? 0 : 1;
}
