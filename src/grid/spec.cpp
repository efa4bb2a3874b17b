// Parsing `name[:type]=SPEC` arguments (the CLI form) into axes and grids.
#include "mpisweep/spec.hpp"

#include "grid/spec_internal.hpp"
#include "grid/spec_scalar.hpp"

namespace mpisweep {
namespace detail {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) {
    throw SpecError("param '" + name + "': " + what);
}

bool is_quote(char c) {
    return c == '\'' || c == '"';
}

std::size_t skip_space(std::string_view s, std::size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    return i;
}

// Splits at commas outside quotes. An item that starts with ' or " runs to the same quote
// (no escapes) and keeps its text as is; other items are trimmed. `max_items` > 0 stops
// splitting there: the last item is the rest of the text, verbatim apart from trimming.
std::vector<ListItem> split_items(const std::string& name, std::string_view text, std::string_view context,
                                  std::size_t max_items = 0) {
    std::vector<ListItem> items;
    std::size_t pos = 0;
    while (true) {
        pos = skip_space(text, pos);
        bool last = max_items > 0 && items.size() + 1 == max_items;
        ListItem item;
        if (pos < text.size() && is_quote(text[pos])) {
            auto close = text.find(text[pos], pos + 1);
            if (close == std::string_view::npos) {
                fail(name, "unterminated quote " + std::string(1, text[pos]) + " in '" +
                               std::string(context) + "'");
            }
            item = {std::string(text.substr(pos + 1, close - pos - 1)), true};
            pos = skip_space(text, close + 1);
            if (pos < text.size() && text[pos] != ',') {
                fail(name, "unexpected text after a closing quote in '" + std::string(context) +
                               "' (quote the whole value)");
            }
            if (last && pos < text.size()) fail(name, "too many arguments in '" + std::string(context) + "'");
        } else {
            auto end = last ? text.size() : std::min(text.find(',', pos), text.size());
            item = {std::string(trim(text.substr(pos, end - pos))), false};
            if (item.text.empty()) {
                fail(name, "empty value (item " + std::to_string(items.size() + 1) + ") in '" +
                               std::string(context) + "'");
            }
            pos = end;
        }
        items.push_back(std::move(item));
        if (pos >= text.size()) break;
        ++pos;  // the comma
    }
    return items;
}

std::vector<std::string> split_args(const std::string& name, std::string_view args, std::string_view call) {
    std::vector<std::string> out;
    if (trim(args).empty()) return out;
    for (auto& item : split_items(name, args, call)) out.push_back(std::move(item.text));
    return out;
}

std::int64_t int_arg(const std::string& name, const std::string& arg, const char* form) {
    auto parsed = parse_int(arg);
    if (parsed.status == ParseStatus::OutOfRange) {
        fail(name, std::string("integer '") + arg + "' does not fit in 64 bits in " + form);
    }
    if (parsed.status != ParseStatus::Ok)
        fail(name, std::string("expected an integer in ") + form + ", got '" + arg + "'");
    return parsed.value;
}

double number_arg(const std::string& name, const std::string& arg, const char* form) {
    auto parsed = parse_number(arg);
    if (parsed.status == ParseStatus::OutOfRange) {
        fail(name, std::string("number '") + arg + "' is out of the range of a double in " + form);
    }
    if (parsed.status != ParseStatus::Ok)
        fail(name, std::string("expected a number in ") + form + ", got '" + arg + "'");
    return parsed.value;
}

std::uint64_t count_arg(const std::string& name, const std::string& arg, const char* form) {
    auto parsed = parse_int(arg);
    if (parsed.status != ParseStatus::Ok)
        fail(name, std::string("expected an integer n in ") + form + ", got '" + arg + "'");
    if (parsed.value < 1) fail(name, std::string("n must be at least 1 in ") + form + ", got '" + arg + "'");
    return static_cast<std::uint64_t>(parsed.value);
}

void check_arg_count(const std::string& name, const std::vector<std::string>& args, std::size_t min,
                     std::size_t max, const char* form, std::string_view call) {
    if (args.size() >= min && args.size() <= max) return;
    std::string expected =
        min == max ? std::to_string(min) : std::to_string(min) + " or " + std::to_string(max);
    fail(name, std::string(form) + " takes " + expected + " arguments, got " + std::to_string(args.size()) +
                   " in '" + std::string(call) + "'");
}

Axis call_range(const std::string& name, std::string_view args, std::string_view call) {
    const char* form = "range(start,stop[,step])";
    auto a = split_args(name, args, call);
    check_arg_count(name, a, 2, 3, form, call);
    auto start = int_arg(name, a[0], form);
    auto stop = int_arg(name, a[1], form);
    auto step = a.size() == 3 ? int_arg(name, a[2], form) : 1;
    if (step == 0) fail(name, "step must not be 0 in '" + std::string(call) + "'");
    if ((step > 0 && start >= stop) || (step < 0 && start <= stop)) {
        fail(name, "empty axis: '" + std::string(call) + "' has no values (stop is exclusive)");
    }
    return Axis::range(name, start, stop, step);
}

Axis call_space(const std::string& name, std::string_view args, std::string_view call, bool log) {
    const char* form = log ? "logspace(a,b,n)" : "linspace(a,b,n)";
    auto a = split_args(name, args, call);
    check_arg_count(name, a, 3, 3, form, call);
    double from = number_arg(name, a[0], form);
    double to = number_arg(name, a[1], form);
    auto n = count_arg(name, a[2], form);
    return log ? Axis::logspace(name, from, to, n) : Axis::linspace(name, from, to, n);
}

Axis call_files(const std::string& name, std::string_view args, std::string_view call) {
    auto a = split_items(name, args, call, 2);
    if (a.size() != 2) {
        fail(name, "files takes 2 arguments (DIR,REGEX), got " + std::to_string(a.size()) + " in '" +
                       std::string(call) + "'");
    }
    auto paths = matching_files(name, a[0].text, a[1].text, call);
    std::vector<Value> values(paths.begin(), paths.end());
    return Axis::list(name, std::move(values));
}

Axis call_function(const std::string& name, std::string_view function, std::string_view args,
                   std::string_view call) {
    if (function == "range") return call_range(name, args, call);
    if (function == "linspace") return call_space(name, args, call, false);
    if (function == "logspace") return call_space(name, args, call, true);
    if (function == "files") return call_files(name, args, call);
    fail(name,
         "unknown function '" + std::string(function) + "' in '" + std::string(call) +
             "' (expected range, linspace, logspace or files; quote a value that contains parentheses)");
}

// `ident(...)` at the start: the function name, else empty.
std::string_view function_name(std::string_view spec) {
    std::size_t i = 0;
    auto ident = [](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (!first && c >= '0' && c <= '9');
    };
    while (i < spec.size() && ident(spec[i], i == 0)) ++i;
    if (i == 0 || i >= spec.size() || spec[i] != '(') return {};
    return spec.substr(0, i);
}

}  // namespace

ValueType parse_type_name(const std::string& name, std::string_view type) {
    for (auto t : {ValueType::Int, ValueType::Float, ValueType::String, ValueType::Bool}) {
        if (type == type_name(t)) return t;
    }
    fail(name, "unknown type '" + std::string(type) + "' (expected int, float, str or bool)");
}

Axis axis_from_items(const std::string& name, const std::vector<ListItem>& items,
                     std::optional<ValueType> forced) {
    if (items.empty()) fail(name, "empty axis: no values");
    std::vector<Value> values;
    values.reserve(items.size());
    if (forced) {
        for (const auto& item : items) {
            auto v = convert_text(item.text, *forced);
            if (!v)
                fail(name,
                     "value '" + item.text + "' does not convert to " + std::string(type_name(*forced)));
            values.push_back(std::move(*v));
        }
        return Axis::list(name, std::move(values));
    }
    bool all_bool = true, all_number = true;
    for (const auto& item : items) {
        all_bool = all_bool && !item.quoted && parse_bool(item.text).has_value();
        all_number = all_number && !item.quoted && (is_int_syntax(item.text) || is_float_syntax(item.text));
    }
    for (const auto& item : items) {
        if (all_bool) {
            values.emplace_back(*parse_bool(item.text));
        } else if (!all_number) {
            values.emplace_back(item.text);
        } else if (is_int_syntax(item.text)) {
            auto i = parse_int(item.text);
            if (i.status != ParseStatus::Ok)
                fail(name, "integer '" + item.text + "' does not fit in 64 bits");
            values.emplace_back(i.value);
        } else {
            auto f = parse_number(item.text);
            if (f.status != ParseStatus::Ok)
                fail(name, "number '" + item.text + "' is out of the range of a double");
            values.emplace_back(f.value);
        }
    }
    return Axis::list(name, std::move(values));  // ints mixed with floats become floats
}

Axis parse_axis_spec(const std::string& name, std::string_view spec, std::optional<ValueType> forced) {
    spec = trim(spec);
    if (spec.empty()) fail(name, "empty axis: no values after '='");
    auto function = function_name(spec);
    bool known =
        function == "range" || function == "linspace" || function == "logspace" || function == "files";
    if (!function.empty() && spec.back() == ')') {
        auto args = spec.substr(function.size() + 1, spec.size() - function.size() - 2);
        Axis axis = call_function(name, function, args, spec);
        return forced ? axis.as_type(*forced) : axis;
    }
    if (known) fail(name, "missing ')' at the end of '" + std::string(spec) + "'");
    return axis_from_items(name, split_items(name, spec, spec), forced);
}

}  // namespace detail

Axis parse_axis(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos) {
        throw SpecError("param '" + std::string(text) + "': missing '=' (expected name[:type]=SPEC)");
    }
    auto lhs = detail::trim(text.substr(0, eq));
    auto colon = lhs.find(':');
    std::string name(detail::trim(lhs.substr(0, colon)));
    if (name.empty()) {
        throw SpecError("param '" + std::string(text) +
                        "': empty name before '=' (expected name[:type]=SPEC)");
    }
    if (!is_valid_name(name)) {
        throw SpecError("param '" + name + "': invalid name in '" + std::string(text) +
                        "': use letters, digits and '_', not starting with a digit");
    }
    std::optional<ValueType> forced;
    if (colon != std::string_view::npos)
        forced = detail::parse_type_name(name, detail::trim(lhs.substr(colon + 1)));
    return detail::parse_axis_spec(name, text.substr(eq + 1), forced);
}

Grid parse_grid(const std::vector<std::string>& params, const std::vector<std::string>& zips) {
    std::vector<Axis> axes;
    axes.reserve(params.size());
    for (const auto& p : params) axes.push_back(parse_axis(p));
    std::vector<std::vector<std::string>> zip_names;
    for (const auto& z : zips) {
        std::vector<std::string> names;
        std::string_view rest = z;
        while (true) {
            auto comma = rest.find(',');
            auto name = detail::trim(rest.substr(0, comma));
            if (name.empty()) throw SpecError("zip '" + z + "': empty param name (expected a,b[,c...])");
            names.emplace_back(name);
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
        zip_names.push_back(std::move(names));
    }
    return Grid(std::move(axes), zip_names);
}

}  // namespace mpisweep
