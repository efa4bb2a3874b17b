// A basic sweep: gradient descent with momentum on the Rosenbrock function, over a grid of
// learning rates, momenta and seeds. Each task returns a number, an integer, a string and an
// array, which become /results/loss, /results/steps, /results/outcome and /results/xy.
//
//   mpirun -n 4 ./basic_sweep --output sweep.h5
#include <cmath>
#include <random>

#include "example_args.hpp"
#include "mpisweep/mpisweep.hpp"

namespace {

mpisweep::TaskResult descend(const mpisweep::TaskContext& ctx) {
    const double lr = ctx.params.get<double>("lr");
    const double momentum = ctx.params.get<double>("momentum");
    std::mt19937_64 rng(static_cast<std::uint64_t>(ctx.params.get<std::int64_t>("seed")));
    std::uniform_real_distribution<double> start(-2.0, 2.0);
    double x = start(rng), y = start(rng), vx = 0, vy = 0;
    std::int64_t step = 0;
    double loss = 0;
    for (; step < 20000; ++step) {
        loss = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
        if (loss < 1e-10 || !std::isfinite(loss)) break;
        const double gx = -2 * (1 - x) - 400 * x * (y - x * x);
        const double gy = 200 * (y - x * x);
        vx = momentum * vx - lr * gx;
        vy = momentum * vy - lr * gy;
        x += vx;
        y += vy;
    }
    const char* outcome = !std::isfinite(loss) ? "diverged" : loss < 1e-10 ? "converged" : "stalled";
    return {{"loss", loss},
            {"steps", step},
            {"outcome", std::string(outcome)},
            {"xy", std::vector<double>{x, y}}};
}

}  // namespace

int main(int argc, char** argv) {
    mpisweep::Options options;
    options.output = "basic_sweep.h5";
    options.progress_interval = std::chrono::seconds(1);
    if (!examples::parse_args(argc, argv, options)) return mpisweep::kExitUsage;

    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::logspace("lr", -5, -3, 5))
        .add(mpisweep::Axis::list("momentum", {0.0, 0.5, 0.9}))
        .add(mpisweep::Axis::range("seed", 0, 4));
    return mpisweep::run(grid, descend, options);
}
