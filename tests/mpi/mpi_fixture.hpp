#pragma once
// Helpers for tests that run a sweep on every rank: the rank and size, a results path unique
// to the test and the rank count, and sums over ranks.
#include <mpi.h>

#include <filesystem>
#include <gtest/gtest.h>
#include <string>

namespace test_support {

inline int world_rank() {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}
inline int world_size() {
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}
inline int workers() {
    return world_size() == 1 ? 1 : world_size() - 1;
}

inline long long sum_over_ranks(long long mine) {
    long long total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return total;
}

/// "<suite>.<test>.<n>ranks.h5" in the working directory, removed first (on rank 0).
inline std::string fresh_results_path(const std::string& tag = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string path = std::string(info->test_suite_name()) + "." + info->name() + tag + "." +
                             std::to_string(world_size()) + "ranks.h5";
    if (world_rank() == 0) std::filesystem::remove(path);
    MPI_Barrier(MPI_COMM_WORLD);
    return path;
}

}  // namespace test_support
