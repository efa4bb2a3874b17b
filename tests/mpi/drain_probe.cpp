// An in-process sweep for the drain tests: `x` in range(0, --tasks); each task appends
// "<id>" to <--log-dir>/start-<rank>.log, works --task-ms (polling ctx.cancelled() every
// 10 ms with --mode poll, ignoring it with --mode ignore), then appends "<id>" to
// finish-<rank>.log and returns x2 = 2x. A task that sees cancelled() throws TaskCancelled.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "mpisweep/mpisweep.hpp"

int main(int argc, char** argv) {
    mpisweep::Options options;
    long long tasks = 20, task_ms = 300;
    std::string log_dir = ".", mode = "poll";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { std::cerr << arg << ": expected a value\n"; std::exit(2); }
            return argv[++i];
        };
        if (arg == "--output") options.output = next();
        else if (arg == "--tasks") tasks = std::stoll(next());
        else if (arg == "--task-ms") task_ms = std::stoll(next());
        else if (arg == "--log-dir") log_dir = next();
        else if (arg == "--mode") mode = next();
        else if (arg == "--drain-grace") options.drain_grace = std::chrono::duration<double>(std::stod(next()));
        else if (arg == "--resume") options.resume = true;
        else { std::cerr << "drain_probe: unknown argument " << arg << "\n"; return 2; }
    }
    if (mode != "poll" && mode != "ignore") { std::cerr << "drain_probe: --mode poll|ignore\n"; return 2; }
    options.scheduler.speculate = false;  // every start is then one run of a task
    options.flush_interval = std::chrono::milliseconds(100);
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, tasks));
    const bool poll = mode == "poll";
    return mpisweep::run(grid, [&](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
        const std::string rank = std::to_string(ctx.worker.rank);
        std::ofstream(log_dir + "/start-" + rank + ".log", std::ios::app) << ctx.task_id.value() << std::endl;
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(task_ms);
        while (std::chrono::steady_clock::now() < end) {
            if (poll && ctx.cancelled()) throw mpisweep::TaskCancelled();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::ofstream(log_dir + "/finish-" + rank + ".log", std::ios::app) << ctx.task_id.value() << std::endl;
        return {{"x2", static_cast<double>(ctx.params.get<std::int64_t>("x") * 2)}};
    }, options);
}
