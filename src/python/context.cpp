#include "python/context.hpp"

#include <pybind11/stl.h>
#include <string>

#include "python/values.hpp"

namespace mpisweep::python {

void Params::detach() {
    if (point_ == nullptr || (own_ && point_ == &*own_)) return;
    own_.emplace(*point_);
    point_ = &*own_;
}

long Params::index_of(py::handle key) const {
    const std::vector<py::object>& names = *names_;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i].ptr() == key.ptr()) return static_cast<long>(i);  // an interned literal: the usual case
    }
    if (!PyUnicode_Check(key.ptr())) return -1;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (PyUnicode_Compare(names[i].ptr(), key.ptr()) == 0) return static_cast<long>(i);
    }
    return -1;
}

py::object Params::get(py::handle key) const {
    const long i = index_of(key);
    if (i < 0 || point_ == nullptr) {
        std::string known;
        for (const py::object& name : *names_)
            known += (known.empty() ? "" : ", ") + name.cast<std::string>();
        throw py::key_error(py::repr(key).cast<std::string>() + " (the parameters are " + known + ")");
    }
    return to_python(point_->values()[static_cast<std::size_t>(i)]);
}

py::object Params::get_or(py::handle key, py::object fallback) const {
    return contains(key) ? get(key) : std::move(fallback);
}

py::list Params::keys() const {
    py::list out;
    for (const py::object& name : *names_) out.append(name);
    return out;
}

py::list Params::values() const {
    py::list out;
    if (point_ != nullptr) {
        for (const Value& v : point_->values()) out.append(to_python(v));
    }
    return out;
}

py::list Params::items() const {
    py::list out;
    for (std::size_t i = 0; point_ != nullptr && i < names_->size(); ++i) {
        out.append(py::make_tuple((*names_)[i], to_python(point_->values()[i])));
    }
    return out;
}

py::dict Params::to_dict() const {
    py::dict out;
    for (std::size_t i = 0; point_ != nullptr && i < names_->size(); ++i) {
        out[(*names_)[i]] = to_python(point_->values()[i]);
    }
    return out;
}

std::shared_ptr<const std::vector<py::object>> interned_names(const std::vector<std::string>& names) {
    auto out = std::make_shared<std::vector<py::object>>();
    for (const std::string& name : names) {
        PyObject* s = PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
        if (s == nullptr) throw py::error_already_set();
        PyUnicode_InternInPlace(&s);
        out->push_back(py::reinterpret_steal<py::object>(s));
    }
    return out;
}

namespace {

std::vector<std::string> visible_devices(const PyWorker& w) {
    if (!w.info.visible_devices.empty() || w.info.device < 0) return w.info.visible_devices;
    return {w.info.visible_device.empty() ? std::to_string(w.info.device) : w.info.visible_device};
}

void bind_worker(py::module_& m) {
    py::class_<PyWorker>(m, "Worker",
                         "Where a worker runs: setup(worker), ctx.worker, teardown(worker, state).")
        .def_property_readonly(
            "rank", [](const PyWorker& w) { return w.info.rank; }, "MPI rank")
        .def_property_readonly(
            "world_size", [](const PyWorker& w) { return w.info.world_size; },
            "number of ranks, the master included")
        .def_property_readonly(
            "host", [](const PyWorker& w) { return w.info.host; }, "host name of the node")
        .def_property_readonly("node_local_rank", [](const PyWorker& w) { return w.info.node_local_rank; })
        .def_property_readonly(
            "local_worker_index", [](const PyWorker& w) { return w.info.local_worker_index; },
            "index among the workers of this node (the master excluded)")
        .def_property_readonly(
            "device", [](const PyWorker& w) { return w.device; },
            "the CUDA ordinal of this worker's GPU in this process (0: the only one "
            "CUDA_VISIBLE_DEVICES shows), -1 on CPU")
        .def_property_readonly(
            "visible_device", [](const PyWorker& w) { return w.info.visible_device; },
            "the node's name of that GPU (its CUDA_VISIBLE_DEVICES entry), '' on CPU")
        .def_property_readonly(
            "devices", [](const PyWorker& w) { return w.devices; },
            "every GPU of the worker as CUDA ordinals of this process (0..k-1); [] on CPU")
        .def_property_readonly("visible_devices", &visible_devices,
                               "their CUDA_VISIBLE_DEVICES entries on the node")
        .def("__repr__", [](const PyWorker& w) {
            return "Worker(rank=" + std::to_string(w.info.rank) + ", host='" + w.info.host +
                   "', local_worker_index=" + std::to_string(w.info.local_worker_index) +
                   ", device=" + std::to_string(w.device) + ", visible_device='" + w.info.visible_device +
                   "')";
        });
}

void bind_params(py::module_& m) {
    py::class_<Params>(m, "Params", "ctx.params: a read-only mapping of parameter name -> value.")
        .def("__getitem__", &Params::get)
        .def("get", &Params::get_or, py::arg("key"), py::arg("default") = py::none())
        .def("__contains__", &Params::contains)
        .def("__len__", &Params::size)
        .def("__iter__", [](const Params& p) { return py::iter(p.keys()); })
        .def("keys", &Params::keys)
        .def("values", &Params::values)
        .def("items", &Params::items)
        .def("__eq__", [](const Params& p, py::handle other) { return p.to_dict().equal(other); })
        .def("__repr__",
             [](const Params& p) { return "Params(" + py::repr(p.to_dict()).cast<std::string>() + ")"; });
}

void bind_task_context(py::module_& m) {
    py::class_<Context>(m, "Context", "What a task function receives.")
        .def_readonly("params", &Context::params, "the task's parameters (a Mapping)")
        .def_readonly("state", &Context::state, "what setup returned on this worker (None without setup)")
        .def_readonly("worker", &Context::worker, "where the task runs (rank, host, device ...)")
        .def_readonly("task_id", &Context::task_id, "the task's id: its row in the results file")
        .def_readonly("attempt", &Context::attempt, "1 for the task's first attempt in this run")
        .def("cancelled", &Context::cancelled,
             "True once this copy should stop: another copy won, or the sweep drains. Stop and "
             "return (or raise mpisweep.Cancelled); a result returned then is dropped (kept in a drain).")
        .def("__repr__", [](const Context& c) {
            return "Context(task_id=" + std::to_string(c.task_id) + ", attempt=" + std::to_string(c.attempt) +
                   ", params=" + py::repr(c.params).cast<std::string>() + ")";
        });
}

}  // namespace

void bind_context(py::module_& m) {
    bind_worker(m);
    bind_params(m);
    bind_task_context(m);
}

}  // namespace mpisweep::python
