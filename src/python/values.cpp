#include "python/values.hpp"

#include <pybind11/numpy.h>
#include <stdexcept>
#include <string>
#include <variant>

namespace mpisweep::python {
namespace {

[[noreturn]] void bad_field(const std::string& name, const std::string& what) {
    throw std::invalid_argument("result '" + name + "': " + what);
}

std::string type_name(py::handle value) {
    return Py_TYPE(value.ptr())->tp_name;
}

std::int64_t to_int64(py::handle value, const std::string& name) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) bad_field(name, py::repr(value).cast<std::string>() + " does not fit in 64 bits");
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    return v;
}

double to_double(py::handle number, const std::string& name) {
    const double v = PyFloat_AsDouble(number.ptr());
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        bad_field(name, "a " + type_name(number) + " in a list of numbers");
    }
    return v;
}

bool is_real_number(py::handle item) {
    if (PyFloat_Check(item.ptr()) || PyLong_Check(item.ptr())) return true;  // bool is an int
    // numpy scalars other than float64 (int32, float32, bool_ ...) convert through __float__.
    return PyObject_HasAttrString(item.ptr(), "dtype") && PyNumber_Check(item.ptr()) &&
           !PyComplex_Check(item.ptr());
}

std::vector<double> from_sequence(py::handle sequence, const std::string& name) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(sequence.ptr());
    PyObject** items = PySequence_Fast_ITEMS(sequence.ptr());
    std::vector<double> out(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        py::handle item(items[i]);
        if (!is_real_number(item)) {
            bad_field(name, "a list of numbers only; item " + std::to_string(i) + " is a " + type_name(item));
        }
        out[static_cast<std::size_t>(i)] = to_double(item, name);
    }
    return out;
}

ResultValue from_scalar(py::handle value, const std::string& name);

ResultValue from_array(py::handle value, const std::string& name) {
    py::array array = py::array::ensure(value);
    if (!array) {
        PyErr_Clear();
        bad_field(name, "a " + type_name(value) + " that numpy cannot read as an array");
    }
    if (array.ndim() == 0) return from_scalar(array.attr("item")(), name);
    const char kind = array.dtype().kind();
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
        bad_field(name, "an array of dtype " + py::str(array.dtype()).cast<std::string>() +
                            "; arrays must be numeric (bool, int, uint or float)");
    }
    if (array.ndim() != 1) {
        bad_field(name, "a " + std::to_string(array.ndim()) + "-d array; give a 1-d array (e.g. .ravel())");
    }
    auto doubles = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(array);
    if (!doubles) bad_field(name, "an array that does not convert to float64");
    return std::vector<double>(doubles.data(), doubles.data() + doubles.size());
}

// The types a field may have, most frequent first; numpy and other array-likes last.
ResultValue from_scalar(py::handle value, const std::string& name) {
    PyObject* o = value.ptr();
    if (PyBool_Check(o)) return o == Py_True;  // numpy.bool_ too, through from_array
    if (PyFloat_Check(o)) return PyFloat_AS_DOUBLE(o);
    if (PyLong_Check(o)) return to_int64(value, name);
    if (PyUnicode_Check(o)) {
        Py_ssize_t size = 0;
        const char* text = PyUnicode_AsUTF8AndSize(o, &size);
        if (text == nullptr) throw py::error_already_set();
        return std::string(text, static_cast<std::size_t>(size));
    }
    if (PyList_Check(o) || PyTuple_Check(o)) {
        py::object fast = py::reinterpret_steal<py::object>(PySequence_Fast(o, ""));
        if (!fast) throw py::error_already_set();
        return from_sequence(fast, name);
    }
    if (PyObject_HasAttrString(o, "dtype") || PyObject_HasAttrString(o, "__array__")) {
        return from_array(value, name);  // numpy scalars and arrays, CPU tensors
    }
    if (PyIndex_Check(o)) {
        py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
        if (!index) throw py::error_already_set();
        return to_int64(index, name);
    }
    if (PyComplex_Check(o)) bad_field(name, "a complex number; give its real part or abs()");
    if (PyNumber_Check(o)) return to_double(value, name);
    bad_field(name,
              "a " + type_name(value) + "; give a number, bool, str, list of numbers or numeric numpy array");
}

std::string field_name(py::handle key) {
    if (!PyUnicode_Check(key.ptr())) {
        throw std::invalid_argument("result names are strings; got the key " +
                                    py::repr(key).cast<std::string>());
    }
    return key.cast<std::string>();
}

}  // namespace

py::object to_python(const Value& value) {
    switch (type_of(value)) {
        case ValueType::Int:
            return py::int_(std::get<std::int64_t>(value));
        case ValueType::Float:
            return py::float_(std::get<double>(value));
        case ValueType::String:
            return py::str(std::get<std::string>(value));
        case ValueType::Bool:
            return py::bool_(std::get<bool>(value));
    }
    return py::none();
}

namespace {

// One overload per ResultValue alternative: a new alternative does not compile until it has
// its conversion here (and in from_scalar).
struct ResultToPython {
    py::object operator()(double d) const { return py::float_(d); }
    py::object operator()(std::int64_t i) const { return py::int_(i); }
    py::object operator()(const std::string& s) const { return py::str(s); }
    py::object operator()(bool b) const { return py::bool_(b); }
    py::object operator()(const std::vector<double>& v) const {
        try {
            return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
        } catch (const py::error_already_set&) {  // no numpy: a list
            return py::cast(v);
        }
    }
};

}  // namespace

py::object to_python(const ResultValue& value) {
    return std::visit(ResultToPython{}, value);
}

py::dict to_python(const TaskResult& result) {
    py::dict out;
    for (const auto& [name, value] : result) out[py::str(name)] = to_python(value);
    return out;
}

TaskResult to_task_result(py::handle returned) {
    TaskResult result;
    if (returned.is_none()) return result;
    PyObject* o = returned.ptr();
    if (PyDict_Check(o)) {
        PyObject* key = nullptr;
        PyObject* value = nullptr;
        Py_ssize_t pos = 0;
        while (PyDict_Next(o, &pos, &key, &value)) {
            if (value == Py_None) continue;
            std::string name = field_name(key);
            ResultValue v = from_scalar(value, name);
            result.emplace(std::move(name), std::move(v));
        }
        return result;
    }
    if (!PyMapping_Check(o) || PySequence_Check(o) || !PyObject_HasAttrString(o, "items")) {
        throw std::invalid_argument("the task returned a " + type_name(returned) +
                                    "; return a dict of named results (e.g. {\"loss\": 0.1}) or None");
    }
    for (py::handle item : returned.attr("items")()) {
        py::tuple pair = py::reinterpret_borrow<py::tuple>(item);
        if (pair[1].is_none()) continue;
        std::string name = field_name(pair[0]);
        ResultValue v = from_scalar(pair[1], name);
        result.emplace(std::move(name), std::move(v));
    }
    return result;
}

}  // namespace mpisweep::python
