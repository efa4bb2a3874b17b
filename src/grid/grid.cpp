#include "mpisweep/grid.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "grid/spec_scalar.hpp"
#include "grid/utf8.hpp"

namespace mpisweep {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
    throw SpecError("param '" + name + "': " + what);
}

void check_name(const std::string& name) {
    if (!is_valid_name(name)) {
        throw SpecError("param '" + name +
                        "': invalid name: use letters, digits and '_', not starting with a digit");
    }
}

void check_finite(const std::string& name, double d, const char* what) {
    if (!std::isfinite(d))
        fail(name, std::string(what) + " " + to_string(Value(d)) + " is not a finite number");
}

// Strings go into the HDF5 file (UTF-8, ended by NUL), the grid's JSON and the tasks'
// arguments and environment (C strings).
void check_text(const std::string& name, const std::vector<Value>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::string& text = std::get<std::string>(values[i]);
        if (const std::size_t nul = text.find('\0'); nul != std::string::npos) {
            fail(name, "value " + std::to_string(i) + " holds a NUL byte at offset " + std::to_string(nul) +
                           "; parameter values must be text without NUL (they become arguments, "
                           "environment variables and HDF5 strings)");
        }
        if (const auto bad = detail::first_invalid_utf8(text)) {
            fail(name, "value " + std::to_string(i) + " is not valid UTF-8 (" +
                           detail::describe_invalid_utf8(text, *bad) +
                           "); parameter values must be UTF-8 text");
        }
    }
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
    return a / b + (a % b != 0 ? 1 : 0);
}

ValueType natural_type(Axis::Kind kind) {
    return kind == Axis::Kind::Range  ? ValueType::Int
           : kind == Axis::Kind::List ? ValueType::String  // unused: lists store converted values
                                      : ValueType::Float;
}

const char* kind_name(Axis::Kind kind) {
    switch (kind) {
        case Axis::Kind::List:
            return "list";
        case Axis::Kind::Range:
            return "range";
        case Axis::Kind::Linspace:
            return "linspace";
        case Axis::Kind::Logspace:
            return "logspace";
    }
    return "?";
}

// 10^x; exact powers of ten are exact doubles up to 1e22, and 1/10^k is then correctly rounded.
double pow10(double x) {
    if (x == std::trunc(x) && std::fabs(x) <= 22) {
        double p = 1;
        for (int k = static_cast<int>(std::fabs(x)); k > 0; --k) p *= 10;
        return x < 0 ? 1 / p : p;
    }
    return std::pow(10.0, x);
}

double linspace_at(double a, double b, std::uint64_t n, std::uint64_t i) {
    if (i == 0 || n == 1) return a;
    if (i == n - 1) return b;
    return a + (b - a) * static_cast<double>(i) / static_cast<double>(n - 1);
}

Json value_json(const Value& v) {
    return std::visit([](const auto& x) { return Json(x); }, v);
}

Json axis_json(const Axis& axis, const std::vector<Value>* list_values, std::int64_t start, std::int64_t step,
               double a, double b) {
    Json j;
    j["name"] = axis.name();
    j["kind"] = kind_name(axis.kind());
    j["type"] = std::string(type_name(axis.type()));
    j["size"] = axis.size();
    switch (axis.kind()) {
        case Axis::Kind::List: {
            Json values = Json::array();
            for (const auto& v : *list_values) values.push_back(value_json(v));
            j["values"] = std::move(values);
            break;
        }
        case Axis::Kind::Range:
            j["start"] = start;
            j["step"] = step;
            break;
        case Axis::Kind::Linspace:
        case Axis::Kind::Logspace:
            j["a"] = a;
            j["b"] = b;
            break;
    }
    return j;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
}

}  // namespace

bool is_valid_name(std::string_view name) {
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (name.empty() || !letter(name[0])) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return letter(c) || digit(c); });
}

// ---- Axis ----

Axis Axis::list(std::string name, std::vector<Value> values) {
    check_name(name);
    if (values.empty()) fail(name, "empty axis: no values");
    ValueType type = type_of(values.front());
    auto numeric = [](ValueType t) { return t == ValueType::Int || t == ValueType::Float; };
    for (const auto& v : values) {
        ValueType t = type_of(v);
        if (t == type) continue;
        if (numeric(t) && numeric(type)) {
            type = ValueType::Float;
            continue;
        }
        fail(name, "mixed value types " + std::string(type_name(type)) + " and " + std::string(type_name(t)) +
                       " (force one type with name:TYPE=...)");
    }
    for (auto& v : values) {
        if (type == ValueType::Float && type_of(v) == ValueType::Int) {
            auto converted = detail::convert_value(v, ValueType::Float);
            if (!converted) fail(name, "value " + to_string(v) + " is not exact as a float");
            v = std::move(*converted);
        }
        if (auto d = std::get_if<double>(&v)) check_finite(name, *d, "value");
    }
    if (type == ValueType::String) check_text(name, values);
    Axis axis;
    axis.name_ = std::move(name);
    axis.kind_ = Kind::List;
    axis.type_ = type;
    axis.size_ = values.size();
    axis.values_ = std::make_shared<const std::vector<Value>>(std::move(values));
    return axis;
}

Axis Axis::range(std::string name, std::int64_t start, std::int64_t stop, std::int64_t step) {
    check_name(name);
    std::string text =
        "range(" + std::to_string(start) + "," + std::to_string(stop) + "," + std::to_string(step) + ")";
    if (step == 0) fail(name, "step must not be 0 in " + text);
    // Unsigned arithmetic: stop - start may not fit in int64, but always fits in uint64.
    std::uint64_t n = 0;
    if (step > 0 && stop > start) {
        n = ceil_div(static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start),
                     static_cast<std::uint64_t>(step));
    } else if (step < 0 && start > stop) {
        n = ceil_div(static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop),
                     std::uint64_t{0} - static_cast<std::uint64_t>(step));
    }
    if (n == 0) fail(name, text + " is empty");
    Axis axis;
    axis.name_ = std::move(name);
    axis.kind_ = Kind::Range;
    axis.type_ = ValueType::Int;
    axis.size_ = n;
    axis.start_ = start;
    axis.step_ = step;
    return axis;
}

Axis Axis::linspace(std::string name, double a, double b, std::uint64_t n) {
    check_name(name);
    if (n == 0) fail(name, "n must be at least 1 in linspace(a,b,n), got 0");
    check_finite(name, a, "linspace start");
    check_finite(name, b, "linspace stop");
    if (!std::isfinite(b - a)) fail(name, "linspace(a,b,n): b - a overflows a double");
    Axis axis;
    axis.name_ = std::move(name);
    axis.kind_ = Kind::Linspace;
    axis.type_ = ValueType::Float;
    axis.size_ = n;
    axis.a_ = a;
    axis.b_ = b;
    return axis;
}

Axis Axis::logspace(std::string name, double a, double b, std::uint64_t n) {
    check_name(name);
    if (n == 0) fail(name, "n must be at least 1 in logspace(a,b,n), got 0");
    check_finite(name, a, "logspace start");
    check_finite(name, b, "logspace stop");
    double hi = std::max(a, b), lo = std::min(a, b);
    if (!std::isfinite(pow10(hi)))
        fail(name, "logspace(a,b,n): 10^" + to_string(Value(hi)) + " overflows a double");
    if (pow10(lo) == 0) fail(name, "logspace(a,b,n): 10^" + to_string(Value(lo)) + " underflows to 0");
    Axis axis = linspace(name, a, b, n);
    axis.kind_ = Kind::Logspace;
    return axis;
}

Value Axis::natural_at(std::uint64_t i) const {
    switch (kind_) {
        case Kind::List:
            return (*values_)[i];
        case Kind::Range:
            // Wraps in uint64 and lands back in int64 range: every value lies in [start, stop).
            return static_cast<std::int64_t>(static_cast<std::uint64_t>(start_) +
                                             i * static_cast<std::uint64_t>(step_));
        case Kind::Linspace:
            return linspace_at(a_, b_, size_, i);
        case Kind::Logspace:
            return pow10(linspace_at(a_, b_, size_, i));
    }
    return {};
}

void Axis::assign_at(std::uint64_t i, Value& out) const {
    assert(i < size_);
    if (kind_ == Kind::Range && type_ == ValueType::Int) {
        if (auto* integer = std::get_if<std::int64_t>(&out)) {
            *integer = static_cast<std::int64_t>(static_cast<std::uint64_t>(start_) +
                                                 i * static_cast<std::uint64_t>(step_));
            return;
        }
    } else if (kind_ == Kind::Linspace && type_ == ValueType::Float) {
        if (auto* number = std::get_if<double>(&out)) {
            *number = linspace_at(a_, b_, size_, i);
            return;
        }
    }
    out = at(i);
}

Value Axis::at(std::uint64_t i) const {
    assert(i < size_);
    if (kind_ == Kind::List || type_ == natural_type(kind_)) return natural_at(i);
    // Checked convertible by as_type().
    return *detail::convert_value(natural_at(i), type_);
}

Axis Axis::as_type(ValueType type) const {
    if (type == type_) return *this;
    auto convert = [&](const Value& v) {
        auto converted = detail::convert_value(v, type);
        if (!converted) {
            fail(name_, "value '" + to_string(v) + "' does not convert to " + std::string(type_name(type)));
        }
        if (auto d = std::get_if<double>(&*converted)) check_finite(name_, *d, "value");
        return std::move(*converted);
    };
    Axis out = *this;
    out.type_ = type;
    if (kind_ == Kind::List) {
        std::vector<Value> values;
        values.reserve(values_->size());
        for (const auto& v : *values_) values.push_back(convert(v));
        out.values_ = std::make_shared<const std::vector<Value>>(std::move(values));
        return out;
    }
    if (type == natural_type(kind_) || type == ValueType::String) return out;
    if (kind_ == Kind::Range) {
        // Monotonic ints: to bool needs both ends in {0, 1}; to float needs both ends within
        // +-2^53, where every int is exact (stricter than needed, but O(1)).
        convert(natural_at(0));
        convert(natural_at(size_ - 1));
        if (type == ValueType::Float) {
            constexpr std::int64_t exact_limit = std::int64_t{1} << 53;
            for (auto end : {natural_at(0), natural_at(size_ - 1)}) {
                auto i = std::get<std::int64_t>(end);
                if (i > exact_limit || i < -exact_limit)
                    fail(name_, "value " + to_string(end) + " is not exact as a float");
            }
        }
        return out;
    }
    for (std::uint64_t i = 0; i < size_; ++i) convert(natural_at(i));  // floats to int or bool
    return out;
}

std::string Axis::to_json() const {
    return axis_json(*this, values_.get(), start_, step_, a_, b_).dump();
}

// ---- Point ----

const Value& Point::operator[](std::string_view name) const {
    const auto& names = *names_;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == name) return values_[i];
    }
    throw std::out_of_range("no param '" + std::string(name) + "' (params: " + join_names(names) + ")");
}

template <class T>
T Point::get(std::string_view name) const {
    const Value& v = (*this)[name];
    auto mismatch = [&](const char* wanted) {
        return std::invalid_argument("param '" + std::string(name) + "' has type " +
                                     std::string(type_name(type_of(v))) + ", cannot read it as " + wanted);
    };
    if constexpr (std::is_same_v<T, double>) {
        if (auto d = std::get_if<double>(&v)) return *d;
        if (auto i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
        throw mismatch("float");
    } else if constexpr (std::is_same_v<T, int>) {
        auto i = std::get_if<std::int64_t>(&v);
        if (!i) throw mismatch("int");
        if (*i < std::numeric_limits<int>::min() || *i > std::numeric_limits<int>::max()) {
            throw std::out_of_range("param '" + std::string(name) + "': value " + std::to_string(*i) +
                                    " does not fit in an int (read it as std::int64_t)");
        }
        return static_cast<int>(*i);
    } else {
        const char* wanted = std::is_same_v<T, std::int64_t> ? "int"
                             : std::is_same_v<T, bool>       ? "bool"
                                                             : "str";
        if (auto p = std::get_if<T>(&v)) return *p;
        throw mismatch(wanted);
    }
}

template std::int64_t Point::get<std::int64_t>(std::string_view) const;
template int Point::get<int>(std::string_view) const;
template double Point::get<double>(std::string_view) const;
template std::string Point::get<std::string>(std::string_view) const;
template bool Point::get<bool>(std::string_view) const;

// ---- Grid ----

Grid::Grid(std::vector<Axis> axes, const std::vector<std::vector<std::string>>& zips) {
    for (auto& axis : axes) append_axis(std::move(axis));
    for (const auto& names : zips) append_zip(names);
    recompute();
}

Grid& Grid::add(Axis axis) {
    Grid next = *this;  // cheap: axes share their values; keeps *this intact on error
    next.append_axis(std::move(axis));
    next.recompute();
    *this = std::move(next);
    return *this;
}

Grid& Grid::zip(const std::vector<std::string>& names) {
    Grid next = *this;
    next.append_zip(names);
    next.recompute();
    *this = std::move(next);
    return *this;
}

void Grid::append_axis(Axis axis) {
    for (const auto& existing : axes_) {
        if (existing.name() == axis.name()) throw SpecError("param '" + axis.name() + "' is given twice");
    }
    if (axis.size() == 0) throw SpecError("param '" + axis.name() + "': empty axis: no values");
    axes_.push_back(std::move(axis));
}

void Grid::append_zip(const std::vector<std::string>& names) {
    std::string label = "zip " + join_names(names);
    if (names.size() < 2) throw SpecError(label + ": a zip needs at least two params");
    std::vector<std::size_t> group;
    for (const auto& name : names) {
        auto it = std::find_if(axes_.begin(), axes_.end(), [&](const Axis& a) { return a.name() == name; });
        if (it == axes_.end()) throw SpecError(label + ": unknown param '" + name + "'");
        auto index = static_cast<std::size_t>(it - axes_.begin());
        if (std::find(group.begin(), group.end(), index) != group.end()) {
            throw SpecError(label + ": param '" + name + "' is listed twice");
        }
        for (const auto& other : zip_groups_) {
            if (std::find(other.begin(), other.end(), index) != other.end()) {
                std::vector<std::string> other_names;
                for (auto k : other) other_names.push_back(axes_[k].name());
                throw SpecError(label + ": param '" + name + "' is already zipped (zip " +
                                join_names(other_names) + ")");
            }
        }
        group.push_back(index);
    }
    bool equal = std::all_of(group.begin(), group.end(),
                             [&](std::size_t k) { return axes_[k].size() == axes_[group[0]].size(); });
    if (!equal) {
        std::string lengths;
        for (auto k : group) {
            lengths +=
                (lengths.empty() ? "" : ", ") + axes_[k].name() + " has " + std::to_string(axes_[k].size());
        }
        throw SpecError(label + ": zipped params need equal lengths, but " + lengths);
    }
    std::sort(group.begin(), group.end());
    zip_groups_.push_back(std::move(group));
    std::sort(zip_groups_.begin(), zip_groups_.end());  // by first axis: groups are disjoint
}

void Grid::recompute() {
    constexpr std::size_t no_digit = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> digit_of_axis(axes_.size(), no_digit);
    std::vector<std::uint64_t> radix;
    std::vector<std::string> labels;  // for the overflow message
    for (std::size_t i = 0; i < axes_.size(); ++i) {
        if (digit_of_axis[i] != no_digit) continue;  // a later member of a zip group
        auto group = std::find_if(zip_groups_.begin(), zip_groups_.end(),
                                  [&](const auto& g) { return g.front() == i; });
        std::string label = axes_[i].name();
        if (group != zip_groups_.end()) {
            for (auto k : *group) digit_of_axis[k] = radix.size();
            label = "zip(";
            for (auto k : *group) label += (k == group->front() ? "" : ",") + axes_[k].name();
            label += ")";
        }
        digit_of_axis[i] = radix.size();
        radix.push_back(axes_[i].size());
        labels.push_back(label + "=" + std::to_string(axes_[i].size()));
    }
    std::vector<std::uint64_t> stride(radix.size());
    std::uint64_t size = radix.empty() ? 0 : 1;
    for (std::size_t d = radix.size(); d-- > 0;) {
        stride[d] = size;
        if (__builtin_mul_overflow(size, radix[d], &size)) {
            std::string product;
            for (const auto& l : labels) product += (product.empty() ? "" : " x ") + l;
            throw SpecError("grid too large: the number of points overflows 64 bits: " + product);
        }
    }
    auto names = std::make_shared<std::vector<std::string>>();
    for (const auto& axis : axes_) names->push_back(axis.name());
    std::vector<std::vector<std::size_t>> axes_of_digit(radix.size());
    for (std::size_t i = 0; i < axes_.size(); ++i) axes_of_digit[digit_of_axis[i]].push_back(i);
    axes_of_digit_ = std::move(axes_of_digit);
    digit_of_axis_ = std::move(digit_of_axis);
    digit_radix_ = std::move(radix);
    digit_stride_ = std::move(stride);
    names_ = std::move(names);
    size_ = size;
}

void Grid::decode(TaskId id, std::vector<Value>& out) const {
    if (id.value() >= size_) {
        throw std::out_of_range("task id " + std::to_string(id.value()) + " is out of range: the grid has " +
                                std::to_string(size_) + " points");
    }
    out.resize(axes_.size());
    for (std::size_t i = 0; i < axes_.size(); ++i) {
        auto d = digit_of_axis_[i];
        out[i] = axes_[i].at(id.value() / digit_stride_[d] % digit_radix_[d]);
    }
}

Point Grid::at(TaskId id) const {
    std::vector<Value> values;
    decode(id, values);
    return Point(names_, std::move(values));
}

void Grid::at(TaskId id, Point& out) const {
    const std::uint64_t t = id.value();
    if (t >= size_) {
        throw std::out_of_range("task id " + std::to_string(t) + " is out of range: the grid has " +
                                std::to_string(size_) + " points");
    }
    std::vector<std::uint64_t>& digits = out.digits_;
    if (out.names_ == names_ && out.id_ + 1 == t) {
        // The next id: the last digit steps, and carries while it wraps.
        for (std::size_t d = digits.size(); d-- > 0;) {
            const bool wraps = ++digits[d] == digit_radix_[d];
            if (wraps) digits[d] = 0;
            for (std::size_t axis : axes_of_digit_[d]) axes_[axis].assign_at(digits[d], out.values_[axis]);
            if (!wraps) break;
        }
    } else {
        digits.resize(digit_radix_.size());
        for (std::size_t d = 0; d < digits.size(); ++d) digits[d] = t / digit_stride_[d] % digit_radix_[d];
        out.values_.resize(axes_.size());
        for (std::size_t i = 0; i < axes_.size(); ++i)
            axes_[i].assign_at(digits[digit_of_axis_[i]], out.values_[i]);
        if (out.names_ != names_) out.names_ = names_;
    }
    out.id_ = t;
}

std::string Grid::to_json() const {
    Json axes = Json::array();
    for (const auto& axis : axes_) axes.push_back(Json::parse(axis.to_json()));
    Json zips = Json::array();
    for (const auto& group : zip_groups_) {
        Json names = Json::array();
        for (auto k : group) names.push_back(axes_[k].name());
        zips.push_back(std::move(names));
    }
    Json j;
    j["axes"] = std::move(axes);
    j["zip"] = std::move(zips);
    return j.dump();
}

}  // namespace mpisweep
