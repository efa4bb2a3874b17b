// The limit for in-process tasks: a raw MPI master/worker loop of the same shape as mpisweep's
// (rank 0 hands out task ids, each worker holds `depth` tasks in flight, one task per message,
// one reply per task), with empty tasks and nothing else: no scheduler, no store.
// Two ways to receive: `probe` (the default) polls with MPI_Iprobe and receives what it found
// with MPI_Recv; `preposted` keeps a ring of persistent receives posted and polls the oldest
// with MPI_Test, as mpisweep's transport does. Waiting ranks yield between polls, like
// mpisweep's backoff before it sleeps.
// usage: raw_mpi_loop N [DEPTH] [probe|preposted]   prints "tasks=N seconds=S rate=R" on rank 0.
#include <mpi.h>
#include <sched.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kTask = 1, kDone = 2, kStop = 3;
constexpr std::uint64_t kStopId = ~std::uint64_t{0};  // `preposted`: the stop travels as an id

/// Receives one id with tag `tag` from `source` (MPI_ANY_SOURCE: any); returns the sender.
class Receiver {
public:
    Receiver(bool preposted, int source, int tag, int slots)
        : preposted_(preposted), source_(source), tag_(tag) {
        if (!preposted_) return;
        ids_.resize(static_cast<std::size_t>(slots));
        ring_.resize(static_cast<std::size_t>(slots));
        for (std::size_t i = 0; i < ring_.size(); ++i)
            MPI_Recv_init(&ids_[i], 1, MPI_UINT64_T, source_, tag_, MPI_COMM_WORLD, &ring_[i]);
        MPI_Startall(slots, ring_.data());
    }
    ~Receiver() {
        for (MPI_Request& r : ring_) {
            MPI_Cancel(&r);
            MPI_Wait(&r, MPI_STATUS_IGNORE);
            MPI_Request_free(&r);
        }
    }
    /// `probe` mode also takes kStop (returns kStopId).
    int receive(std::uint64_t& id) {
        for (;;) {
            int flag = 0;
            MPI_Status st;
            if (preposted_) {
                MPI_Test(&ring_[head_], &flag, &st);
                if (flag) {
                    id = ids_[head_];
                    MPI_Start(&ring_[head_]);
                    head_ = (head_ + 1) % ring_.size();
                    return st.MPI_SOURCE;
                }
            } else {
                MPI_Iprobe(source_, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
                if (flag) {
                    MPI_Recv(&id, 1, MPI_UINT64_T, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE);
                    if (st.MPI_TAG == kStop) id = kStopId;
                    return st.MPI_SOURCE;
                }
            }
            sched_yield();
        }
    }

private:
    bool preposted_;
    int source_, tag_;
    std::vector<std::uint64_t> ids_;
    std::vector<MPI_Request> ring_;
    std::size_t head_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const int depth = argc > 2 ? std::atoi(argv[2]) : 2;
    const bool preposted = argc > 3 && std::strcmp(argv[3], "preposted") == 0;
    if (argc > 3 && !preposted && std::strcmp(argv[3], "probe") != 0) {
        if (rank == 0)
            std::fprintf(stderr, "raw_mpi_loop: unknown mode '%s'; expected probe or preposted\n", argv[3]);
        MPI_Finalize();
        return 2;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    if (rank == 0) {
        Receiver done_ids(preposted, MPI_ANY_SOURCE, kDone, 2 * (size - 1) + 2);
        std::uint64_t next = 0, done = 0;
        auto send_task = [&](int dest) {
            std::uint64_t id = next++;
            MPI_Send(&id, 1, MPI_UINT64_T, dest, kTask, MPI_COMM_WORLD);
        };
        for (int d = 0; d < depth; ++d)
            for (int w = 1; w < size && next < n; ++w) send_task(w);
        while (done < n) {
            std::uint64_t id = 0;
            const int from = done_ids.receive(id);
            ++done;
            if (next < n) send_task(from);
        }
        for (int w = 1; w < size; ++w) {
            if (preposted) {
                MPI_Send(&kStopId, 1, MPI_UINT64_T, w, kTask, MPI_COMM_WORLD);
            } else {
                MPI_Send(nullptr, 0, MPI_BYTE, w, kStop, MPI_COMM_WORLD);
            }
        }
        const double s = MPI_Wtime() - t0;
        std::printf("tasks=%llu seconds=%.6f rate=%.1f\n", static_cast<unsigned long long>(n), s,
                    static_cast<double>(n) / s);
    } else {
        Receiver tasks(preposted, 0, kTask, depth + 2);
        for (;;) {
            std::uint64_t id = 0;
            tasks.receive(id);
            if (id == kStopId) break;
            MPI_Send(&id, 1, MPI_UINT64_T, 0, kDone, MPI_COMM_WORLD);
        }
    }
    MPI_Finalize();
    return 0;
}
