// A sweep program for the scripted tests: `x` in range(0, --tasks), each task sleeps
// --sleep-ms and appends its id to <--log-dir>/rank-<r>.log (one line per finished call),
// so a test can count how often each task ran across a kill and a resume.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "mpisweep/mpisweep.hpp"

int main(int argc, char** argv) {
    mpisweep::Options options;
    long long tasks = 100, sleep_ms = 10;
    std::string log_dir = ".";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { std::cerr << arg << ": expected a value\n"; std::exit(2); }
            return argv[++i];
        };
        if (arg == "--output") options.output = next();
        else if (arg == "--tasks") tasks = std::stoll(next());
        else if (arg == "--sleep-ms") sleep_ms = std::stoll(next());
        else if (arg == "--log-dir") log_dir = next();
        else if (arg == "--resume") options.resume = true;
        else if (arg == "--force") options.overwrite = true;
        else if (arg == "--flush-rows") options.flush_rows = std::stoul(next());
        else { std::cerr << "sweep_probe: unknown argument " << arg << "\n"; return 2; }
    }
    options.scheduler.speculate = false;  // every call is then one run of a task
    options.flush_interval = std::chrono::milliseconds(100);
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, tasks));
    return mpisweep::run(grid, [&](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        std::ofstream(log_dir + "/rank-" + std::to_string(ctx.worker.rank) + ".log", std::ios::app)
            << ctx.task_id.value() << '\n';
        return {{"x2", static_cast<double>(ctx.params.get<std::int64_t>("x") * 2)}};
    }, options);
}
