// The limit for external commands: LOOPS threads, each running posix_spawn + waitpid of
// PROGRAM (default /bin/true) in a loop, N runs in all. Nothing else: no MPI, no logs.
// usage: raw_spawn N LOOPS [PROGRAM]   prints "tasks=N seconds=S rate=R".
#include <spawn.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <thread>
#include <vector>

extern char** environ;

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 1000;
    const int loops = argc > 2 ? std::atoi(argv[2]) : 1;
    const char* program = argc > 3 ? argv[3] : "/bin/true";
    std::atomic<long> next{0};
    std::atomic<int> failures{0};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int l = 0; l < loops; ++l) {
        threads.emplace_back([&] {
            while (next.fetch_add(1) < n) {
                pid_t pid = 0;
                char* args[] = {const_cast<char*>(program), nullptr};
                int status = 0;
                if (posix_spawn(&pid, program, nullptr, nullptr, args, environ) != 0 ||
                    waitpid(pid, &status, 0) != pid || status != 0) {
                    ++failures;
                }
            }
        });
    }
    for (std::thread& t : threads) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tasks=%ld seconds=%.6f rate=%.1f failures=%d\n", n, s, static_cast<double>(n) / s,
                failures.load());
    return failures.load() == 0 ? 0 : 1;
}
