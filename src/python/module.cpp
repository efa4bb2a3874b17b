// mpisweep._engine: the C++ engine for the mpisweep Python package. mpisweep.run (sweep.py)
// checks its arguments and calls run() here, which calls the C++ mpisweep::run() with the
// Python task wrapped as a TaskFunction; the GIL is released while the engine runs.
#include <chrono>
#include <memory>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mpisweep/mpisweep.hpp"
#include "python/context.hpp"
#include "python/mpi_session.hpp"
#include "python/observer.hpp"
#include "python/session.hpp"

namespace mpisweep::python {
namespace {

template <class T>
T option(const py::dict& options, const char* name) {
    if (!options.contains(name)) throw std::invalid_argument(std::string("_engine.run: no option ") + name);
    return options[name].cast<T>();
}

template <class D>
D seconds_as(double s) {
    return std::chrono::duration_cast<D>(std::chrono::duration<double>(s));
}

std::optional<WallTime> deadline_of(const std::string& text) {
    if (text.empty()) return std::nullopt;
    const auto now = std::chrono::system_clock::now();
    std::optional<WallTime> at = parse_deadline(text, now);  // DeadlineError is a ValueError
    if (!at) {
        std::string why;
        const std::optional<JobEnd> end = job_end_time(&why);
        if (!end) {
            throw std::invalid_argument("deadline 'auto': no end time of a batch job found (" + why +
                                        "); give the time instead: an ISO 8601 time, unix seconds or "
                                        "+DURATION such as '+2h'");
        }
        at = end->at;
    } else if (*at <= now) {
        throw std::invalid_argument("deadline '" + text +
                                    "': that time has passed; expected a time in the future");
    }
    return at;
}

Options options_of(const py::dict& d) {
    Options o;
    o.output = option<std::string>(d, "output");
    o.resume = option<bool>(d, "resume");
    o.retry_failed = option<bool>(d, "retry_failed");
    o.overwrite = option<bool>(d, "overwrite");
    o.command = option<std::string>(d, "command");
    o.scheduler.max_attempts = option<int>(d, "max_attempts");
    o.scheduler.max_worker_errors = option<int>(d, "max_worker_errors");
    o.scheduler.speculate = option<bool>(d, "speculate");
    o.deadline = deadline_of(option<std::string>(d, "deadline"));
    o.deadline_margin = seconds_as<decltype(o.deadline_margin)>(option<double>(d, "deadline_margin"));
    o.drain_grace = seconds_as<decltype(o.drain_grace)>(option<double>(d, "drain_grace"));
    o.heartbeat_timeout = seconds_as<decltype(o.heartbeat_timeout)>(option<double>(d, "heartbeat_timeout"));
    o.progress_interval = decltype(o.progress_interval)(option<double>(d, "progress"));
    o.batch_target = seconds_as<decltype(o.batch_target)>(option<double>(d, "batch_target"));
    o.flush_interval = seconds_as<decltype(o.flush_interval)>(option<double>(d, "flush_interval"));
    o.devices.devices = option<std::vector<int>>(d, "devices");
    o.devices.slots_per_gpu = option<int>(d, "slots_per_gpu");
    o.devices.cpu_only = option<bool>(d, "cpu_only");
    // No cudaSetDevice in the engine: the session sets CUDA_VISIBLE_DEVICES to the worker's GPUs
    // before user code first touches CUDA, which a CUDA context made here would defeat.
    o.devices.bind_cuda = false;
    o.handle_signals = option<bool>(d, "handle_signals");
    return o;
}

Hooks hooks_of(const py::object& task, const py::dict& d) {
    Hooks h;
    h.task = task;
    h.setup = d["setup"];
    h.teardown = d["teardown"];
    h.on_result = d["on_result"];
    h.describe_exception = d["describe_exception"];
    h.cancelled = d["cancelled"];
    return h;
}

/// _engine.run(grid_json, task, hooks, options) -> exit code. See sweep.py.
int run_sweep(const std::string& grid_json, const py::object& task, const py::dict& hooks,
              const py::dict& options) {
    const Grid grid = parse_grid_json(grid_json);  // SpecError: sweep.py checked the usual mistakes
    Options o = options_of(options);
    auto session = std::make_shared<Session>(hooks_of(task, hooks), grid, !o.devices.cpu_only);
    o.observer = std::make_shared<PythonObserver>(session);
    o.setup = [session](const WorkerInfo& info) { session->setup(info); };
    o.teardown = [session](const WorkerInfo& info) { session->teardown(info); };
    const TaskFunction function = [session](const TaskContext& ctx) { return session->run_task(ctx); };
    ensure_mpi();
    // The engine runs without the GIL; each task and hook takes it (Session).
    struct EngineScope {
        Session& session;
        explicit EngineScope(Session& s) : session(s) { session.begin_engine(); }
        ~EngineScope() { session.end_engine(); }
    } engine(*session);
    return run(grid, function, o);
}

}  // namespace
}  // namespace mpisweep::python

PYBIND11_MODULE(_engine, m) {
    namespace mp = mpisweep::python;
    m.doc() = "The C++ engine of the mpisweep package (use mpisweep.run)";
    mp::bind_context(m);
    m.def("run", &mp::run_sweep, pybind11::arg("grid_json"), pybind11::arg("task"), pybind11::arg("hooks"),
          pybind11::arg("options"));
    pybind11::register_exception<mpisweep::SpecError>(m, "SpecError", PyExc_ValueError);
}
