#include "transport/node.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <boost/mpi/collectives.hpp>
#include <cstdlib>
#include <vector>

#include "transport/mpi_check.hpp"

namespace mpisweep {
namespace {

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}

// Ranks that share this node's memory, as a communicator we own.
class NodeComm {
public:
    explicit NodeComm(MPI_Comm parent) {
        MPISWEEP_MPI_CHECK(MPI_Comm_split_type(parent, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &comm_));
    }
    ~NodeComm() {
        if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    }
    NodeComm(const NodeComm&) = delete;
    NodeComm& operator=(const NodeComm&) = delete;
    MPI_Comm get() const { return comm_; }

private:
    MPI_Comm comm_ = MPI_COMM_NULL;
};

}  // namespace

WorkerInfo describe_rank(const boost::mpi::communicator& comm) {
    WorkerInfo info;
    info.rank = comm.rank();
    info.world_size = comm.size();
    info.host = host_name();

    NodeComm node(comm);
    int local_size = 1;
    MPISWEEP_MPI_CHECK(MPI_Comm_rank(node.get(), &info.node_local_rank));
    MPISWEEP_MPI_CHECK(MPI_Comm_size(node.get(), &local_size));
    std::vector<int> ranks_on_node(static_cast<std::size_t>(local_size));
    int my_rank = info.rank;
    MPISWEEP_MPI_CHECK(MPI_Allgather(&my_rank, 1, MPI_INT, ranks_on_node.data(), 1, MPI_INT, node.get()));
    // Workers are numbered on their node in rank order, skipping the master (rank 0) when a
    // sweep has workers at all; a single rank is its own worker.
    std::sort(ranks_on_node.begin(), ranks_on_node.end());
    const bool master_takes_no_device = comm.size() > 1;
    int index = 0;
    for (int r : ranks_on_node) {
        if (r == info.rank) break;
        if (r == 0 && master_takes_no_device) continue;
        ++index;
    }
    info.local_worker_index = index;

    return info;
}

std::vector<long> node_process_ids(const boost::mpi::communicator& comm) {
    NodeComm node(comm);
    int local_size = 1;
    MPISWEEP_MPI_CHECK(MPI_Comm_size(node.get(), &local_size));
    std::vector<long> pids(static_cast<std::size_t>(local_size));
    long mine = static_cast<long>(getpid());
    MPISWEEP_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_LONG, pids.data(), 1, MPI_LONG, node.get()));
    return pids;
}

}  // namespace mpisweep
