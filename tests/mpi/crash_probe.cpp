// A sweep program for the kill-point test (crash_consistency.py): `x` in range(0, --tasks);
// each task sleeps --sleep-us, appends its id to <--log-dir>/rank-<r>.log (one line per
// finished call), and returns results of every kind: a float, an int, a string, an array,
// and a column that first appears half-way, or from task --late-from on (so columns are
// created while the file is written).
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "mpisweep/mpisweep.hpp"

int main(int argc, char** argv) {
    mpisweep::Options options;
    long long tasks = 100, sleep_us = 1000, late_from = -1;
    std::string log_dir = ".";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { std::cerr << arg << ": expected a value\n"; std::exit(2); }
            return argv[++i];
        };
        if (arg == "--output") options.output = next();
        else if (arg == "--tasks") tasks = std::stoll(next());
        else if (arg == "--sleep-us") sleep_us = std::stoll(next());
        else if (arg == "--log-dir") log_dir = next();
        else if (arg == "--late-from") late_from = std::stoll(next());
        else if (arg == "--resume") options.resume = true;
        else if (arg == "--force") options.overwrite = true;
        else if (arg == "--flush-rows") options.flush_rows = std::stoul(next());
        else if (arg == "--flush-ms") options.flush_interval = std::chrono::milliseconds(std::stoll(next()));
        else { std::cerr << "crash_probe: unknown argument " << arg << "\n"; return 2; }
    }
    if (late_from < 0) late_from = tasks / 2;
    options.scheduler.speculate = false;  // every call is then one run of a task
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, tasks));
    return mpisweep::run(grid, [&](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
        std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
        const std::int64_t x = ctx.params.get<std::int64_t>("x");
        std::ofstream(log_dir + "/rank-" + std::to_string(ctx.worker.rank) + ".log", std::ios::app)
            << x << '\n';
        mpisweep::TaskResult result = {{"x2", 2.0 * static_cast<double>(x)},
                                       {"x3", std::int64_t{3} * x},
                                       {"s", "v" + std::to_string(x)},
                                       {"arr", std::vector<double>{static_cast<double>(x), static_cast<double>(x) + 0.5}}};
        if (x >= late_from) result.emplace("late", static_cast<double>(x + 1));
        return result;
    }, options);
}
