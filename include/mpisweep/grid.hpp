#pragma once
// The parameter grid: axes, cartesian product, zip groups, lazy decoding of a task id.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mpisweep/ids.hpp"
#include "mpisweep/value.hpp"

namespace mpisweep {

/// Any error in the definition of a grid: the message names the axis and the text at fault.
class SpecError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One named axis. Generated axes (range, linspace, logspace) compute their values on
/// demand, so an axis of 10^9 integers costs a few bytes.
class Axis {
public:
    enum class Kind : std::uint8_t { List, Range, Linspace, Logspace };

    /// Values must all have one type, except that ints mixed with floats become floats.
    static Axis list(std::string name, std::vector<Value> values);
    /// start, start+step, ... while < stop (> stop for a negative step). step != 0.
    static Axis range(std::string name, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
    /// n evenly spaced doubles from a to b inclusive (n == 1 gives a).
    static Axis linspace(std::string name, double a, double b, std::uint64_t n);
    /// n doubles 10^x for x in linspace(a, b, n).
    static Axis logspace(std::string name, double a, double b, std::uint64_t n);

    const std::string& name() const { return name_; }
    ValueType type() const { return type_; }
    Kind kind() const { return kind_; }
    std::uint64_t size() const { return size_; }
    /// Value at index i < size(); no bounds check beyond an assert.
    Value at(std::uint64_t i) const;

    /// Canonical JSON of the axis (name, kind, type and its generator or values), used to
    /// tell whether a results file was made by the same grid.
    std::string to_json() const;

    /// Returns a copy whose values are converted to `type` (the `name:type=` spec form).
    /// Throws SpecError naming the axis and the value that does not convert.
    Axis as_type(ValueType type) const;

private:
    Axis() = default;
    std::string name_;
    Kind kind_ = Kind::List;
    ValueType type_ = ValueType::Int;
    std::uint64_t size_ = 0;
    // List: the values. Generated kinds: the parameters below.
    std::shared_ptr<const std::vector<Value>> values_;
    std::int64_t start_ = 0, step_ = 1;
    double a_ = 0, b_ = 0;
};

/// The values of one grid point, in the grid's axis order.
class Point {
public:
    Point(std::shared_ptr<const std::vector<std::string>> names, std::vector<Value> values)
        : names_(std::move(names)), values_(std::move(values)) {}

    std::size_t size() const { return values_.size(); }
    const std::vector<std::string>& names() const { return *names_; }
    const std::vector<Value>& values() const { return values_; }
    /// Throws std::out_of_range naming the parameter when there is no such axis.
    const Value& operator[](std::string_view name) const;
    /// Typed access; an int axis read as double converts, any other mismatch throws
    /// std::invalid_argument naming the parameter and both types.
    template <class T>
    T get(std::string_view name) const;

private:
    std::shared_ptr<const std::vector<std::string>> names_;
    std::vector<Value> values_;
};

/// The cartesian product of its axes, where a zip group of equal-length axes counts as one
/// digit placed where its first axis was declared. Task ids run 0..size()-1 in nested-loop
/// order, the last digit fastest; at(id) decodes the mixed-radix digits, nothing is stored
/// per point.
class Grid {
public:
    Grid() = default;

    /// Appends an axis. Throws SpecError on an empty axis or a duplicate name.
    Grid& add(Axis axis);
    /// Makes the named axes vary together. Throws SpecError on an unknown name, an axis
    /// already zipped, fewer than two names, or unequal lengths (naming each length).
    Grid& zip(const std::vector<std::string>& names);

    /// Number of points. Throws SpecError if the product overflows 64 bits (checked when
    /// axes or zips are added, so a Grid that exists has a valid size).
    std::uint64_t size() const { return size_; }
    bool empty() const { return axes_.empty(); }
    const std::vector<Axis>& axes() const { return axes_; }
    const std::vector<std::string>& names() const { return *names_; }
    /// Zip groups as lists of axis indexes (only groups of 2+ axes).
    std::vector<std::vector<std::size_t>> zip_groups() const;

    /// The point of task `id` (< size()).
    Point at(TaskId id) const;
    /// Same, writing into `out` (resized to the number of axes) to avoid allocation.
    void decode(TaskId id, std::vector<Value>& out) const;

    /// Canonical JSON of the whole grid: axes in order and the zip groups. Two grids with the
    /// same to_json() give the same points for every task id.
    std::string to_json() const;

private:
    void recompute();
    std::vector<Axis> axes_;
    std::vector<int> digit_of_axis_;           // axis index -> digit index
    std::vector<std::uint64_t> digit_radix_;   // size of each digit
    std::vector<std::uint64_t> digit_stride_;  // product of the radixes after it
    std::shared_ptr<std::vector<std::string>> names_ = std::make_shared<std::vector<std::string>>();
    std::uint64_t size_ = 0;
};

}  // namespace mpisweep
