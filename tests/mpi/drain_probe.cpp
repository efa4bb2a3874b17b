// An in-process sweep for the drain tests: `x` in range(0, --tasks); each task appends
// "<id>" to <--log-dir>/start-<rank>.log, works --task-ms (polling ctx.cancelled() every
// 10 ms with --mode poll, ignoring it with --mode ignore), then appends "<id>" to
// finish-<rank>.log and returns x2 = 2x. A task that sees cancelled() throws TaskCancelled.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "mpisweep/mpisweep.hpp"
#include "probe_args.hpp"

int main(int argc, char** argv) {
    probe::CommonArgs args{{}, 20};
    args.options.flush_interval = std::chrono::milliseconds(100);
    long long task_ms = 300;
    std::string mode = "poll";
    probe::ArgReader reader("drain_probe", argc, argv);
    while (reader.next()) {
        if (reader.common(args)) continue;
        if (reader.is("--task-ms"))
            task_ms = reader.integer();
        else if (reader.is("--mode"))
            mode = reader.value();
        else if (reader.is("--drain-grace"))
            args.options.drain_grace = mpisweep::Duration(std::stod(reader.value()));
        else
            reader.unknown();
    }
    if (mode != "poll" && mode != "ignore") reader.fail("--mode poll|ignore");
    mpisweep::Options& options = args.options;
    const long long tasks = args.tasks;
    const std::string& log_dir = args.log_dir;
    options.scheduler.speculate = false;  // every start is then one run of a task
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, tasks));
    const bool poll = mode == "poll";
    return mpisweep::run(
        grid,
        [&](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
            const std::string rank = std::to_string(ctx.worker.rank);
            std::ofstream(log_dir + "/start-" + rank + ".log", std::ios::app)
                << ctx.task_id.value() << std::endl;
            const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(task_ms);
            while (std::chrono::steady_clock::now() < end) {
                if (poll && ctx.cancelled()) throw mpisweep::TaskCancelled();
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            std::ofstream(log_dir + "/finish-" + rank + ".log", std::ios::app)
                << ctx.task_id.value() << std::endl;
            return {{"x2", static_cast<double>(ctx.params.get<std::int64_t>("x") * 2)}};
        },
        options);
}
