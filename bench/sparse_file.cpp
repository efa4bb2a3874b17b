// Writes a results file the way the master does (ResultStore: journal, staging, batched
// HDF5 writes) for a grid of N points of which the first M settle (1 in 100 failed, the rest
// done with three results), so that bench/run.py can measure the file's size and what the
// post-hoc commands take on it. Prints "seconds=... bytes=..." (the writing time, the size).
//   sparse_file N M OUT
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

#include "store/result_store.hpp"

using namespace mpisweep;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: sparse_file N M OUT (a grid of N points, the first M settled)\n");
        return 2;
    }
    const auto n = std::strtoull(argv[1], nullptr, 10);
    const auto m = std::strtoull(argv[2], nullptr, 10);
    // Three axes: 1000 x 1000 x N/10^6 (N a multiple of 10^6), or one axis for smaller grids.
    Grid grid;
    if (n >= 1'000'000 && n % 1'000'000 == 0) {
        grid.add(Axis::range("a", 0, static_cast<std::int64_t>(n / 1'000'000)))
            .add(Axis::range("b", 0, 1000))
            .add(Axis::linspace("c", 0.0, 1.0, 1000));
    } else {
        grid.add(Axis::range("a", 0, static_cast<std::int64_t>(n)));
    }
    StoreOptions options;
    options.path = argv[3];
    options.overwrite = true;
    options.mpi_size = 5;
    const auto begin = std::chrono::steady_clock::now();
    {
        ResultStore store = ResultStore::create(grid, options);
        TaskRecord record;
        record.attempts = 1;
        record.node = "node-1";
        for (std::uint64_t id = 0; id < m; ++id) {
            record.id = TaskId(id);
            record.worker = static_cast<int>(1 + id % 4);
            record.start = 1.7e9 + 1e-3 * static_cast<double>(id);
            record.wall_s = 0.5 + 1e-6 * static_cast<double>(id % 1000);
            if (id % 100 == 99) {
                record.status = TaskStatus::Failed;
                record.exit_code = 3;
                record.error = "exit code 3; task " + std::to_string(id) + " refused";
                record.results.clear();
            } else {
                record.status = TaskStatus::Done;
                record.exit_code = 0;
                record.error.clear();
                record.results = {{"loss", 1.0 / (1.0 + std::sqrt(static_cast<double>(id)))},
                                  {"steps", static_cast<std::int64_t>(id % 977)},
                                  {"converged", id % 3 == 0}};
            }
            store.record(record);
        }
        store.close();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    struct stat info {};
    ::stat(argv[3], &info);
    std::printf("seconds=%.3f bytes=%lld\n", seconds, static_cast<long long>(info.st_size));
    return 0;
}
