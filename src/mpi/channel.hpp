#pragma once
// One Boost-serialized object per MPI message: packed once into a Boost.MPI packed archive and
// sent with a plain MPI_Isend of MPI_PACKED, received after a probe with MPI_Get_count. This
// keeps Boost.Serialization as the format while making every message exactly one MPI message
// (no separate size message) that the master can post without waiting.
#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/packed_iarchive.hpp>
#include <boost/mpi/packed_oarchive.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "mpi/mpi_check.hpp"

namespace mpisweep {

/// Sends in flight; each keeps its buffer alive until MPI is done with it.
class SendQueue {
public:
    explicit SendQueue(const boost::mpi::communicator& comm) : comm_(comm) {}
    SendQueue(const SendQueue&) = delete;
    SendQueue& operator=(const SendQueue&) = delete;
    ~SendQueue() {
        // MPI must not write into freed buffers: wait (never throw from here).
        for (Pending& p : pending_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
    }

    template <class T>
    void post(int dest, int tag, const T& value) {
        Pending p;
        p.archive = std::make_unique<boost::mpi::packed_oarchive>(static_cast<MPI_Comm>(comm_));
        *p.archive << value;
        MPISWEEP_MPI_CHECK(MPI_Isend(p.archive->address(), static_cast<int>(p.archive->size()),
                                     MPI_PACKED, dest, tag, comm_, &p.request));
        pending_.push_back(std::move(p));
    }
    /// A message without payload (Stop, Bye).
    void post_empty(int dest, int tag) {
        Pending p;
        MPISWEEP_MPI_CHECK(MPI_Isend(nullptr, 0, MPI_PACKED, dest, tag, comm_, &p.request));
        pending_.push_back(std::move(p));
    }
    /// Forgets the sends that completed.
    void reap() {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < pending_.size(); ++i) {
            int done = 0;
            MPISWEEP_MPI_CHECK(MPI_Test(&pending_[i].request, &done, MPI_STATUS_IGNORE));
            if (!done) pending_[kept++] = std::move(pending_[i]);
        }
        pending_.resize(kept);
    }
    void wait_all() {
        for (Pending& p : pending_) MPISWEEP_MPI_CHECK(MPI_Wait(&p.request, MPI_STATUS_IGNORE));
        pending_.clear();
    }
    bool empty() const { return pending_.empty(); }

private:
    struct Pending {
        std::unique_ptr<boost::mpi::packed_oarchive> archive;
        MPI_Request request = MPI_REQUEST_NULL;
    };
    const boost::mpi::communicator& comm_;
    std::vector<Pending> pending_;
};

/// A message waiting to be received: source and tag.
struct Envelope {
    int source = 0;
    int tag = 0;
    int bytes = 0;
};

/// Non-blocking probe for a message from `source` (MPI_ANY_SOURCE for any).
inline std::optional<Envelope> probe(const boost::mpi::communicator& comm, int source) {
    int flag = 0;
    MPI_Status status;
    MPISWEEP_MPI_CHECK(MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, &status));
    if (!flag) return std::nullopt;
    Envelope e;
    e.source = status.MPI_SOURCE;
    e.tag = status.MPI_TAG;
    MPISWEEP_MPI_CHECK(MPI_Get_count(&status, MPI_PACKED, &e.bytes));
    return e;
}

/// Receives the probed message into `value`.
template <class T>
void receive(const boost::mpi::communicator& comm, const Envelope& e, T& value) {
    boost::mpi::packed_iarchive archive(static_cast<MPI_Comm>(comm), static_cast<std::size_t>(e.bytes));
    MPISWEEP_MPI_CHECK(MPI_Recv(archive.address(), e.bytes, MPI_PACKED, e.source, e.tag, comm,
                                MPI_STATUS_IGNORE));
    archive >> value;
}

/// Receives a probed message without payload.
inline void receive_empty(const boost::mpi::communicator& comm, const Envelope& e) {
    MPISWEEP_MPI_CHECK(MPI_Recv(nullptr, 0, MPI_PACKED, e.source, e.tag, comm, MPI_STATUS_IGNORE));
}

}  // namespace mpisweep
