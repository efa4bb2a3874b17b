#include "transport/mpi_transport.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace mpisweep {

namespace {
/// Pre-posted receives: a worker hears only from the master (a task batch per report, and
/// the odd cancel); the master gets a report from each worker in turn, and frames beyond the
/// ring wait in MPI until a receive is free, so the ring need not grow with the job.
int receive_slots(const boost::mpi::communicator& comm) {
    constexpr int kWorkerSlots = 8;
    constexpr int kMasterSlotsMost = 512;
    if (comm.rank() != kMasterRank) return kWorkerSlots;
    return std::clamp(2 * (comm.size() - 1), kWorkerSlots, kMasterSlotsMost);
}
}  // namespace

MpiTransport::MpiTransport(const boost::mpi::communicator& comm, std::chrono::microseconds spin,
                           std::chrono::microseconds max_sleep, bool adaptive)
    : comm_(comm),
      sends_(comm),
      inbox_(comm, receive_slots(comm)),
      backoff_(max_sleep, spin, adaptive),
      spin_s_(std::chrono::duration<double>(spin).count()) {}

std::optional<Envelope> MpiTransport::probe(int source) {
    std::optional<Envelope> e = inbox_.ready(source);
    if (e) backoff_.reset();
    return e;
}

void MpiTransport::wait(int source, double until) {
    if (inbox_.holding(source)) return;  // found by the last wait, not received yet
    // The caller has just probed and found nothing: back off first, then look. The clock
    // (~100 ns here, as much as a probe) is read only once the back-off sleeps: the spin
    // before is short. A large message still arriving is tested on each look.
    for (;;) {
        if (sends_.reap_due()) sends_.reap();
        const std::uint64_t moved = sends_.completed() + inbox_.completed();
        if (moved != transfers_done_) {  // transfers are moving: yield for the next ones too
            transfers_done_ = moved;
            transfer_since_ = -1;
        }
        if (transferring()) {
            // Without a single-copy mechanism a message over the eager limit moves a
            // fragment at a time, each when both ranks call MPI: a nap here would stall it.
            const double now = monotonic_seconds();
            if (transfer_since_ < 0) transfer_since_ = now;
            if (now >= until) return;
            if (now - transfer_since_ < kTransferSpin) {
                std::this_thread::yield();
                if (inbox_.ready(source)) break;
                continue;
            }
        }
        if (backoff_.sleeping()) {
            const double now = monotonic_seconds();
            if (now >= until) return;
            backoff_.idle(until - now);
        } else {
            backoff_.idle();
        }
        if (inbox_.ready(source)) break;
    }
    backoff_.reset();
}

bool MpiTransport::settle(double until) {
    const double start = monotonic_seconds();
    for (;;) {
        sends_.reap();
        if (!sends_.needs_progress()) return true;  // the small ones went out whole
        const double now = monotonic_seconds();
        if (now >= until) return false;
        // A busy master takes a report within kTransferSpin; one that does not, naps between
        // looks rather than taking the core from the ranks that compute.
        if (now - start < kTransferSpin) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
}

void MpiTransport::abort(int code) {
    comm_.abort(code);
    std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace mpisweep
