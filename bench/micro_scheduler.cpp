// Scheduler operations at scale: 10^6 tasks, 10^4 workers. The master calls on_done for each
// report and assign() once per turn; both must stay far below a microsecond per task.
#include <benchmark/benchmark.h>
#include <deque>
#include <vector>

#include "schedule/scheduler.hpp"

using namespace mpisweep;

namespace {

constexpr std::uint64_t kTasks = 1000000;

std::vector<WorkerId> worker_ids(int n) {
    std::vector<WorkerId> ids;
    for (int w = 1; w <= n; ++w) ids.emplace_back(w);
    return ids;
}

void BM_SchedulerConstruct(benchmark::State& state) {
    for (auto _ : state) {
        Scheduler s(kTasks, worker_ids(static_cast<int>(state.range(0))), SchedulerOptions{});
        benchmark::DoNotOptimize(&s);
    }
}
BENCHMARK(BM_SchedulerConstruct)->Arg(10000)->Unit(benchmark::kMillisecond);

/// The start of a 10^8-task sweep on 4 workers: the scheduler up to its first assignments.
void BM_SchedulerStartHugeSweep(benchmark::State& state) {
    for (auto _ : state) {
        Scheduler s(100'000'000, worker_ids(4), SchedulerOptions{});
        benchmark::DoNotOptimize(s.assign(0.0));
    }
}
BENCHMARK(BM_SchedulerStartHugeSweep)->Unit(benchmark::kMillisecond);

/// Steady state: a worker reports one task done, assign() refills its slot. One item = one
/// task through the scheduler (on_done + its share of assign).
void BM_SchedulerDoneAndAssign(benchmark::State& state) {
    const int workers = static_cast<int>(state.range(0));
    const int prefetch = static_cast<int>(state.range(1));
    SchedulerOptions o;
    o.prefetch = prefetch;
    Scheduler s(kTasks * 100, worker_ids(workers), o);
    std::vector<std::deque<TaskId>> held(static_cast<std::size_t>(workers) + 1);
    double now = 0;
    for (const Assignment& a : s.assign(now))
        held[static_cast<std::size_t>(a.worker.value())].push_back(a.task);
    int w = 1;
    for (auto _ : state) {
        now += 1e-6;
        auto& q = held[static_cast<std::size_t>(w)];
        benchmark::DoNotOptimize(s.on_done(WorkerId(w), q.front(), now));
        q.pop_front();
        for (const Assignment& a : s.assign(now))
            held[static_cast<std::size_t>(a.worker.value())].push_back(a.task);
        w = w % workers + 1;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchedulerDoneAndAssign)->Args({10000, 1})->Args({4, 1})->Args({4, 2047});

/// Batched: a worker reports `batch` tasks, then one assign() refills them all.
void BM_SchedulerBatchedReports(benchmark::State& state) {
    const int workers = 4;
    const int batch = static_cast<int>(state.range(0));
    SchedulerOptions o;
    o.prefetch = 2 * batch - 1;
    Scheduler s(kTasks * 1000, worker_ids(workers), o);
    std::vector<std::deque<TaskId>> held(workers + 1);
    double now = 0;
    for (const Assignment& a : s.assign(now))
        held[static_cast<std::size_t>(a.worker.value())].push_back(a.task);
    int w = 1;
    for (auto _ : state) {
        now += 1e-6;
        auto& q = held[static_cast<std::size_t>(w)];
        for (int i = 0; i < batch; ++i) {
            benchmark::DoNotOptimize(s.on_done(WorkerId(w), q.front(), now));
            q.pop_front();
        }
        for (const Assignment& a : s.assign(now))
            held[static_cast<std::size_t>(a.worker.value())].push_back(a.task);
        w = w % workers + 1;
    }
    state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_SchedulerBatchedReports)->Arg(1024);

}  // namespace
