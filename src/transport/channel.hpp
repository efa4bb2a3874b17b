#pragma once
// The sending side of MpiTransport (mpi_transport.hpp; the receiving side is mpi_inbox.hpp).
// One serialized object per message: the hot messages (HotMessage<T>) written by the wire
// archive, the others by a Boost.MPI packed archive, both into one buffer behind a frame
// header (frame.hpp) and sent with MPI_Isend of MPI_PACKED: as one frame when it fits, else
// as a frame that announces the payload and the payload. The master can post any message
// without waiting.
#include <mpi.h>

#include <array>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/packed_iarchive.hpp>
#include <boost/mpi/packed_oarchive.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "transport/frame.hpp"
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
        for (Pending& p : pending_) MPI_Waitall(2, p.requests.data(), MPI_STATUSES_IGNORE);
    }

    template <class T>
    void post(int dest, int tag, const T& value) {
        std::unique_ptr<PackedBuffer> buffer = take_buffer();
        std::size_t bytes = 0;
        if constexpr (HotMessage<T>::value) {
            bytes = wire_encode(value, *buffer, kFrameHeaderBytes);
        } else {
            buffer->resize(kFrameHeaderBytes);  // Boost's archive appends behind the header
            boost::mpi::packed_oarchive archive(static_cast<MPI_Comm>(comm_), *buffer);
            archive << value;
            bytes = buffer->size();
        }
        send_frame(dest, tag, std::move(buffer), bytes);
    }
    /// A message without payload (Stop, Bye).
    void post_empty(int dest, int tag) {
        std::unique_ptr<PackedBuffer> buffer = take_buffer();
        if (buffer->size() < static_cast<std::size_t>(kFrameHeaderBytes)) buffer->resize(kFrameHeaderBytes);
        send_frame(dest, tag, std::move(buffer), kFrameHeaderBytes);
    }
    /// Forgets the sends that completed.
    void reap() {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < pending_.size(); ++i) {
            int done = 0;
            MPISWEEP_MPI_CHECK(MPI_Testall(2, pending_[i].requests.data(), &done, MPI_STATUSES_IGNORE));
            if (!done) {
                pending_[kept++] = std::move(pending_[i]);
                continue;
            }
            ++completed_;
            if (pending_[i].large) --large_;
            if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(pending_[i].buffer));
        }
        pending_.resize(kept);
    }
    /// Whether a send in flight may need this rank's MPI calls to move on: one over
    /// kSurelyEagerBytes. A smaller one went out whole when posted (every MPI sends that
    /// much eagerly); it completes once the receiver takes it, whatever this rank does, and
    /// testing it before (Open MPI completes only sends of 256 bytes or less at once) yields
    /// the core when oversubscribed, for nothing.
    bool needs_progress() const { return large_ > 0; }
    /// Whether a reap() is due: a send needs progress, or enough small ones hold a buffer each.
    bool reap_due() const { return needs_progress() || pending_.size() >= kReapAt; }
    void wait_all() {
        for (Pending& p : pending_)
            MPISWEEP_MPI_CHECK(MPI_Waitall(2, p.requests.data(), MPI_STATUSES_IGNORE));
        pending_.clear();
        large_ = 0;
    }
    bool empty() const { return pending_.empty(); }
    /// Sends that completed so far (a count that only grows).
    std::uint64_t completed() const { return completed_; }

private:
    struct Pending {
        std::unique_ptr<PackedBuffer> buffer;  ///< frame header, then the payload
        bool large = false;                    ///< over kSurelyEagerBytes
        /// The frame, and the payload when it goes separately (else MPI_REQUEST_NULL).
        std::array<MPI_Request, 2> requests{MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    };
    std::unique_ptr<PackedBuffer> take_buffer() {
        if (spare_.empty()) return std::make_unique<PackedBuffer>();
        std::unique_ptr<PackedBuffer> buffer = std::move(spare_.back());
        spare_.pop_back();
        return buffer;
    }
    /// Sends `bytes` of `buffer` (the header's room included) as one frame or as a frame and
    /// its payload (frame.hpp).
    void send_frame(int dest, int tag, std::unique_ptr<PackedBuffer> buffer, std::size_t bytes) {
        Pending p;
        p.buffer = std::move(buffer);
        char* data = p.buffer->data();
        FrameHeader header;
        header.tag = tag;
        if (bytes <= static_cast<std::size_t>(kFrameBytes)) {
            write_frame_header(data, header);
            MPISWEEP_MPI_CHECK(
                MPI_Isend(data, static_cast<int>(bytes), MPI_PACKED, dest, kFrameTag, comm_, &p.requests[0]));
        } else {
            header.payload_bytes = static_cast<std::int32_t>(bytes - kFrameHeaderBytes);
            write_frame_header(data, header);
            MPISWEEP_MPI_CHECK(
                MPI_Isend(data, kFrameHeaderBytes, MPI_PACKED, dest, kFrameTag, comm_, &p.requests[0]));
            MPISWEEP_MPI_CHECK(MPI_Isend(data + kFrameHeaderBytes, header.payload_bytes, MPI_PACKED, dest,
                                         kPayloadTag, comm_, &p.requests[1]));
        }
        p.large = bytes > kSurelyEagerBytes;
        if (p.large) ++large_;
        pending_.push_back(std::move(p));
    }
    static constexpr std::size_t kSpareBuffers = 16;
    // Open MPI's shared-memory eager limit (btl_vader_eager_limit), the smallest of its
    // transports' and of the other MPIs' defaults; its frame and payload headers left out.
    static constexpr std::size_t kSurelyEagerBytes = 4096 - 64;
    // Small sends in flight reaped once this many are (each holds a buffer).
    static constexpr std::size_t kReapAt = kSpareBuffers;
    std::size_t large_ = 0;
    const boost::mpi::communicator& comm_;
    std::vector<Pending> pending_;
    std::vector<std::unique_ptr<PackedBuffer>> spare_;
    std::uint64_t completed_ = 0;
};

}  // namespace mpisweep
