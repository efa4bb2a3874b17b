#pragma once
// Where this rank runs: its node, its index among the node's workers, and the GPU it binds.
#include <boost/mpi/communicator.hpp>
#include <string>

#include "mpisweep/task.hpp"
#include "platform/device.hpp"

namespace mpisweep {

/// Collective over `comm`. Finds the host, the node-local rank with
/// MPI_Comm_split_type(SHARED) and the index among this node's workers (rank 0, the master,
/// is not a worker unless it is alone). The device is left at -1.
WorkerInfo describe_rank(const boost::mpi::communicator& comm);

/// What bind_device found.
struct DeviceBinding {
    int node_devices = 0;  ///< devices usable on the node
    /// A warning for rank 0 to pass on ("" when none): the job was given GPUs that CUDA
    /// cannot see (said by the first worker of the node only).
    std::string warning;
};

/// Chooses this worker's device from its local index and binds it with cudaSetDevice; CPU
/// (-1) when the node has no GPU or no slot is left. Throws for an explicit device that does
/// not exist or a CUDA failure while binding.
DeviceBinding bind_device(WorkerInfo& info, const DeviceOptions& options);

}  // namespace mpisweep
