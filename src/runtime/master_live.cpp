// The live view of `mpisweep status FILE --running`, built on rank 0 from what the master
// holds anyway (the scheduler's copies, the worker slots), every kLiveInterval: no work per
// task. The store writes it into the owner record from the record's own thread.
#include <algorithm>

#include "platform/clock.hpp"
#include "runtime/master.hpp"

namespace mpisweep {
namespace {

// Between views while the flush interval is longer (default 2 s), and at least this apart.
constexpr Seconds kLiveInterval = 2.0, kLiveMinInterval = 0.1;

}  // namespace

void Master::note_retired(int rank, std::string why, Seconds now) {
    WorkerSlot& slot = workers_[static_cast<std::size_t>(rank)];
    slot.retired_why = std::move(why);
    slot.retired_at = now;
    notify_.worker_retired(rank, slot.host, slot.retired_why);
}

void Master::publish_live(Seconds now) {
    if (now < next_live_) return;
    const Seconds interval = std::clamp(options_.flush_interval.count(), kLiveMinInterval, kLiveInterval);
    next_live_ = now + interval;
    const auto unix_at = [&](Seconds t) { return unix_start_ + (t - start_); };
    store::LiveSnapshot view;
    view.written = unix_at(now);
    view.interval = interval;
    view.run = options_.run_name;
    const auto counts = scheduler_.counts();
    view.total = counts.total;
    view.done = counts.done;
    view.failed = counts.failed;
    view.workers = counts.workers;
    const Scheduler::HeldCopies held = scheduler_.held_copies();
    view.queued = held.queued;
    for (const Scheduler::HeldCopy& c : held.running) {
        const WorkerSlot& slot = workers_[static_cast<std::size_t>(c.worker.value())];
        view.copies.push_back({c.task, c.attempt, c.worker.value(), slot.host, slot.device, c.speculative,
                               unix_at(c.dispatched), unix_at(c.started)});
    }
    for (int rank = first_worker_rank(); rank < static_cast<int>(workers_.size()); ++rank) {
        const WorkerSlot& slot = workers_[static_cast<std::size_t>(rank)];
        if (slot.lost)
            view.stopped_workers.push_back({rank, slot.host, "lost", unix_at(slot.last_heard), ""});
        else if (!slot.retired_why.empty())
            view.stopped_workers.push_back(
                {rank, slot.host, "retired", unix_at(slot.retired_at), slot.retired_why});
    }
    store_.publish_live(std::move(view));
}

}  // namespace mpisweep
