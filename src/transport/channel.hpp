#pragma once
// The sending side of MpiTransport (mpi_transport.hpp; the receiving side is mpi_inbox.hpp).
// One serialized object per MPI message: the hot messages (HotMessage<T>) written by the wire
// archive, the others by a Boost.MPI packed archive, both into one buffer sent with a plain
// MPI_Isend of MPI_PACKED and received after a matched probe with MPI_Get_count. Every message
// is exactly one MPI message (no separate size message) that the master can post without
// waiting.
#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/packed_iarchive.hpp>
#include <boost/mpi/packed_oarchive.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "transport/messages.hpp"
#include "transport/mpi_check.hpp"
#include "transport/transport.hpp"
#include "transport/wire_archive.hpp"

namespace mpisweep {

using PackedBuffer = boost::mpi::packed_oarchive::buffer_type;

/// Sends in flight; each keeps its buffer alive until MPI is done with it. Buffers are reused
/// (Boost.MPI allocates them with MPI_Alloc_mem, which costs more than a small message).
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
        if (spare_.empty()) {
            p.buffer = std::make_unique<PackedBuffer>();
        } else {
            p.buffer = std::move(spare_.back());
            spare_.pop_back();
        }
        std::size_t bytes = 0;
        if constexpr (HotMessage<T>::value) {
            bytes = wire_encode(value, *p.buffer);
        } else {
            p.buffer->clear();
            boost::mpi::packed_oarchive archive(static_cast<MPI_Comm>(comm_), *p.buffer);
            archive << value;
            bytes = p.buffer->size();
        }
        MPISWEEP_MPI_CHECK(
            MPI_Isend(p.buffer->data(), static_cast<int>(bytes), MPI_PACKED, dest, tag, comm_, &p.request));
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
            if (!done) {
                pending_[kept++] = std::move(pending_[i]);
                continue;
            }
            ++completed_;
            if (pending_[i].buffer && spare_.size() < kSpareBuffers) {
                spare_.push_back(std::move(pending_[i].buffer));
            }
        }
        pending_.resize(kept);
    }
    void wait_all() {
        for (Pending& p : pending_) MPISWEEP_MPI_CHECK(MPI_Wait(&p.request, MPI_STATUS_IGNORE));
        pending_.clear();
    }
    bool empty() const { return pending_.empty(); }
    /// Sends that completed so far (a count that only grows).
    std::uint64_t completed() const { return completed_; }

private:
    struct Pending {
        std::unique_ptr<PackedBuffer> buffer;
        MPI_Request request = MPI_REQUEST_NULL;
    };
    static constexpr std::size_t kSpareBuffers = 16;
    const boost::mpi::communicator& comm_;
    std::vector<Pending> pending_;
    std::vector<std::unique_ptr<PackedBuffer>> spare_;
    std::uint64_t completed_ = 0;
};

}  // namespace mpisweep
