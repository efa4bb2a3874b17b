#pragma once
// Conversions between Python objects and the engine's values: a grid point's values to
// Python, a task's returned mapping to a TaskResult, a TaskResult back to a dict. Call with
// the GIL held.
#include <pybind11/pybind11.h>

#include "mpisweep/task.hpp"
#include "mpisweep/value.hpp"

namespace mpisweep::python {

namespace py = pybind11;

/// A parameter value as a Python int, float, str or bool (a new reference).
py::object to_python(const Value& value);

/// A result field as Python: numbers, str, and arrays as numpy float64 arrays (a list where
/// numpy is not installed).
py::object to_python(const ResultValue& value);

/// Every field of a result, as a dict.
py::dict to_python(const TaskResult& result);

/// What a task returned: a dict (or any mapping) of field name -> value, or None for no
/// results. Values: float, int, bool, str, numpy scalars, lists or tuples of numbers, numpy
/// arrays of any numeric dtype (1-d, as float64), objects with __array__ (a CPU tensor); a
/// field that is None is left out. Throws std::invalid_argument naming the field otherwise.
TaskResult to_task_result(py::handle returned);

}  // namespace mpisweep::python
