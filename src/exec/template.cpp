#include "exec/template.hpp"

#include <algorithm>
#include <array>

#include "mpisweep/command.hpp"

namespace mpisweep::detail {
namespace {

constexpr std::array<const char*, 3> kBuiltins = {"task_id", "attempt", "device"};

[[noreturn]] void fail(const std::string& arg, const std::string& what) {
    throw CommandError("command argument '" + arg + "': " + what);
}

std::string known_names(const std::vector<std::string>& parameter_names) {
    std::string out;
    for (const auto& name : parameter_names) out += (out.empty() ? "" : ", ") + ("{" + name + "}");
    for (const char* name : kBuiltins) out += (out.empty() ? "" : ", ") + ("{" + std::string(name) + "}");
    return out;
}

}  // namespace

CommandTemplate::CommandTemplate(const std::vector<std::string>& args,
                                 const std::vector<std::string>& parameter_names)
    : n_params_(static_cast<int>(parameter_names.size())) {
    for (const std::string& arg : args) {
        std::vector<Piece> pieces;
        std::string literal;
        auto flush_literal = [&] {
            if (!literal.empty()) pieces.push_back({std::move(literal), -1});
            literal.clear();
        };
        for (std::size_t i = 0; i < arg.size(); ++i) {
            const char c = arg[i];
            if (c == '}') {
                if (i + 1 < arg.size() && arg[i + 1] == '}') {
                    literal += '}';
                    ++i;
                    continue;
                }
                fail(arg, "'}' without an opening '{' (write }} for a literal brace)");
            }
            if (c != '{') {
                literal += c;
                continue;
            }
            if (i + 1 < arg.size() && arg[i + 1] == '{') {
                literal += '{';
                ++i;
                continue;
            }
            const std::size_t close = arg.find('}', i + 1);
            if (close == std::string::npos) {
                fail(arg, "'{' without a closing '}' (write {{ for a literal brace)");
            }
            const std::string name = arg.substr(i + 1, close - i - 1);
            if (name.empty()) fail(arg, "empty placeholder {}; expected {name} of a parameter");
            if (name.find('{') != std::string::npos) {
                fail(arg, "'{' inside a placeholder (write {{ for a literal brace)");
            }
            const auto param = std::find(parameter_names.begin(), parameter_names.end(), name);
            const auto builtin =
                std::find_if(kBuiltins.begin(), kBuiltins.end(), [&](const char* b) { return name == b; });
            if (param != parameter_names.end() && builtin != kBuiltins.end()) {
                fail(arg, "placeholder {" + name +
                              "} is ambiguous: a parameter has the name of "
                              "the built-in {" +
                              name + "}; rename the parameter");
            }
            int slot = -1;
            if (param != parameter_names.end()) {
                slot = static_cast<int>(param - parameter_names.begin());
            } else if (builtin != kBuiltins.end()) {
                slot = n_params_ + static_cast<int>(builtin - kBuiltins.begin());
            } else {
                fail(arg, "unknown placeholder {" + name + "}; expected one of " +
                              known_names(parameter_names) + " (write {{ and }} for literal braces)");
            }
            flush_literal();
            pieces.push_back({std::string(), slot});
            i = close;
        }
        flush_literal();
        args_.push_back(std::move(pieces));
    }
}

std::vector<std::string> CommandTemplate::expand(const std::vector<Value>& params,
                                                 const TemplateBuiltins& builtins) const {
    std::vector<std::string> out;
    out.reserve(args_.size());
    for (const auto& pieces : args_) {
        std::string arg;
        for (const Piece& piece : pieces) {
            if (piece.slot < 0) {
                arg += piece.literal;
            } else if (piece.slot < n_params_) {
                arg += to_string(params.at(static_cast<std::size_t>(piece.slot)));
            } else {
                switch (piece.slot - n_params_) {
                    case 0:
                        arg += std::to_string(builtins.task_id);
                        break;
                    case 1:
                        arg += std::to_string(builtins.attempt);
                        break;
                    default:
                        arg += builtins.device;
                        break;
                }
            }
        }
        out.push_back(std::move(arg));
    }
    return out;
}

bool CommandTemplate::has_placeholder(std::size_t index) const {
    const auto& pieces = args_.at(index);
    return std::any_of(pieces.begin(), pieces.end(), [](const Piece& p) { return p.slot >= 0; });
}

}  // namespace mpisweep::detail
