#pragma once
// A task's result values seen in place, without copying them out of where they are: a
// TaskResult's map (the journal's replay, tests) or a report batch's typed pools (the
// master's hot path, where building a map per task cost more than storing it).
#include <cstdint>
#include <string>
#include <vector>

#include "mpisweep/task.hpp"

namespace mpisweep {

/// One value. `kind` is the ResultValue alternative it stands for.
struct ResultView {
    enum class Kind : std::uint8_t { Float = 0, Int = 1, String = 2, Array = 3, Bool = 4 };
    Kind kind = Kind::Float;
    double number = 0;                  ///< Float
    std::int64_t integer = 0;           ///< Int; Bool as 0 or 1
    const std::string* text = nullptr;  ///< String
    const double* values = nullptr;     ///< Array: `count` doubles
    std::uint64_t count = 0;

    static ResultView of(const ResultValue& value) {
        ResultView v;
        v.kind = static_cast<Kind>(value.index());
        switch (value.index()) {
            case 0:
                v.number = std::get<double>(value);
                break;
            case 1:
                v.integer = std::get<std::int64_t>(value);
                break;
            case 2:
                v.text = &std::get<std::string>(value);
                break;
            case 4:
                v.integer = std::get<bool>(value) ? 1 : 0;
                break;
            default: {
                const auto& array = std::get<std::vector<double>>(value);
                v.values = array.data();
                v.count = array.size();
            }
        }
        return v;
    }
};

/// The value `view` stands for, copied out (for an observer that asks for results as a map).
inline ResultValue value_of(const ResultView& view) {
    switch (view.kind) {
        case ResultView::Kind::Float:
            return view.number;
        case ResultView::Kind::Int:
            return view.integer;
        case ResultView::Kind::String:
            return *view.text;
        case ResultView::Kind::Array:
            return std::vector<double>(view.values, view.values + view.count);
        case ResultView::Kind::Bool:
            return view.integer != 0;
    }
    return view.number;  // not reached: every kind is handled above
}

/// One named result field.
struct FieldView {
    const std::string* name = nullptr;
    ResultView value;
};

/// The fields of `result` as views into it (valid while `result` lives unchanged), in its
/// order; `out` is refilled.
inline void view_fields(const TaskResult& result, std::vector<FieldView>& out) {
    out.clear();
    for (const auto& [name, value] : result) out.push_back(FieldView{&name, ResultView::of(value)});
}

}  // namespace mpisweep
