#pragma once
// What a Python task sees: ctx (params, state, worker, task_id, attempt, cancelled()), with
// ctx.params a read-only mapping over the task's grid point whose values are converted only
// when asked for. Both objects are reused from task to task while nobody else holds them.
#include <cstdint>
#include <memory>
#include <optional>
#include <pybind11/pybind11.h>
#include <vector>

#include "mpisweep/grid.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep::python {

namespace py = pybind11;

/// Where a worker runs, as setup, tasks (ctx.worker) and teardown see it.
struct PyWorker {
    WorkerInfo info;
    /// The CUDA ordinal frameworks see in this process: 0 for a worker with a GPU (the
    /// process's CUDA_VISIBLE_DEVICES holds its GPUs), -1 on CPU.
    int device = -1;
    /// Every GPU of the worker as this process sees them: 0..k-1; empty on CPU.
    std::vector<int> devices;
};

/// ctx.params: a Mapping from parameter name to value over one grid point.
class Params {
public:
    /// `names`: the grid's parameter names as interned Python strings, in grid order.
    explicit Params(std::shared_ptr<const std::vector<py::object>> names) : names_(std::move(names)) {}

    /// Looks at `point` (which must outlive the use) until detach().
    void attach(const Point& point) { point_ = &point; }
    /// Keeps a copy of the point: for a Params that outlives its task.
    void detach();

    std::size_t size() const { return names_->size(); }
    /// The value of parameter `key`; throws py::key_error when there is none.
    py::object get(py::handle key) const;
    py::object get_or(py::handle key, py::object fallback) const;
    bool contains(py::handle key) const { return index_of(key) >= 0; }
    py::list keys() const;
    py::list values() const;
    py::list items() const;
    py::dict to_dict() const;
    const std::vector<py::object>& names() const { return *names_; }

private:
    long index_of(py::handle key) const;  // -1 when absent

    std::shared_ptr<const std::vector<py::object>> names_;
    const Point* point_ = nullptr;
    std::optional<Point> own_;
};

/// ctx: the context of one task. After its task returned it still answers task_id, attempt
/// and params (a detached copy), and cancelled() is false.
struct Context {
    py::object params;  ///< a Params
    py::object state;   ///< what setup returned (None without setup)
    py::object worker;  ///< a PyWorker
    std::uint64_t task_id = 0;
    int attempt = 1;
    const TaskContext* running = nullptr;  ///< while its task runs

    bool cancelled() const { return running != nullptr && running->cancelled(); }
};

/// Adds Worker, Params and Context to the module.
void bind_context(py::module_& m);

/// The names as interned Python strings (so that ctx.params["lr"] finds "lr" by identity).
std::shared_ptr<const std::vector<py::object>> interned_names(const std::vector<std::string>& names);

}  // namespace mpisweep::python
