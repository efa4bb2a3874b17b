// Grid decoding: the cost of turning a task id into its point, on every task.
#include <benchmark/benchmark.h>

#include "mpisweep/grid.hpp"

using namespace mpisweep;

namespace {

Grid three_axes() {
    Grid grid;
    grid.add(Axis::logspace("lr", -5, -1, 100))
        .add(Axis::range("seed", 0, 1000))
        .add(Axis::list(
            "model", {Value(std::string("resnet")), Value(std::string("vit")), Value(std::string("mlp"))}));
    return grid;
}

void BM_GridDecodeInto(benchmark::State& state) {
    const Grid grid = three_axes();
    std::vector<Value> values;
    std::uint64_t id = 0;
    for (auto _ : state) {
        grid.decode(TaskId(id), values);
        benchmark::DoNotOptimize(values.data());
        id = (id + 7919) % grid.size();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GridDecodeInto);

void BM_GridAt(benchmark::State& state) {
    const Grid grid = three_axes();
    std::uint64_t id = 0;
    for (auto _ : state) {
        Point p = grid.at(TaskId(id));
        benchmark::DoNotOptimize(p.values().data());
        id = (id + 7919) % grid.size();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GridAt);

/// What a worker does: the points of consecutive ids refilled into one Point (strings of the
/// list axis copied only when its digit changes).
void BM_GridAtInPlaceInOrder(benchmark::State& state) {
    const Grid grid = three_axes();
    Point point(nullptr, {});
    std::uint64_t id = 0;
    for (auto _ : state) {
        grid.at(TaskId(id), point);
        benchmark::DoNotOptimize(point.values().data());
        if (++id == grid.size()) id = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GridAtInPlaceInOrder);

}  // namespace
