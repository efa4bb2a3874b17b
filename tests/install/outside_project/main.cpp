// A 6-task sweep (a in {1, 2, 3} x b in {10, 20}) built against the installed mpisweep:
// each task returns sum = a + b and the parameter b as an int result.
//   mpirun -n 2 ./outside_sweep out.h5
#include <cstdint>
#include <iostream>
#include <mpisweep/mpisweep.hpp>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: outside_sweep OUTPUT.h5\n";
        return mpisweep::kExitUsage;
    }
    mpisweep::Grid grid;
    grid.add(mpisweep::Axis::list("a", {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}}))
        .add(mpisweep::Axis::range("b", 10, 30, 10));
    mpisweep::Options options;
    options.output = argv[1];
    options.overwrite = true;
    options.command = "outside_sweep";
    return mpisweep::run(
        grid,
        [](const mpisweep::TaskContext& ctx) -> mpisweep::TaskResult {
            const auto a = ctx.params.get<std::int64_t>("a");
            const auto b = ctx.params.get<std::int64_t>("b");
            return {{"sum", static_cast<double>(a + b)}, {"b_seen", b}};
        },
        options);
}
