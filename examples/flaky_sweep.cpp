// A sweep whose task fails at random (30 % of attempts throw, a few tasks always fail), to
// show retries: /tasks/attempts counts them, failures for good keep their message in
// /tasks/error, and the exit code is 1 when any task failed for good.
//
//   mpirun -n 4 ./flaky_sweep --output flaky.h5
//   mpirun -n 4 ./flaky_sweep --output flaky.h5 --resume --retry-failed
#include <random>
#include <stdexcept>

#include "example_args.hpp"
#include "mpisweep/mpisweep.hpp"

int main(int argc, char** argv) {
    mpisweep::Options options;
    options.output = "flaky_sweep.h5";
    options.scheduler.max_attempts = 3;
    options.scheduler.max_worker_errors = 10;  // this demo is about retries, not retirement
    if (!examples::parse_args(argc, argv, options)) return mpisweep::kExitUsage;

    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::range("x", 0, 40));
    return mpisweep::run(
        grid,
        [](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
            const auto x = ctx.params.get<std::int64_t>("x");
            if (x % 13 == 12) throw std::runtime_error("x=" + std::to_string(x) + " is cursed");
            std::mt19937_64 rng(ctx.task_id.value() * 1000003u + static_cast<unsigned>(ctx.attempt) +
                                static_cast<std::uint64_t>(std::random_device{}()));
            if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.3) {
                throw std::runtime_error("transient failure on attempt " + std::to_string(ctx.attempt));
            }
            return {{"square", static_cast<double>(x * x)}};
        },
        options);
}
