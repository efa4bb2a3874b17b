// Message serialization: the columnar batches of src/mpi/messages.hpp in the wire archive
// (what the hot path sends) and in Boost.MPI packed archives, and the same reports as a vector
// of structs in a packed archive (one MPI_Pack call per field per element), which is what a
// naive Boost.Serialization layout costs.
#include <mpi.h>

#include <benchmark/benchmark.h>
#include <boost/mpi/packed_iarchive.hpp>
#include <boost/mpi/packed_oarchive.hpp>
#include <boost/serialization/map.hpp>

#include "transport/messages.hpp"

using namespace mpisweep;

namespace {

struct StructReport {
    std::uint64_t task = 0;
    int attempt = 1;
    std::uint8_t outcome = 0;
    double start = 0, wall_s = 0;
    int exit_code = 0;
    std::string error;
    std::map<std::string, double> results;
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar& task& attempt& outcome& start& wall_s& exit_code& error& results;
    }
};

TaskReport sample_report(std::uint64_t i, bool with_result) {
    TaskReport r;
    r.task = TaskId(i);
    r.start = 1.7e9 + static_cast<double>(i);
    r.wall_s = 1e-6;
    if (with_result) r.results["loss"] = 0.5 * static_cast<double>(i);
    return r;
}

void BM_ReportBatchColumnar(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    const bool with_result = state.range(1) != 0;
    for (auto _ : state) {
        ReportBatch batch;
        for (std::uint64_t i = 0; i < n; ++i) batch.add(sample_report(i, with_result));
        boost::mpi::packed_oarchive out(MPI_COMM_WORLD);
        out << batch;
        boost::mpi::packed_iarchive in(MPI_COMM_WORLD, out.size());
        std::memcpy(in.address(), out.address(), out.size());
        ReportBatch back;
        in >> back;
        std::size_t seen = 0;
        back.for_each([&](TaskReport& r) { seen += r.results.size() + 1; });
        benchmark::DoNotOptimize(seen);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ReportBatchColumnar)->Args({1, 0})->Args({1024, 0})->Args({1024, 1});

void BM_ReportVectorOfStructs(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    const bool with_result = state.range(1) != 0;
    for (auto _ : state) {
        std::vector<StructReport> reports(n);
        for (std::uint64_t i = 0; i < n; ++i) {
            reports[i].task = i;
            if (with_result) reports[i].results["loss"] = 0.5 * static_cast<double>(i);
        }
        boost::mpi::packed_oarchive out(MPI_COMM_WORLD);
        out << reports;
        boost::mpi::packed_iarchive in(MPI_COMM_WORLD, out.size());
        std::memcpy(in.address(), out.address(), out.size());
        std::vector<StructReport> back;
        in >> back;
        benchmark::DoNotOptimize(back.data());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ReportVectorOfStructs)->Args({1024, 0})->Args({1024, 1});

void BM_TaskBatch(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    for (auto _ : state) {
        TaskBatch batch;
        for (std::uint64_t i = 0; i < n; ++i) batch.add(TaskId(i), 1);
        boost::mpi::packed_oarchive out(MPI_COMM_WORLD);
        out << batch;
        boost::mpi::packed_iarchive in(MPI_COMM_WORLD, out.size());
        std::memcpy(in.address(), out.address(), out.size());
        TaskBatch back;
        in >> back;
        benchmark::DoNotOptimize(back.ids.data());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TaskBatch)->Arg(1)->Arg(1024);

// The hot path: encode into a reused buffer, decode into a reused batch (as SendQueue::post
// and receive do).
void BM_ReportBatchWire(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    const bool with_result = state.range(1) != 0;
    ReportBatch batch, back;
    std::vector<char> buffer;
    for (auto _ : state) {
        for (std::uint64_t i = 0; i < n; ++i) batch.add(sample_report(i, with_result));
        const std::size_t bytes = wire_encode(batch, buffer);
        batch.clear();
        wire_decode(buffer.data(), bytes, back);
        std::size_t seen = 0;
        back.for_each([&](TaskReport& r) { seen += r.results.size() + 1; });
        benchmark::DoNotOptimize(seen);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ReportBatchWire)->Args({1, 0})->Args({1, 1})->Args({1024, 0})->Args({1024, 1});

void BM_TaskBatchWire(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    TaskBatch batch, back;
    std::vector<char> buffer;
    for (auto _ : state) {
        for (std::uint64_t i = 0; i < n; ++i) batch.add(TaskId(i), 1);
        const std::size_t bytes = wire_encode(batch, buffer);
        batch.clear();
        wire_decode(buffer.data(), bytes, back);
        benchmark::DoNotOptimize(back.ids.data());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TaskBatchWire)->Arg(1)->Arg(1024);

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    MPI_Finalize();
    return 0;
}
