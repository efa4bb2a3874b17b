#include "python/session.hpp"

#include <stdexcept>

#include "exec/command_env.hpp"
#include "platform/gpu_backend.hpp"
#include "python/values.hpp"

namespace mpisweep::python {

Session::Session(Hooks hooks, const Grid& grid, bool narrow_devices)
    : hooks_(std::move(hooks)), narrow_devices_(narrow_devices), names_(interned_names(grid.names())) {
    state_ = py::none();
}

namespace {

/// Whether the interpreter has a thread besides the one in `self` (who might want the GIL).
bool other_threads(PyThreadState* self) {
    PyThreadState* first = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(self));
    return first != self || PyThreadState_Next(first) != nullptr;
}

}  // namespace

void Session::begin_engine() {
    thread_state_ = PyEval_SaveThread();
    holds_gil_ = false;
}

void Session::end_engine() {
    if (!holds_gil_) PyEval_RestoreThread(thread_state_);
    holds_gil_ = true;
}

Session::Gil::Gil(Session& s) : session_(s) {
    if (!session_.holds_gil_) {
        PyEval_RestoreThread(session_.thread_state_);
        session_.holds_gil_ = true;
    }
}

Session::Gil::~Gil() {
    if (other_threads(session_.thread_state_)) {
        session_.thread_state_ = PyEval_SaveThread();
        session_.holds_gil_ = false;
    }
}

std::string Session::take_exception_text() {
    PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != nullptr && value != nullptr) PyException_SetTraceback(value, traceback);
    py::object exc = py::reinterpret_steal<py::object>(value);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    if (!exc) return "unknown Python error";
    try {
        return hooks_.describe_exception(exc).cast<std::string>();
    } catch (const py::error_already_set& e) {
        return py::str(exc).cast<std::string>() + " (and describing it failed: " + e.what() + ")";
    }
}

Context& Session::next_context() {
    if (!worker_obj_) worker_obj_ = py::cast(PyWorker{});  // setup always makes it; defensive
    if (!params_obj_) {
        params_obj_ = py::cast(Params(names_));
        params_ = &params_obj_.cast<Params&>();
    }
    if (!ctx_obj_) {
        ctx_obj_ = py::cast(Context{});
        ctx_ = &ctx_obj_.cast<Context&>();
        ctx_->worker = worker_obj_;
    }
    ctx_->params = params_obj_;
    ctx_->state = state_;
    return *ctx_;
}

void Session::release_context() {
    ctx_->running = nullptr;
    // Reused while only we hold them (ctx: us; params: us and the ctx). One that the task
    // kept gets its own copy of the point and the next task a fresh object, so what a user
    // kept never changes under them.
    const bool ctx_kept = Py_REFCNT(ctx_obj_.ptr()) > 1;
    if (ctx_kept || Py_REFCNT(params_obj_.ptr()) > 2) {
        params_->detach();
        params_obj_ = py::object();
        params_ = nullptr;
    }
    if (ctx_kept) {
        ctx_obj_ = py::object();
        ctx_ = nullptr;
    }
}

TaskResult Session::run_task(const TaskContext& context) {
    Gil gil(*this);
    Context& ctx = next_context();
    params_->attach(context.params);
    ctx.task_id = context.task_id.value();
    ctx.attempt = context.attempt;
    ctx.running = &context;
    PyObject* returned = PyObject_CallOneArg(hooks_.task.ptr(), ctx_obj_.ptr());
    release_context();
    if (returned == nullptr) {
        if (PyErr_ExceptionMatches(hooks_.cancelled.ptr())) {
            PyErr_Clear();
            throw TaskCancelled();
        }
        throw std::runtime_error(take_exception_text());
    }
    py::object result = py::reinterpret_steal<py::object>(returned);
    try {
        return to_task_result(result);
    } catch (const py::error_already_set&) {
        throw std::runtime_error(take_exception_text());
    }
}

namespace {

/// Whether a worker's node has GPUs: as a command's environment decides it (exec/command.cpp),
/// asking the GPU backend (NVML where present: no CUDA context) when the engine did not say.
bool node_has_gpus(const WorkerInfo& info) {
    if (info.node_gpus >= 0) return info.node_gpus > 0;
    try {
        return !open_gpu_backend(GpuEnvironment::from_process(false))->devices().empty();
    } catch (const std::exception&) {
        return false;  // a bad MPISWEEP_FAKE_GPUS: the engine reports it
    }
}

}  // namespace

void Session::setup(const WorkerInfo& info) {
    Gil gil(*this);
    PyWorker w{info, -1, {}};
    const bool has_gpu = info.device >= 0 || !info.devices.empty();
    if (narrow_devices_ && (has_gpu || node_has_gpus(info))) {
        // Frameworks read CUDA_VISIBLE_DEVICES at their first CUDA call: from here on they
        // see this worker's GPUs as devices 0..k-1, or none on a CPU worker of a GPU node
        // (as a command's environment says, exec/command_env.cpp).
        const std::string visible = has_gpu ? detail::visible_list(info) : std::string();
        py::module_::import("os").attr("environ")["CUDA_VISIBLE_DEVICES"] = py::str(visible);
        const std::size_t count = info.devices.empty() ? (has_gpu ? 1 : 0) : info.devices.size();
        for (std::size_t i = 0; i < count; ++i) w.devices.push_back(static_cast<int>(i));
    } else if (has_gpu) {
        w.devices = info.devices.empty() ? std::vector<int>{info.device} : info.devices;
    }
    w.device = w.devices.empty() ? -1 : w.devices.front();
    worker_obj_ = py::cast(std::move(w));
    if (ctx_) ctx_->worker = worker_obj_;
    if (hooks_.setup.is_none()) return;
    PyObject* state = PyObject_CallOneArg(hooks_.setup.ptr(), worker_obj_.ptr());
    if (state == nullptr) throw std::runtime_error("setup raised " + take_exception_text());
    state_ = py::reinterpret_steal<py::object>(state);
}

void Session::teardown(const WorkerInfo& /*info*/) {
    Gil gil(*this);
    py::object state = std::move(state_);
    state_ = py::none();
    if (ctx_) ctx_->state = state_;
    if (hooks_.teardown.is_none()) return;
    if (!worker_obj_) worker_obj_ = py::cast(PyWorker{});
    PyObject* done =
        PyObject_CallFunctionObjArgs(hooks_.teardown.ptr(), worker_obj_.ptr(), state.ptr(), nullptr);
    if (done == nullptr) throw std::runtime_error(take_exception_text());
    Py_DECREF(done);
}

std::string Session::on_result(TaskId task, const Point& params, const TaskResult& result) {
    Gil gil(*this);
    Params view(names_);
    view.attach(params);
    py::object args[] = {py::int_(task.value()), view.to_dict(), to_python(result)};
    PyObject* raw[] = {args[0].ptr(), args[1].ptr(), args[2].ptr()};
    PyObject* done = PyObject_Vectorcall(hooks_.on_result.ptr(), raw, 3, nullptr);
    if (done == nullptr) return take_exception_text();
    Py_DECREF(done);
    return {};
}

}  // namespace mpisweep::python
