#pragma once
// Where this rank runs: its node, its index among the node's workers, the ranks beside it.
#include <boost/mpi/communicator.hpp>
#include <string>
#include <vector>

#include "mpisweep/task.hpp"

namespace mpisweep {

/// Collective over `comm`. Finds the host, the node-local rank with
/// MPI_Comm_split_type(SHARED) and the index among this node's workers (rank 0, the master,
/// is not a worker unless it is alone). The device is left at -1.
WorkerInfo describe_rank(const boost::mpi::communicator& comm);

/// Collective over `comm`: the process ids of the ranks on this rank's node (the roots of
/// the sweep's processes there, whose GPU memory is not other users').
std::vector<long> node_process_ids(const boost::mpi::communicator& comm);

}  // namespace mpisweep
