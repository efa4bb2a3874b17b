// Parsing grids from JSON documents: the user's {"params": ..., "zip": ...} form and the
// canonical form that Grid::to_json() writes.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "grid/spec_internal.hpp"
#include "grid/spec_scalar.hpp"
#include "grid/utf8.hpp"
#include "mpisweep/spec.hpp"

namespace mpisweep {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
    throw SpecError("param '" + name + "': " + what);
}

[[noreturn]] void fail_doc(const std::string& what) {
    throw SpecError("JSON spec: " + what);
}

// nlohmann's messages start with "[json.exception.parse_error.101] ": keep the part a user reads.
std::string library_text(const std::exception& e) {
    std::string text = e.what();
    if (text.rfind("[json.exception.", 0) == 0) {
        auto close = text.find("] ");
        if (close != std::string::npos) text = text.substr(close + 2);
    }
    return text;
}

// Rejects duplicate keys (nlohmann keeps one silently) while parsing.
Json parse_document(std::string_view text) {
    if (const auto bad = detail::first_invalid_utf8(text)) {
        const std::size_t at = *bad;
        const std::size_t newline = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
        const std::size_t column = newline == std::string_view::npos ? at + 1 : at - newline;
        fail_doc("not valid UTF-8 (" + detail::describe_invalid_utf8(text, at) + ", line " +
                 std::to_string(line) + " column " + std::to_string(column) +
                 "); parameter values must be UTF-8 text");
    }
    std::vector<std::set<std::string>> keys_per_object;
    std::string duplicate;
    Json::parser_callback_t check_keys = [&](int, nlohmann::json::parse_event_t event, Json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) keys_per_object.emplace_back();
        if (event == Event::object_end && !keys_per_object.empty()) keys_per_object.pop_back();
        if (event == Event::key && !keys_per_object.empty() && duplicate.empty()) {
            const auto& key = parsed.get_ref<const std::string&>();
            if (!keys_per_object.back().insert(key).second) duplicate = key;
        }
        return true;
    };
    Json doc;
    try {
        doc = Json::parse(text.begin(), text.end(), check_keys);
    } catch (const Json::parse_error& e) {
        fail_doc(library_text(e));
    }
    if (!duplicate.empty()) fail_doc("key '" + duplicate + "' appears twice in one object");
    return doc;
}

detail::ListItem item_from_json(const std::string& name, const Json& value, std::size_t index) {
    if (value.is_string()) return {value.get<std::string>(), true};
    if (value.is_number() || value.is_boolean()) return {value.dump(), false};  // round-trip text
    fail(name, "value " + std::to_string(index + 1) + " is " + value.dump() +
                   ": expected a number, a string or a bool");
}

std::vector<detail::ListItem> items_from_json(const std::string& name, const Json& values) {
    std::vector<detail::ListItem> items;
    if (!values.is_array()) {
        items.push_back(item_from_json(name, values, 0));
        return items;
    }
    for (std::size_t i = 0; i < values.size(); ++i) items.push_back(item_from_json(name, values[i], i));
    return items;
}

// An axis of the user's form: [values], "SPEC", a single value, or {"values"|"spec", "type"}.
Axis user_axis(const std::string& name, const Json& j) {
    if (!is_valid_name(name)) {
        fail(name, "invalid name: use letters, digits and '_', not starting with a digit");
    }
    if (j.is_string()) return detail::parse_axis_spec(name, j.get<std::string>(), std::nullopt);
    if (j.is_array() || j.is_number() || j.is_boolean()) {
        return detail::axis_from_items(name, items_from_json(name, j), std::nullopt);
    }
    if (!j.is_object()) {
        fail(name, "got " + j.dump() +
                       ": expected an array of values, a SPEC string or an object with "
                       "\"values\" or \"spec\"");
    }
    std::optional<ValueType> forced;
    for (const auto& [key, value] : j.items()) {
        if (key == "type") {
            if (!value.is_string()) fail(name, "\"type\" must be a string (int, float, str or bool)");
            forced = detail::parse_type_name(name, value.get<std::string>());
        } else if (key != "values" && key != "spec") {
            fail(name, "unknown key '" + key + "' (expected \"values\" or \"spec\", and \"type\")");
        }
    }
    bool has_values = j.contains("values"), has_spec = j.contains("spec");
    if (has_values == has_spec) fail(name, "give exactly one of \"values\" and \"spec\"");
    if (has_spec) {
        if (!j["spec"].is_string()) fail(name, "\"spec\" must be a string such as \"range(0,10)\"");
        return detail::parse_axis_spec(name, j["spec"].get<std::string>(), forced);
    }
    return detail::axis_from_items(name, items_from_json(name, j["values"]), forced);
}

std::vector<std::string> zip_names(const Json& z) {
    std::vector<std::string> names;
    if (z.is_string()) {
        std::string_view rest = z.get_ref<const std::string&>();
        while (true) {
            auto comma = rest.find(',');
            names.emplace_back(detail::trim(rest.substr(0, comma)));
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
        return names;
    }
    if (!z.is_array())
        fail_doc("each \"zip\" entry must be an array of names or a string \"a,b\", got " + z.dump());
    for (const auto& n : z) {
        if (!n.is_string()) fail_doc("zip " + z.dump() + ": names must be strings");
        names.push_back(n.get<std::string>());
    }
    return names;
}

std::vector<std::vector<std::string>> zips_from(const Json& doc) {
    std::vector<std::vector<std::string>> zips;
    if (!doc.contains("zip")) return zips;
    const auto& z = doc["zip"];
    if (!z.is_array()) fail_doc("\"zip\" must be an array of zip groups, got " + z.dump());
    for (const auto& group : z) zips.push_back(zip_names(group));
    return zips;
}

// The canonical form written by Axis::to_json().
Axis canonical_axis(const Json& j) {
    auto name = j.at("name").get<std::string>();
    auto kind = j.at("kind").get<std::string>();
    auto type = detail::parse_type_name(name, j.at("type").get<std::string>());
    auto size = j.at("size").get<std::uint64_t>();
    Axis axis = Axis::range(name, 0, 1);
    if (kind == "list") {
        axis = detail::axis_from_items(name, items_from_json(name, j.at("values")), type);
    } else if (kind == "range") {
        auto start = j.at("start").get<std::int64_t>();
        auto step = j.at("step").get<std::int64_t>();
        // stop = start + size * step, clamped to int64: the clamped stop still ends the range
        // after its last value, because every valid range has a stop that fits.
        std::int64_t offset = 0, stop = 0;
        if (__builtin_mul_overflow(size, step, &offset) || __builtin_add_overflow(start, offset, &stop)) {
            stop = step > 0 ? std::numeric_limits<std::int64_t>::max()
                            : std::numeric_limits<std::int64_t>::min();
        }
        axis = Axis::range(name, start, stop, step);
    } else if (kind == "linspace" || kind == "logspace") {
        auto a = j.at("a").get<double>(), b = j.at("b").get<double>();
        axis = kind == "linspace" ? Axis::linspace(name, a, b, size) : Axis::logspace(name, a, b, size);
    } else {
        fail(name, "unknown kind '" + kind + "' (expected list, range, linspace or logspace)");
    }
    axis = axis.as_type(type);
    if (axis.size() != size) {
        fail(name, "\"size\" is " + std::to_string(size) + " but the axis has " +
                       std::to_string(axis.size()) + " values");
    }
    return axis;
}

Grid canonical_grid(const Json& doc) {
    for (const auto& [key, value] : doc.items()) {
        if (key != "axes" && key != "zip")
            fail_doc("unknown key '" + key + "' in the canonical form (expected \"axes\", \"zip\")");
    }
    if (!doc["axes"].is_array()) fail_doc("\"axes\" must be an array");
    std::vector<Axis> axes;
    try {
        for (const auto& a : doc["axes"]) axes.push_back(canonical_axis(a));
    } catch (const Json::exception& e) {
        fail_doc("in \"axes\": " + library_text(e));
    }
    return Grid(std::move(axes), zips_from(doc));
}

}  // namespace

Grid parse_grid_json(std::string_view json_text) {
    Json doc = parse_document(json_text);
    if (!doc.is_object()) fail_doc("expected an object with \"params\", got " + std::string(doc.type_name()));
    if (doc.contains("axes")) return canonical_grid(doc);
    for (const auto& [key, value] : doc.items()) {
        if (key != "params" && key != "zip")
            fail_doc("unknown key '" + key + "' (expected \"params\" and \"zip\")");
    }
    if (!doc.contains("params")) fail_doc("missing \"params\" (an object: name -> values or SPEC)");
    const auto& params = doc["params"];
    if (!params.is_object())
        fail_doc("\"params\" must be an object (name -> values or SPEC), got " + params.dump());
    std::vector<Axis> axes;
    for (const auto& [name, value] : params.items()) axes.push_back(user_axis(name, value));
    return Grid(std::move(axes), zips_from(doc));
}

}  // namespace mpisweep
