// A sweep of a CUDA kernel: each worker is bound to a GPU of its node (from its node-local
// rank) before its first task, and runs the kernel there; a worker without a GPU runs the
// same computation on the CPU. /tasks/device records which.
//
//   srun --gpus-per-node=4 --ntasks-per-node=5 ./cuda_sweep --output heat.h5
#include "cuda_kernel.hpp"
#include "example_args.hpp"
#include "mpisweep/mpisweep.hpp"

int main(int argc, char** argv) {
    mpisweep::Options options;
    options.output = "cuda_sweep.h5";
    options.devices.slots_per_gpu = 2;
    if (!examples::parse_args(argc, argv, options)) return mpisweep::kExitUsage;

    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::list("cells", {1024, 4096, 16384}))
        .add(mpisweep::Axis::linspace("alpha", 0.1, 0.5, 5))
        .add(mpisweep::Axis::list("steps", {100, 1000}));
    return mpisweep::run(
        grid,
        [](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
            const double peak = examples::heat_peak(
                static_cast<int>(ctx.params.get<std::int64_t>("cells")), ctx.params.get<double>("alpha"),
                static_cast<int>(ctx.params.get<std::int64_t>("steps")), ctx.worker.device >= 0);
            return {{"peak", peak}, {"device", static_cast<std::int64_t>(ctx.worker.device)}};
        },
        options);
}
