// The HDF5 store on the master's hot path: record() per result, flushed in batches of
// flush_rows. One item = one result (a double column plus the /tasks columns).
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <string>

#include "store/result_store.hpp"

using namespace mpisweep;

namespace {

void BM_StoreRecordBatched(benchmark::State& state) {
    const auto n = static_cast<std::int64_t>(1) << 20;
    Grid grid;
    grid.add(Axis::range("x", 0, n));
    StoreOptions so;
    so.path = "/tmp/mpisweep-micro-store-" + std::to_string(getpid()) + ".h5";
    so.overwrite = true;
    so.flush_rows = static_cast<std::size_t>(state.range(0));
    so.flush_interval = std::chrono::hours(1);
    std::int64_t items = 0;
    for (auto _ : state) {
        state.PauseTiming();
        ResultStore store = ResultStore::create(grid, so);
        state.ResumeTiming();
        for (std::int64_t i = 0; i < n; ++i) {
            TaskRecord r;
            r.id = TaskId(static_cast<std::uint64_t>(i));
            r.attempts = 1;
            r.worker = 1;
            r.node = "localhost";
            r.start = 1.7e9;
            r.wall_s = 1e-6;
            r.results.emplace("loss", 0.5 * static_cast<double>(i));
            store.record(std::move(r));
        }
        store.close();
        items += n;
    }
    state.SetItemsProcessed(items);
    std::remove(so.path.c_str());
}
BENCHMARK(BM_StoreRecordBatched)->Arg(4096)->Arg(65536)->Unit(benchmark::kMillisecond)->Iterations(2);

/// The master's path: rows as views into a report batch's columns (no TaskRecord, no map),
/// each result checked before it is recorded.
void BM_StoreRecordRows(benchmark::State& state) {
    const auto n = static_cast<std::int64_t>(1) << 20;
    Grid grid;
    grid.add(Axis::range("x", 0, n));
    StoreOptions so;
    so.path = "/tmp/mpisweep-micro-store-rows-" + std::to_string(getpid()) + ".h5";
    so.overwrite = true;
    so.flush_rows = static_cast<std::size_t>(state.range(0));
    so.flush_interval = std::chrono::hours(1);
    const std::string node = "localhost";
    const std::string loss = "loss";
    std::int64_t items = 0;
    for (auto _ : state) {
        state.PauseTiming();
        ResultStore store = ResultStore::create(grid, so);
        state.ResumeTiming();
        FieldView field{&loss, ResultView{}};
        RowView row;
        row.attempts = 1;
        row.worker = 1;
        row.node = &node;
        row.start = 1.7e9;
        row.wall_s = 1e-6;
        row.fields = &field;
        row.n_fields = 1;
        for (std::int64_t i = 0; i < n; ++i) {
            row.id = TaskId(static_cast<std::uint64_t>(i));
            field.value.number = 0.5 * static_cast<double>(i);
            store.check(row.id, &field, 1);
            store.record(row);
        }
        store.close();
        items += n;
    }
    state.SetItemsProcessed(items);
    std::remove(so.path.c_str());
}
BENCHMARK(BM_StoreRecordRows)->Arg(4096)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
