#include "mpisweep/value.hpp"

#include <charconv>
#include <system_error>

namespace mpisweep {

std::string_view type_name(ValueType t) {
    switch (t) {
        case ValueType::Int:
            return "int";
        case ValueType::Float:
            return "float";
        case ValueType::String:
            return "str";
        case ValueType::Bool:
            return "bool";
    }
    return "?";
}

std::string to_string(const Value& v) {
    struct Visitor {
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const {
            char buf[32];
            // Shortest text that reads back to the same double: 0.1 -> "0.1", not "0.100000".
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
            return ec == std::errc{} ? std::string(buf, end) : std::to_string(d);
        }
        std::string operator()(const std::string& s) const { return s; }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
    };
    return std::visit(Visitor{}, v);
}

}  // namespace mpisweep
