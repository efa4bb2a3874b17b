// mpisweep::run: the collective start-up (same grid everywhere, the file opened on rank 0,
// devices bound, setup hooks run), then the master or worker loop, then one exit code on
// every rank.
#include <mpi.h>
#include <sched.h>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cmath>
#include <optional>
#include <string>

#include "mpisweep/mpisweep.hpp"
#include "platform/interrupt.hpp"
#include "runtime/gpu_startup.hpp"
#include "runtime/in_process.hpp"
#include "runtime/master.hpp"
#include "runtime/notifier.hpp"
#include "runtime/worker.hpp"
#include "store/result_store.hpp"
#include "transport/mpi_check.hpp"
#include "transport/mpi_transport.hpp"
#include "transport/node.hpp"

namespace mpisweep {
namespace {

constexpr int kRoot = 0;
// The longest nap of a rank waiting for a message: the master, on which every worker waits,
// looks more often.
constexpr std::chrono::microseconds kMasterMaxSleep{200};
constexpr std::chrono::microseconds kWorkerMaxSleep{1000};

struct Spin {
    std::chrono::microseconds time;
    bool adaptive;  ///< see WaitPredictor
};

/// Initializes MPI unless the caller did, and then finalizes it on the way out.
class MpiSession {
public:
    MpiSession() {
        int initialized = 0;
        MPISWEEP_MPI_CHECK(MPI_Initialized(&initialized));
        if (!initialized) {
            MPISWEEP_MPI_CHECK(MPI_Init(nullptr, nullptr));
            owned_ = true;
        }
    }
    ~MpiSession() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (owned_ && !finalized) MPI_Finalize();
    }
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

private:
    bool owned_ = false;
};

std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
}

/// How a waiting rank yield-polls before it sleeps. With a core per rank on this node,
/// polling costs nobody anything and keeps round trips short; with more ranks than cores
/// (oversubscribed), an idle worker that polls takes the core the master needs, so workers
/// sleep soon there, and the master spins only while its waits are short (WaitPredictor).
/// Not the workers: with one task per message at np = 5 on 2 cores, workers that napped at
/// once after a long wait cost 10-25 % of the rate. Collective.
Spin spin_of(const boost::mpi::communicator& comm, bool is_master) {
    MPI_Comm node = MPI_COMM_NULL;
    MPISWEEP_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    int ranks_here = 1;
    MPI_Comm_size(node, &ranks_here);
    MPI_Comm_free(&node);
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    const int cores = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
    const bool oversubscribed = ranks_here > cores;
    return {std::chrono::microseconds(is_master || !oversubscribed ? 200 : 0), is_master && oversubscribed};
}

void check_duration(const char* name, Duration value) {
    if (!(value.count() >= 0) || !std::isfinite(value.count())) {
        throw std::invalid_argument(std::string(name) + ": expected a finite time >= 0 seconds, got " +
                                    std::to_string(value.count()));
    }
}

/// Options checked before anything is created; throws std::invalid_argument naming the option.
void validate(const Grid& grid, const Options& options) {
    if (grid.size() == 0) throw std::invalid_argument("the grid is empty: give at least one parameter");
    if (options.output.empty()) throw std::invalid_argument("output: expected a file path, got ''");
    if (options.retry_failed && !options.resume) {
        throw std::invalid_argument("retry_failed: only meaningful with resume");
    }
    if (options.resume && options.overwrite) {
        throw std::invalid_argument(
            "resume and overwrite: choose one (resume keeps the file, overwrite replaces it)");
    }
    check_duration("batch_target", options.batch_target);
    if (options.flush_rows == 0) throw std::invalid_argument("flush_rows: expected >= 1, got 0");
    check_duration("flush_interval", options.flush_interval);
    check_duration("progress_interval", options.progress_interval);
    check_duration("drain_grace", options.drain_grace);
    check_duration("heartbeat_timeout", options.heartbeat_timeout);
    check_duration("deadline_margin", options.deadline_margin);
    // The scheduler checks its own options, with the same code that uses them.
    Scheduler probe(0, {WorkerId(0)}, options.scheduler);
}

/// Rank 0 checks the options and opens the file; every rank learns whether that worked.
bool open_store(const boost::mpi::communicator& comm, const Grid& grid, const Options& options,
                std::optional<ResultStore>& store) {
    bool ok = true;
    if (comm.rank() == kRoot) {
        try {
            validate(grid, options);
            StoreOptions so;
            so.path = options.output;
            so.command = options.command;
            so.mpi_size = comm.size();
            so.overwrite = options.overwrite;
            so.break_lock = options.break_lock;
            so.flush_rows = options.flush_rows;
            // Whole milliseconds; beyond a day a flush by time is as good as never.
            so.flush_interval = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::min(options.flush_interval, Duration(std::chrono::hours(24))));
            so.on_message = [&options](MessageLevel level, const std::string& text) {
                Notifier(options.observer).message(level, text);
            };
            store.emplace(options.resume ? ResultStore::open_for_resume(grid, so)
                                         : ResultStore::create(grid, so));
        } catch (const std::exception& e) {
            Notifier(options.observer).message(MessageLevel::Error, e.what());
            ok = false;
        }
    }
    boost::mpi::broadcast(comm, ok, kRoot);
    return ok;
}

/// Runs the worker's setup hook (its GPU is bound by now); failures make it "not ready".
WorkerHello prepare_worker(WorkerInfo& info, const Options& options, const GpuStartup& gpus) {
    WorkerHello hello;
    hello.host = info.host;
    hello.node_devices = std::max(info.node_gpus, 0);
    hello.warning = gpus.warning;
    hello.device = info.device;
    try {
        if (!gpus.error.empty()) throw std::runtime_error(gpus.error);
        if (options.setup) options.setup(info);
    } catch (const std::exception& e) {
        hello.ready = false;
        hello.error = e.what();
    }
    return hello;
}

/// What rank 0 knows of each rank; tells the observer about workers that take no tasks.
std::vector<WorkerSlot> worker_slots(const std::vector<WorkerHello>& hellos, const Notifier& notify) {
    std::vector<WorkerSlot> slots(hellos.size());
    for (std::size_t rank = 0; rank < hellos.size(); ++rank) {
        slots[rank].host = hellos[rank].host;
        slots[rank].device = hellos[rank].device;
        slots[rank].ready = hellos[rank].ready;
    }
    for (std::size_t rank = hellos.size() > 1 ? 1 : 0; rank < hellos.size(); ++rank) {
        const WorkerHello& h = hellos[rank];
        const std::string who = "rank " + std::to_string(rank) + " on " + h.host;
        if (!h.warning.empty()) notify.message(MessageLevel::Warning, h.warning);
        if (!h.ready) {
            slots[rank].retired_why = "setup failed: " + h.error;
            notify.message(MessageLevel::Warning, who + " takes no tasks: " + h.error);
            notify.worker_retired(static_cast<int>(rank), h.host, "setup failed: " + h.error);
        }
    }
    return slots;
}

struct SweepEnd {
    int exit_code = kExitOk;
    SweepCounts counts;
};

InProcessGpus gpus_of(GpuStartup& gpus) {
    InProcessGpus out;
    if (gpus.master) out.master = &*gpus.master;
    if (gpus.gpu_sweep) out.worker = &gpus.worker;
    return out;
}

SweepEnd run_master(const boost::mpi::communicator& comm, const Grid& grid, const TaskFunction& task,
                    const Options& options, ResultStore& store, const std::vector<WorkerHello>& hellos,
                    const WorkerInfo& info, Spin spin, GpuStartup& gpus) {
    const bool alone = comm.size() == 1;
    std::vector<WorkerId> ids;
    for (int rank = alone ? 0 : 1; rank < comm.size(); ++rank) ids.emplace_back(rank);
    // A new file has every task pending: reading N statuses back would only cost time.
    Scheduler scheduler(grid.size(), ids, options.scheduler,
                        options.resume ? store.settled() : SettledTasks{}, options.retry_failed);
    std::vector<WorkerSlot> slots = worker_slots(hellos, Notifier(options.observer));
    for (WorkerId id : ids) {
        if (!slots[static_cast<std::size_t>(id.value())].ready) scheduler.retire(id);
    }
    SweepEnd end;
    if (alone) {
        end.exit_code = run_in_process(
            grid, task, options, store, scheduler, std::move(slots), info,
            [&comm](int code) { comm.abort(code); }, gpus_of(gpus));
    } else {
        MpiTransport transport(comm, spin.time, kMasterMaxSleep, spin.adaptive);
        Master master(transport, grid, options, store, scheduler, std::move(slots));
        if (gpus.master) master.use_gpus(*gpus.master);
        end.exit_code = master.run();
    }
    const bool failure_told = store.write_failure() != nullptr;  // the master's last line said it
    store.close();
    if (!failure_told && store.write_failure() != nullptr) {
        // Only the close met the full disk: every settled task is in the journal, the file
        // is not whole. Told as the master tells a failure during the sweep.
        Notifier(options.observer)
            .message(MessageLevel::Error,
                     std::string(store.write_failure()->what()) +
                         ": the file was being closed (every settled task is in its journal); free space, "
                         "then run the same command again with --resume");
        end.exit_code = kExitInterrupted;
    }
    end.counts = scheduler.counts();
    return end;
}

/// Runs the teardown hook of a worker; every rank's failure is told to rank 0's observer.
/// Collective.
void teardown(const boost::mpi::communicator& comm, const WorkerInfo& info, const Options& options,
              bool run_hook) {
    std::string failure;
    if (run_hook && options.teardown) {
        try {
            options.teardown(info);
        } catch (const std::exception& e) {
            failure = "rank " + std::to_string(comm.rank()) + ": teardown failed: " + e.what();
        }
    }
    std::vector<std::string> failures;
    boost::mpi::gather(comm, failure, failures, kRoot);
    const Notifier notify(options.observer);
    for (const std::string& text : failures) {
        if (!text.empty()) notify.message(MessageLevel::Warning, text);
    }
}

}  // namespace

int run(const Grid& grid, const TaskFunction& task, const Options& options) {
    MpiSession session;
    // Our own communicator: our messages never match the application's.
    boost::mpi::communicator comm(MPI_COMM_WORLD, boost::mpi::comm_duplicate);
    const bool is_master = comm.rank() == kRoot;
    // After MPI_Init, so that no handler of the MPI library replaces ours. The master, which
    // saves the file, gets less patience than the workers: it ends the job itself.
    std::optional<detail::InterruptScope> interrupts;
    if (options.handle_signals) interrupts.emplace(is_master ? 2.0 : 5.0);
    const bool is_worker = comm.size() == 1 || !is_master;

    // Every rank must decode the same grid: compare a hash of its canonical form.
    std::uint64_t root_hash = fnv1a(grid.to_json());
    const std::uint64_t my_hash = root_hash;
    boost::mpi::broadcast(comm, root_hash, kRoot);
    if (!boost::mpi::all_reduce(comm, my_hash == root_hash, std::logical_and<bool>())) {
        if (is_master) {
            Notifier(options.observer)
                .message(MessageLevel::Error,
                         "the ranks were given different grids; build the grid the same way on every rank");
        }
        return kExitUsage;
    }

    // The GPUs first: options that cannot work on these nodes leave no file behind.
    WorkerInfo info = describe_rank(comm);
    GpuStartup gpus;
    if (!start_gpus(comm, grid, options, info, is_worker, gpus)) return kExitUsage;

    std::optional<ResultStore> store;
    if (!open_store(comm, grid, options, store)) return kExitUsage;

    const Spin spin = spin_of(comm, is_master);
    WorkerHello hello;
    if (is_worker) hello = prepare_worker(info, options, gpus);
    std::vector<WorkerHello> hellos;
    boost::mpi::gather(comm, hello, hellos, kRoot);

    SweepEnd end;
    try {
        if (is_master) {
            end = run_master(comm, grid, task, options, *store, hellos, info, spin, gpus);
        } else {
            // Reports go back about twice per batch, so freed slots are refilled in time.
            MpiTransport transport(comm, spin.time, kWorkerMaxSleep, spin.adaptive);
            Worker worker(transport, grid, task, info, options.batch_target.count() / 2);
            worker.heartbeat_every(options.heartbeat_timeout.count() / 4);
            if (gpus.gpu_sweep) worker.use_gpus(gpus.worker);
            worker.run();
        }
    } catch (const std::exception& e) {
        // The others would wait for this rank forever: end the whole job. The file keeps
        // what was flushed, and --resume continues from it. Told on this rank: it cannot
        // reach rank 0 any more.
        Notifier(options.observer)
            .message(MessageLevel::Error, "rank " + std::to_string(comm.rank()) + ": " + e.what());
        comm.abort(kExitError);
    }
    teardown(comm, info, options, is_worker && hello.ready);
    boost::mpi::broadcast(comm, end.exit_code, kRoot);
    if (is_master) Notifier(options.observer).end(end.counts, end.exit_code);
    // mpirun passes signals on only while its job runs: stay up for the rest of a burst.
    if (options.handle_signals) detail::hold_after_signal();
    return end.exit_code;
}

}  // namespace mpisweep
