#pragma once
// The receiving side of MpiTransport: a ring of pre-posted receives that MPI fills as frames
// arrive (frame.hpp), and the large payloads announced by them, received into buffers of ours.
// A message is handed out only once all of it has arrived, so that a rank never waits inside
// MPI for a sender that went back to work.
//
// Why the payloads are received this way: a message over the transport's eager limit goes by
// rendezvous, and its data moves only when the sender next calls MPI. A blocking MPI_Recv of
// it spins in MPI's progress until then: the master, waiting for a report batch while its
// worker ran 1 ms of tasks, burned its core and assigned nothing meanwhile (bench/README.md:
// half of each rank's CPU in Open MPI's progress; 177k -> 349k Python tasks/s with vader's
// eager limit raised to 32 KiB). Eager limits differ between transports and clusters (Open
// MPI's vader 4 KiB, UCX and openib 8-12 KiB, tcp 64 KiB), so nothing here depends on one:
// a payload is received with MPI_Irecv and handed out when MPI_Test says it is complete; the
// rank does other work (other workers' messages, its tasks) meanwhile.
//
// Order: the ring's receives are posted, taken and posted again strictly in turn, and MPI
// matches each arriving frame to the earliest posted receive, so the ring's order is the
// order of arrival and each sender's frames come out in the order they were sent.
//
// One inbox per communicator at a time: its receives take every frame sent on it, also those
// meant for an inbox created after it (each sweep runs on a communicator of its own).
#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/packed_iarchive.hpp>
#include <boost/mpi/packed_oarchive.hpp>
#include <deque>
#include <optional>
#include <stdexcept>
#include <vector>

#include "transport/frame.hpp"
#include "transport/messages.hpp"
#include "transport/mpi_check.hpp"
#include "transport/transport.hpp"
#include "transport/wire_archive.hpp"

namespace mpisweep {

class MpiInbox {
public:
    /// `slots`: pre-posted receives (frames that may arrive before this rank looks; more wait
    /// in MPI until a slot is free).
    MpiInbox(const boost::mpi::communicator& comm, int slots);
    MpiInbox(const MpiInbox&) = delete;
    MpiInbox& operator=(const MpiInbox&) = delete;
    ~MpiInbox();

    /// The next message from `source` (kAnySource: from any) that has fully arrived, without
    /// taking it; messages of one source come out in the order they were sent. Takes the
    /// frames that arrived and starts receiving the large payloads they announce.
    std::optional<Envelope> ready(int source);
    /// ready() found a message: the next ready() returns it again without asking MPI.
    bool holding(int source) const {
        return current_ && (source == kAnySource || current_->envelope.source == source);
    }

    /// A large message is on its way: its data moves only while this rank calls MPI.
    bool arriving() const {
        for (const Arrival& a : arrivals_)
            if (!a.complete) return true;
        return false;
    }

    /// Large messages that finished arriving so far (a count that only grows).
    std::uint64_t completed() const { return completed_; }

    /// Receives the message ready() returned last.
    template <class T>
    void receive(const Envelope& e, T& value) {
        Arrival& a = take(e);
        const char* data = payload(a);
        const auto bytes = static_cast<std::size_t>(e.bytes);
        if constexpr (HotMessage<T>::value) {
            wire_decode(data, bytes, value);
        } else {
            // The rare messages: Boost's archive reads a buffer of its own type.
            boost::mpi::packed_oarchive::buffer_type packed(data, data + bytes);
            boost::mpi::packed_iarchive archive(static_cast<MPI_Comm>(comm_), packed);
            archive >> value;
        }
        done(a);
    }
    /// Receives a message without payload that ready() returned last.
    void receive_empty(const Envelope& e) { done(take(e)); }

private:
    struct Arrival {
        Envelope envelope;
        int slot = -1;                           ///< >= 0: a small message, still in this ring slot
        MPI_Request request = MPI_REQUEST_NULL;  ///< a large payload arriving into `buffer`
        std::vector<char> buffer;                ///< the payload (slot < 0)
        bool complete = false;
    };
    /// Takes the ring's next frame, if it has arrived; a large payload starts arriving.
    std::optional<Arrival> next_frame();
    /// Moves a small message out of its ring slot, which is posted again.
    void copy_out(Arrival& a);
    void start_payload(Arrival& a, int bytes);
    bool arrived(Arrival& a);
    /// The first arrival of its source in arrivals_ (nothing earlier from it is waiting).
    bool first_of_source(std::size_t index) const;
    Arrival& take(const Envelope& e);
    const char* payload(const Arrival& a) const {
        return a.slot >= 0 ? frame(a.slot) + kFrameHeaderBytes : a.buffer.data();
    }
    char* frame(int slot) { return ring_buffer_.data() + static_cast<std::size_t>(slot) * kFrameBytes; }
    const char* frame(int slot) const {
        return ring_buffer_.data() + static_cast<std::size_t>(slot) * kFrameBytes;
    }
    void repost(int slot);
    void done(Arrival& a);
    std::vector<char> spare_buffer();

    const boost::mpi::communicator& comm_;
    std::vector<MPI_Request> ring_;   ///< persistent receives of kFrameTag, posted in ring order
    std::vector<char> ring_buffer_;   ///< kFrameBytes per slot
    int head_ = 0;                    ///< the slot whose frame comes next
    std::optional<Arrival> current_;  ///< what ready() returned, until received
    /// Messages taken off the ring but not handed out yet, in the order they arrived (so each
    /// source's messages stay in order): large ones arriving, and any behind them.
    std::deque<Arrival> arrivals_;
    std::vector<std::vector<char>> spare_;  ///< buffers of finished large receives, for reuse
    std::uint64_t completed_ = 0;
};

}  // namespace mpisweep
