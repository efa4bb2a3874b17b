#pragma once
// The seam between the master and worker loops (runtime/) and the network: every send,
// receive and wait of theirs goes through a Transport, as HyperQueue's scheduler core talks
// only through its Comm trait. It lives here, beside the messages it carries, so that the
// runtime names no MPI call and the implementations share one module:
//   MpiTransport  (mpi_transport.hpp)  ranks of an MPI job: the wire archive, reused buffers
//   LocalNetwork  (local_network.hpp)  queues in one process: a rank that works alone runs
//                                      its master and its worker over it; unit tests run a
//                                      master and several workers over it on a fake clock,
//                                      and read back every message it carried.
// A transport also owns the clock of the loops that use it (a fake one in tests) and knows
// how to wait for the next message without burning a core.
#include <optional>

#include "platform/clock.hpp"
#include "transport/messages.hpp"

namespace mpisweep {

/// The master's rank; workers are the other ranks (or rank 0 too, when it is alone).
inline constexpr int kMasterRank = 0;
/// probe() and wait() from any rank.
inline constexpr int kAnySource = -1;

/// A message waiting to be received: source, tag and size (bytes: MPI only).
struct Envelope {
    int source = 0;
    int tag = 0;
    int bytes = 0;
};

class Transport {
public:
    virtual ~Transport() = default;

    /// Monotonic seconds: the clock of every decision of the loop that uses this transport.
    virtual const Clock& clock() const = 0;
    double now() const { return clock().now(); }

    // Sending: returns at once; the transport keeps what it needs of the message.
    virtual void send(int dest, const TaskBatch& batch) = 0;
    virtual void send(int dest, const CancelRequest& request) = 0;
    virtual void send(int dest, const ReportBatch& reports) = 0;
    virtual void send(int dest, const InterruptNotice& notice) = 0;
    virtual void send(int dest, const GpuMemoryReport& report) = 0;
    /// A message without payload: Stop, Bye or Drain.
    virtual void send(int dest, Tag tag) = 0;

    /// The next message from `source` (kAnySource: any), or nullopt when none is waiting.
    /// Messages from one source arrive in the order they were sent.
    virtual std::optional<Envelope> probe(int source) = 0;
    // Receives the probed message, whose tag says which of these to call.
    virtual void receive(const Envelope& e, TaskBatch& batch) = 0;
    virtual void receive(const Envelope& e, CancelRequest& request) = 0;
    virtual void receive(const Envelope& e, ReportBatch& reports) = 0;
    virtual void receive(const Envelope& e, InterruptNotice& notice) = 0;
    virtual void receive(const Envelope& e, GpuMemoryReport& report) = 0;
    /// Receives a probed message without payload.
    virtual void receive(const Envelope& e) = 0;

    /// Forgets the sends that completed (MPI: frees their buffers for reuse).
    virtual void progress() = 0;
    /// Returns once every send completed.
    virtual void flush() = 0;
    /// Lets the sends in flight move on until none needs this rank any more (a message small
    /// enough to go out whole when sent needs nothing more), until `until` at the latest (on
    /// this transport's clock); true when none does.
    virtual bool settle(double until) = 0;
    /// Returns when a message from `source` may be waiting, or at `until` at the latest
    /// (on this transport's clock). How it waits is the transport's business: it must not
    /// keep a core busy for long, and must not add much to a round trip.
    virtual void wait(int source, double until) = 0;
    /// How late the next message may be picked up without anyone waiting for it (seconds):
    /// the workers hold that much work beyond what they have reported. A transport may then
    /// wait by sleeping at once rather than polling. 0 (the default): round trips are waited on.
    virtual void set_slack(double seconds) { (void)seconds; }
    /// Ends the whole job with `code` (MPI_Abort); does not return.
    [[noreturn]] virtual void abort(int code) = 0;
};

}  // namespace mpisweep
