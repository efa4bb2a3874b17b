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

/// A parameter name: letters, digits and '_', not starting with a digit, so that it works as
/// an HDF5 dataset name and as an environment variable suffix.
bool is_valid_name(std::string_view name);

/// One named axis. Generated axes (range, linspace, logspace) compute their values on
/// demand, so an axis of 10^9 integers costs a few bytes.
///
/// Every factory throws SpecError on an invalid name or an empty axis, so an Axis that
/// exists has at least one value. Doubles must be finite (JSON cannot hold inf or NaN).
class Axis {
public:
    enum class Kind : std::uint8_t { List, Range, Linspace, Logspace };

    /// Values must all have one type, except that ints mixed with floats become floats
    /// (an int that a double cannot hold exactly is an error).
    static Axis list(std::string name, std::vector<Value> values);
    /// start, start+step, ... while < stop (> stop for a negative step). step != 0.
    static Axis range(std::string name, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
    /// n >= 1 evenly spaced doubles from a to b inclusive: the first is exactly a, the last
    /// exactly b (n == 1 gives a). Value i is a + (b - a) * i / (n - 1).
    static Axis linspace(std::string name, double a, double b, std::uint64_t n);
    /// n >= 1 doubles 10^x for x in linspace(a, b, n). An integral x in [-22, 22] gives the
    /// correctly rounded power (logspace(-4,-1,4) is exactly 1e-4, 1e-3, 1e-2, 1e-1).
    static Axis logspace(std::string name, double a, double b, std::uint64_t n);

    const std::string& name() const { return name_; }
    ValueType type() const { return type_; }
    Kind kind() const { return kind_; }
    std::uint64_t size() const { return size_; }
    /// Value at index i < size(); no bounds check beyond an assert.
    Value at(std::uint64_t i) const;
    /// out = at(i), in place when `out` already holds a value of this axis's type (no
    /// variant reassignment for the generated kinds).
    void assign_at(std::uint64_t i, Value& out) const;

    /// Canonical JSON of the axis (name, kind, type, size and its generator or values), used
    /// to tell whether a results file was made by the same grid. A range is written as
    /// start, step and size, so range(0,10,3) and range(0,11,3) have the same form.
    std::string to_json() const;

    /// Returns a copy whose values are converted to `type` (the `name:type=` spec form).
    /// Generated axes stay generated. Conversions: int -> float when exact, float -> int when
    /// integral, anything -> str (its to_string), str -> int/float/bool when the text reads
    /// as one, int/float 0 and 1 <-> bool. Throws SpecError naming the axis and the value
    /// that does not convert.
    Axis as_type(ValueType type) const;

private:
    Axis() = default;
    Value natural_at(std::uint64_t i) const;  // value before the as_type conversion
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
    /// Typed access for T = std::int64_t, int, double, std::string or bool. An int axis read
    /// as double converts; any other mismatch throws std::invalid_argument naming the
    /// parameter and both types; an int value that does not fit in `int` throws
    /// std::out_of_range.
    template <class T>
    T get(std::string_view name) const;

private:
    friend class Grid;  // Grid::at(TaskId, Point&) refills a point in place
    std::shared_ptr<const std::vector<std::string>> names_;
    std::vector<Value> values_;
    // Where Grid::at last put this point: its id and mixed-radix digits, so that the next id
    // is one step of an odometer (the digits that changed), not a division per axis.
    std::uint64_t id_ = ~std::uint64_t{0};
    std::vector<std::uint64_t> digits_;
};

// Defined in grid.cpp for these types only.
extern template std::int64_t Point::get<std::int64_t>(std::string_view) const;
extern template int Point::get<int>(std::string_view) const;
extern template double Point::get<double>(std::string_view) const;
extern template std::string Point::get<std::string>(std::string_view) const;
extern template bool Point::get<bool>(std::string_view) const;

/// The cartesian product of its axes, where a zip group of equal-length axes counts as one
/// digit placed where its first axis was declared. Task ids run 0..size()-1 in nested-loop
/// order, the last digit fastest; at(id) decodes the mixed-radix digits, nothing is stored
/// per point.
class Grid {
public:
    Grid() = default;
    /// All axes and zip groups at once; the size is checked only at the end, so a product
    /// that overflows before the zips shrink it is fine. Throws SpecError like add and zip.
    Grid(std::vector<Axis> axes, const std::vector<std::vector<std::string>>& zips);

    /// Appends an axis. Throws SpecError on an empty axis or a duplicate name.
    Grid& add(Axis axis);
    /// Makes the named axes vary together. Throws SpecError on an unknown name, an axis
    /// already zipped, fewer than two names, or unequal lengths (naming each length).
    Grid& zip(const std::vector<std::string>& names);

    /// Number of points (0 for a grid without axes). add() and the constructor throw SpecError
    /// if the product overflows 64 bits, so a Grid that exists has a valid size. add() and
    /// zip() leave the grid unchanged when they throw.
    std::uint64_t size() const { return size_; }
    bool empty() const { return axes_.empty(); }
    const std::vector<Axis>& axes() const { return axes_; }
    const std::vector<std::string>& names() const { return *names_; }
    /// Zip groups as lists of axis indexes (only groups of 2+ axes), each in declaration
    /// order, the groups ordered by their first axis.
    std::vector<std::vector<std::size_t>> zip_groups() const { return zip_groups_; }

    /// The point of task `id`. Throws std::out_of_range when id >= size().
    Point at(TaskId id) const;
    /// Same, writing into `out` (resized to the number of axes) to avoid allocation.
    void decode(TaskId id, std::vector<Value>& out) const;
    /// Same, refilling `out` in place (a worker runs one task after another: no allocation).
    /// When `out` holds the previous id of this grid, only the axes whose digit changed are
    /// set again.
    void at(TaskId id, Point& out) const;

    /// Canonical JSON of the whole grid: {"axes": [Axis::to_json()...], "zip": [[names]]}.
    /// Two grids with the same to_json() give the same points for every task id; zip(a,b)
    /// and zip(b,a) give the same form. parse_grid_json() reads it back.
    std::string to_json() const;

private:
    void append_axis(Axis axis);
    void append_zip(const std::vector<std::string>& names);
    void recompute();  // digits, strides, size and names; throws SpecError on overflow
    std::vector<Axis> axes_;
    std::vector<std::vector<std::size_t>> zip_groups_;
    std::vector<std::size_t> digit_of_axis_;               // axis index -> digit index
    std::vector<std::uint64_t> digit_radix_;               // size of each digit
    std::vector<std::uint64_t> digit_stride_;              // product of the radixes after it
    std::vector<std::vector<std::size_t>> axes_of_digit_;  // digit index -> its axes
    // Shared with the Points handed out; replaced, never modified, so copies stay independent.
    std::shared_ptr<const std::vector<std::string>> names_ =
        std::make_shared<const std::vector<std::string>>();
    std::uint64_t size_ = 0;
};

}  // namespace mpisweep
