// A sweep program for the kill-point test (crash_consistency.py): `x` in range(0, --tasks);
// each task sleeps --sleep-us, appends its id to <--log-dir>/rank-<r>.log (one line per
// finished call), and returns results of every kind: a float, an int, a string, an array,
// and a column that first appears half-way, or from task --late-from on (so columns are
// created while the file is written).
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "mpisweep/mpisweep.hpp"
#include "probe_args.hpp"

int main(int argc, char** argv) {
    probe::CommonArgs args{{}, 100};
    long long sleep_us = 1000, late_from = -1;
    probe::ArgReader reader("crash_probe", argc, argv);
    while (reader.next()) {
        if (reader.common(args)) continue;
        if (reader.is("--sleep-us"))
            sleep_us = reader.integer();
        else if (reader.is("--late-from"))
            late_from = reader.integer();
        else
            reader.unknown();
    }
    mpisweep::Options& options = args.options;
    const long long tasks = args.tasks;
    const std::string& log_dir = args.log_dir;
    if (late_from < 0) late_from = tasks / 2;
    options.scheduler.speculate = false;  // every call is then one run of a task
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, tasks));
    return mpisweep::run(
        grid,
        [&](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
            std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
            const std::int64_t x = ctx.params.get<std::int64_t>("x");
            std::ofstream(log_dir + "/rank-" + std::to_string(ctx.worker.rank) + ".log", std::ios::app)
                << x << '\n';
            mpisweep::TaskResult result = {
                {"x2", 2.0 * static_cast<double>(x)},
                {"x3", std::int64_t{3} * x},
                {"s", "v" + std::to_string(x)},
                {"arr", std::vector<double>{static_cast<double>(x), static_cast<double>(x) + 0.5}}};
            if (x >= late_from) result.emplace("late", static_cast<double>(x + 1));
            return result;
        },
        options);
}
