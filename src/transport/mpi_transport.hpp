#pragma once
// The Transport of an MPI job: point-to-point messages on the sweep's own communicator,
// encoded by the wire archive (hot messages) or Boost.MPI (the rest) into reused buffers
// (channel.hpp); received through an inbox that hands out only messages that have fully
// arrived (mpi_inbox.hpp), so no receive waits on a sender. Waiting polls MPI and backs off
// (platform/backoff.hpp): Open MPI's shared memory transport has no descriptor to block on.
#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <optional>

#include "platform/backoff.hpp"
#include "transport/channel.hpp"
#include "transport/mpi_inbox.hpp"
#include "transport/transport.hpp"

namespace mpisweep {

class MpiTransport final : public Transport {
public:
    /// `spin`: how long wait() yield-polls before it sleeps; `max_sleep`: its longest nap;
    /// `adaptive`: spin only while waits are short (WaitPredictor).
    MpiTransport(const boost::mpi::communicator& comm, std::chrono::microseconds spin,
                 std::chrono::microseconds max_sleep, bool adaptive);

    const Clock& clock() const override { return SteadyClock::instance(); }

    void send(int dest, const TaskBatch& batch) override { post(dest, Tag::Tasks, batch); }
    void send(int dest, const CancelRequest& request) override { post(dest, Tag::Cancel, request); }
    void send(int dest, const ReportBatch& reports) override { post(dest, Tag::Reports, reports); }
    void send(int dest, const InterruptNotice& notice) override { post(dest, Tag::Interrupt, notice); }
    void send(int dest, const GpuMemoryReport& report) override { post(dest, Tag::Gpu, report); }
    void send(int dest, Tag tag) override { sends_.post_empty(dest, static_cast<int>(tag)); }

    std::optional<Envelope> probe(int source) override;
    void receive(const Envelope& e, TaskBatch& batch) override { inbox_.receive(e, batch); }
    void receive(const Envelope& e, CancelRequest& request) override { inbox_.receive(e, request); }
    void receive(const Envelope& e, ReportBatch& reports) override { inbox_.receive(e, reports); }
    void receive(const Envelope& e, InterruptNotice& notice) override { inbox_.receive(e, notice); }
    void receive(const Envelope& e, GpuMemoryReport& report) override { inbox_.receive(e, report); }
    void receive(const Envelope& e) override { inbox_.receive_empty(e); }

    void progress() override {
        if (sends_.reap_due()) sends_.reap();
    }
    void flush() override { sends_.wait_all(); }
    bool settle(double until) override;
    void wait(int source, double until) override;
    /// Slack longer than the spin: a yield-poll would only take the core from the workers.
    void set_slack(double seconds) override { backoff_.allow_spin(seconds < spin_s_); }
    [[noreturn]] void abort(int code) override;

private:
    /// A send not complete or a large message arriving: wait() yields instead of napping,
    /// while transfers keep completing and for kTransferSpin after the last one did (a peer
    /// that hangs, or runs a long task before it calls MPI again, must not keep this rank's
    /// core busy; other messages arriving meanwhile do not extend it).
    bool transferring() const { return sends_.needs_progress() || inbox_.arriving(); }
    static constexpr double kTransferSpin = 2e-3;
    double transfer_since_ = -1;        ///< monotonic seconds; < 0: none seen since one completed
    std::uint64_t transfers_done_ = 0;  ///< sends and large receives completed, at the last look

    template <class T>
    void post(int dest, Tag tag, const T& message) {
        sends_.post(dest, static_cast<int>(tag), message);
    }
    const boost::mpi::communicator& comm_;
    SendQueue sends_;
    MpiInbox inbox_;
    Backoff backoff_;
    double spin_s_;  ///< the spin's length, seconds
};

}  // namespace mpisweep
