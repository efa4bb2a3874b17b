#include "transport/mpi_transport.hpp"

#include <cstdlib>

namespace mpisweep {

MpiTransport::MpiTransport(const boost::mpi::communicator& comm, std::chrono::microseconds spin,
                           std::chrono::microseconds max_sleep)
    : comm_(comm), sends_(comm), backoff_(max_sleep, spin) {}

std::optional<Envelope> MpiTransport::probe_mpi(int source) const {
    return mpisweep::probe(comm_, source == kAnySource ? MPI_ANY_SOURCE : source);
}

std::optional<Envelope> MpiTransport::probe(int source) {
    std::optional<Envelope> e;
    if (seen_ && (source == kAnySource || seen_->source == source)) {
        e = seen_;  // still first in MPI's queue: Iprobe does not take it
    } else {
        e = probe_mpi(source);
    }
    seen_.reset();
    if (e) backoff_.reset();
    return e;
}

void MpiTransport::wait(int source, double until) {
    if (seen_) return;
    // The caller has just probed and found nothing: back off first, then look. The clock
    // (~100 ns here, as much as a probe) is read only once the back-off sleeps: the spin
    // before is short.
    for (;;) {
        if (backoff_.sleeping()) {
            const double now = monotonic_seconds();
            if (now >= until) return;
            backoff_.idle(until - now);
        } else {
            backoff_.idle();
        }
        seen_ = probe_mpi(source);
        if (seen_) {
            backoff_.reset();
            return;
        }
    }
}

void MpiTransport::abort(int code) {
    comm_.abort(code);
    std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace mpisweep
