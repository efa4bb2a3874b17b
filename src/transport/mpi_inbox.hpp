#pragma once
// The receiving side of MpiTransport: hands out a message only once all of it has arrived, so
// that a rank never waits inside MPI for a sender that went back to work.
//
// Why: a message over the transport's eager limit goes by rendezvous, and its data moves only
// when the sender next calls MPI. A blocking MPI_Recv of it spins in MPI's progress until
// then: the master, waiting for a report batch while its worker ran 1 ms of tasks, burned its
// core and assigned nothing meanwhile (bench/README.md: half of each rank's CPU in Open MPI's
// progress; 177k -> 349k Python tasks/s with vader's eager limit raised to 32 KiB). Eager
// limits differ between transports and clusters (Open MPI's vader 4 KiB, UCX and openib
// 8-12 KiB, tcp 64 KiB), so nothing here depends on one: a matched message over kSmallBytes
// is received with MPI_Imrecv into a buffer of ours and handed out when MPI_Test says it is
// complete; the rank does other work (other workers' messages, its tasks) meanwhile.
#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/packed_iarchive.hpp>
#include <boost/mpi/packed_oarchive.hpp>
#include <deque>
#include <optional>
#include <stdexcept>
#include <vector>

#include "transport/messages.hpp"
#include "transport/mpi_check.hpp"
#include "transport/transport.hpp"
#include "transport/wire_archive.hpp"

namespace mpisweep {

class MpiInbox {
public:
    /// Messages up to this size are received with a blocking MPI_Mrecv once matched: under
    /// the eager limit of every MPI transport we know, so their data is already here. Every
    /// one-task message is far below it.
    static constexpr int kSmallBytes = 1024;

    explicit MpiInbox(const boost::mpi::communicator& comm) : comm_(comm) {}
    MpiInbox(const MpiInbox&) = delete;
    MpiInbox& operator=(const MpiInbox&) = delete;
    ~MpiInbox();

    /// The next message from `source` (kAnySource: from any) that has fully arrived, without
    /// taking it; messages of one source come out in the order they were sent. Matches what
    /// is waiting in MPI and starts receiving the large ones.
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
        const char* data = a.buffer.data();
        if (a.message != MPI_MESSAGE_NULL) data = receive_small(a);
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
    void receive_empty(const Envelope& e) {
        Arrival& a = take(e);
        if (a.message != MPI_MESSAGE_NULL) receive_small(a);
        done(a);
    }

private:
    struct Arrival {
        Envelope envelope;
        MPI_Message message = MPI_MESSAGE_NULL;  ///< small: matched, still in MPI
        MPI_Request request = MPI_REQUEST_NULL;  ///< large: arriving into `buffer`
        std::vector<char> buffer;
        bool complete = false;
    };
    /// MPI_Improbe once; a large message starts arriving.
    std::optional<Arrival> match(int source);
    bool arrived(Arrival& a);
    /// The first arrival of its source in arrivals_ (nothing earlier from it is waiting).
    bool first_of_source(std::size_t index) const;
    Arrival& take(const Envelope& e);
    const char* receive_small(Arrival& a);
    void done(Arrival& a);

    const boost::mpi::communicator& comm_;
    std::optional<Arrival> current_;  ///< what ready() returned, until received
    /// Matched messages not handed out yet, in the order MPI matched them (so each source's
    /// messages stay in order): large ones arriving, and any behind them from the same source.
    std::deque<Arrival> arrivals_;
    std::vector<std::vector<char>> spare_;  ///< buffers of finished large receives, for reuse
    std::vector<char> small_ = std::vector<char>(kSmallBytes);  ///< where small messages land
    std::uint64_t completed_ = 0;
};

}  // namespace mpisweep
