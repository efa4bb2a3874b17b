// The limit for in-process tasks: a raw MPI master/worker loop of the same shape as mpisweep's
// (rank 0 hands out task ids, each worker holds `depth` tasks in flight, one task per message,
// one reply per task), with empty tasks and nothing else: no scheduler, no store.
// Waiting ranks poll with MPI_Iprobe and yield, like mpisweep's backoff before it sleeps.
// usage: raw_mpi_loop N [DEPTH]   prints "tasks=N seconds=S rate=R" on rank 0.
#include <mpi.h>
#include <sched.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const int depth = argc > 2 ? std::atoi(argv[2]) : 2;
    constexpr int kTask = 1, kDone = 2, kStop = 3;
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    if (rank == 0) {
        std::uint64_t next = 0, done = 0;
        auto send_task = [&](int dest) {
            std::uint64_t id = next++;
            MPI_Send(&id, 1, MPI_UINT64_T, dest, kTask, MPI_COMM_WORLD);
        };
        for (int d = 0; d < depth; ++d)
            for (int w = 1; w < size && next < n; ++w) send_task(w);
        while (done < n) {
            int flag = 0;
            MPI_Status st;
            MPI_Iprobe(MPI_ANY_SOURCE, kDone, MPI_COMM_WORLD, &flag, &st);
            if (!flag) {
                sched_yield();
                continue;
            }
            std::uint64_t id = 0;
            MPI_Recv(&id, 1, MPI_UINT64_T, st.MPI_SOURCE, kDone, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            ++done;
            if (next < n) send_task(st.MPI_SOURCE);
        }
        for (int w = 1; w < size; ++w) MPI_Send(nullptr, 0, MPI_BYTE, w, kStop, MPI_COMM_WORLD);
        const double s = MPI_Wtime() - t0;
        std::printf("tasks=%llu seconds=%.6f rate=%.1f\n", static_cast<unsigned long long>(n), s,
                    static_cast<double>(n) / s);
    } else {
        for (;;) {
            int flag = 0;
            MPI_Status st;
            MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
            if (!flag) {
                sched_yield();
                continue;
            }
            if (st.MPI_TAG == kStop) {
                MPI_Recv(nullptr, 0, MPI_BYTE, 0, kStop, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                break;
            }
            std::uint64_t id = 0;
            MPI_Recv(&id, 1, MPI_UINT64_T, 0, kTask, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(&id, 1, MPI_UINT64_T, 0, kDone, MPI_COMM_WORLD);
        }
    }
    MPI_Finalize();
    return 0;
}
