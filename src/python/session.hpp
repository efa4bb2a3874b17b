#pragma once
// One mpisweep.run() call in this process: the Python task, setup, teardown and on_result,
// wrapped as the engine's TaskFunction, WorkerHooks and observer. The engine runs without the
// GIL; each entry point takes it, and gives it back on return when the interpreter has other
// threads. With none (the usual script), it keeps it from one task to the next: nobody else
// could take it, and taking it costs about a third of an empty task's Python overhead.
// The Python objects are released with the GIL held, when the last shared_ptr to the session
// goes, in the caller of run().
#include <pybind11/pybind11.h>
#include <string>

#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"
#include "python/context.hpp"

namespace mpisweep::python {

namespace py = pybind11;

/// The Python callables of a sweep (None where not given).
struct Hooks {
    py::object task;                ///< task(ctx) -> dict or None
    py::object setup;               ///< setup(worker) -> state
    py::object teardown;            ///< teardown(worker, state)
    py::object on_result;           ///< on_result(task_id, params, result) on rank 0
    py::object describe_exception;  ///< exception -> the text kept in /tasks/error
    py::object cancelled;           ///< the exception type a task raises to say it stopped
};

class Session {
public:
    /// Gives the GIL away for the engine (between begin_engine and end_engine, entry points
    /// take it back as they need it). Call with the GIL held, on the thread that calls run().
    void begin_engine();
    /// Holds the GIL again, as the caller of run() expects.
    void end_engine();

    /// `narrow_devices`: set CUDA_VISIBLE_DEVICES of a worker to its GPU (or to none on CPU)
    /// before setup, so that frameworks see exactly that GPU.
    Session(Hooks hooks, const Grid& grid, bool narrow_devices);

    /// The engine's TaskFunction: calls task(ctx) and converts what it returns. A Python
    /// exception fails the attempt with describe_exception's text; Cancelled cancels it.
    TaskResult run_task(const TaskContext& context);
    /// The engine's setup hook: runs setup(worker) and keeps what it returns as ctx.state.
    void setup(const WorkerInfo& info);
    /// The engine's teardown hook: teardown(worker, state), then drops the state.
    void teardown(const WorkerInfo& info);
    /// Whether the script gave an on_result.
    bool wants_results() const { return !hooks_.on_result.is_none(); }
    /// Calls on_result(task_id, params, result) with params and result as dicts; returns
    /// what it raised as describe_exception's text, "" when it returned.
    std::string on_result(TaskId task, const Point& params, const TaskResult& result);

private:
    /// The GIL for one entry point: taken if the engine thread does not hold it; given back
    /// at the end if another Python thread exists.
    class Gil {
    public:
        explicit Gil(Session& s);
        ~Gil();
        Gil(const Gil&) = delete;
        Gil& operator=(const Gil&) = delete;

    private:
        Session& session_;
    };

    /// The pending Python exception as the text of a failed attempt; clears it.
    std::string take_exception_text();
    /// A fresh ctx, or the last one when nobody else kept it.
    Context& next_context();
    void release_context();
    PyWorker& worker() { return worker_obj_.cast<PyWorker&>(); }

    Hooks hooks_;
    bool narrow_devices_;
    PyThreadState* thread_state_ = nullptr;  ///< of the thread that runs the engine
    bool holds_gil_ = true;
    std::shared_ptr<const std::vector<py::object>> names_;
    py::object worker_obj_;   ///< a PyWorker, made by setup (or by the first task)
    py::object state_;        ///< what setup returned
    py::object ctx_obj_;      ///< the Context handed to tasks
    py::object params_obj_;   ///< the Params it holds
    Context* ctx_ = nullptr;  ///< inside ctx_obj_
    Params* params_ = nullptr;
};

}  // namespace mpisweep::python
