#include "store/spec_diff.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace mpisweep::store {

namespace {

using nlohmann::json;

std::string short_dump(const json& value) {
    constexpr std::size_t max_length = 60;
    std::string text = value.dump();
    if (text.size() > max_length) text = text.substr(0, max_length - 3) + "...";
    return text;
}

// The axis list of a spec: {"axes": [...]} or a bare array.
const json* axes_of(const json& spec) {
    if (spec.is_array()) return &spec;
    if (spec.is_object()) {
        auto it = spec.find("axes");
        if (it != spec.end() && it->is_array()) return &*it;
    }
    return nullptr;
}

std::string axis_name(const json& axis, std::size_t index) {
    if (axis.is_object()) {
        auto it = axis.find("name");
        if (it != axis.end() && it->is_string()) return it->get<std::string>();
    }
    return "#" + std::to_string(index);
}

std::string join_names(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
    return text;
}

// What differs in one key of two axis objects, e.g. "values[2] is 0.3 in the file, 0.4
// in this grid"; "" when it is the same.
std::string describe_key_difference(const json& in_file, const json& in_grid, const std::string& key) {
    auto a = in_file.find(key);
    auto b = in_grid.find(key);
    if (a == in_file.end() && b == in_grid.end()) return {};
    if (a == in_file.end()) return key + " is only in this grid (" + short_dump(*b) + ")";
    if (b == in_grid.end()) return key + " is only in the file (" + short_dump(*a) + ")";
    if (*a == *b) return {};
    if (a->is_array() && b->is_array() && key == "values") {
        if (a->size() != b->size())
            return key + " has " + std::to_string(a->size()) + " entries in the file, " +
                   std::to_string(b->size()) + " in this grid";
        for (std::size_t i = 0; i < a->size(); ++i)
            if ((*a)[i] != (*b)[i])
                return key + "[" + std::to_string(i) + "] is " + short_dump((*a)[i]) + " in the file, " +
                       short_dump((*b)[i]) + " in this grid";
    }
    return key + " is " + short_dump(*a) + " in the file, " + short_dump(*b) + " in this grid";
}

// The first difference between two axis objects, the telling keys first: a different kind
// explains its different parameters.
std::string describe_axis_difference(const json& in_file, const json& in_grid) {
    if (!in_file.is_object() || !in_grid.is_object())
        return "it is " + short_dump(in_file) + " in the file, " + short_dump(in_grid) + " in this grid";
    std::vector<std::string> keys = {"kind", "type", "size", "values"};
    std::set<std::string> others;
    for (const auto& item : in_file.items()) others.insert(item.key());
    for (const auto& item : in_grid.items()) others.insert(item.key());
    for (const auto& key : others)
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    for (const auto& key : keys) {
        std::string difference = describe_key_difference(in_file, in_grid, key);
        if (!difference.empty()) return difference;
    }
    return {};
}

std::string describe_axes_difference(const json& file_axes, const json& grid_axes) {
    std::vector<std::string> file_names, grid_names;
    for (std::size_t i = 0; i < file_axes.size(); ++i) file_names.push_back(axis_name(file_axes[i], i));
    for (std::size_t i = 0; i < grid_axes.size(); ++i) grid_names.push_back(axis_name(grid_axes[i], i));
    for (const auto& name : grid_names)
        if (std::find(file_names.begin(), file_names.end(), name) == file_names.end())
            return "axis '" + name + "' is in this grid but not in the file";
    for (const auto& name : file_names)
        if (std::find(grid_names.begin(), grid_names.end(), name) == grid_names.end())
            return "axis '" + name + "' is in the file but not in this grid";
    if (file_names != grid_names)
        return "the axes are in another order: " + join_names(file_names) + " in the file, " +
               join_names(grid_names) + " in this grid";
    for (std::size_t i = 0; i < file_axes.size(); ++i)
        if (file_axes[i] != grid_axes[i])
            return "axis '" + file_names[i] +
                   "' differs: " + describe_axis_difference(file_axes[i], grid_axes[i]);
    return {};
}

}  // namespace

std::string describe_spec_difference(const std::string& file_spec, const std::string& grid_spec) {
    if (file_spec == grid_spec) return {};
    json in_file = json::parse(file_spec, nullptr, /*allow_exceptions=*/false);
    json in_grid = json::parse(grid_spec, nullptr, /*allow_exceptions=*/false);
    if (in_file.is_discarded()) return "the file's grid spec is not valid JSON";
    if (in_grid.is_discarded()) return "this grid's spec is not valid JSON";
    if (in_file == in_grid) return {};  // same grid, other formatting
    const json* file_axes = axes_of(in_file);
    const json* grid_axes = axes_of(in_grid);
    if (file_axes && grid_axes) {
        std::string axes = describe_axes_difference(*file_axes, *grid_axes);
        if (!axes.empty()) return axes;
    }
    // Same axes: the rest (zip groups, ...) differs.
    if (in_file.is_object() && in_grid.is_object()) {
        if (in_file.value("zip", json()) != in_grid.value("zip", json()))
            return "the zip groups are " + short_dump(in_file.value("zip", json())) + " in the file, " +
                   short_dump(in_grid.value("zip", json())) + " in this grid";
        std::string rest = describe_axis_difference(in_file, in_grid);
        if (!rest.empty()) return rest;
    }
    return "the grid spec is " + short_dump(in_file) + " in the file, " + short_dump(in_grid) +
           " in this grid";
}

}  // namespace mpisweep::store
