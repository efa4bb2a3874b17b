// A sweep program for the scripted tests: `x` in range(0, --tasks), each task sleeps
// --sleep-ms and appends its id to <--log-dir>/rank-<r>.log (one line per finished call),
// so a test can count how often each task ran across a kill and a resume.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "mpisweep/mpisweep.hpp"
#include "probe_args.hpp"

int main(int argc, char** argv) {
    probe::CommonArgs args{{}, 100};
    args.options.flush_interval = std::chrono::milliseconds(100);
    long long sleep_ms = 10;
    probe::ArgReader reader("sweep_probe", argc, argv);
    while (reader.next()) {
        if (reader.common(args)) continue;
        if (reader.is("--sleep-ms"))
            sleep_ms = reader.integer();
        else
            reader.unknown();
    }
    mpisweep::Options& options = args.options;
    const long long tasks = args.tasks;
    const std::string& log_dir = args.log_dir;
    options.scheduler.speculate = false;  // every call is then one run of a task
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, tasks));
    return mpisweep::run(
        grid,
        [&](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
            std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
            std::ofstream(log_dir + "/rank-" + std::to_string(ctx.worker.rank) + ".log", std::ios::app)
                << ctx.task_id.value() << '\n';
            return {{"x2", static_cast<double>(ctx.params.get<std::int64_t>("x") * 2)}};
        },
        options);
}
