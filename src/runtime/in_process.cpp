#include "runtime/in_process.hpp"

#include "runtime/worker.hpp"
#include "transport/local_network.hpp"

namespace mpisweep {

int run_in_process(const Grid& grid, const TaskFunction& task, const Options& options, ResultStore& store,
                   Scheduler& scheduler, std::vector<WorkerSlot> slots, const WorkerInfo& info,
                   std::function<void(int)> abort, InProcessGpus gpus) {
    const Clock& clock = SteadyClock::instance();
    LocalNetwork net(clock, {kMasterRank});
    net.on_abort(std::move(abort));
    // Each report at once: the master runs between two tasks anyway.
    Worker worker(net.worker(kMasterRank), grid, task, info, 0);
    Master master(net.master(), grid, options, store, scheduler, std::move(slots));
    if (gpus.master != nullptr) master.use_gpus(*gpus.master);
    if (gpus.worker != nullptr) worker.use_gpus(*gpus.worker);
    // While a task runs the master cannot: a task that polls cancelled() lets it look at the
    // signals and the deadline, so that a drain reaches the task as it would on many ranks.
    worker.on_cancel_poll([&master] { master.check_stop(); });
    master.start();
    while (master.step()) {
        store.write_journal();  // before a task blocks this rank for as long as it runs
        if (!worker.step() && net.waiting_for_master() == 0) clock.sleep_until(master.next_wake());
    }
    return master.exit_code();
}

}  // namespace mpisweep
