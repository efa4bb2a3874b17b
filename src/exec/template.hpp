#pragma once
// Command-line templates: `--lr={lr}` with {name} placeholders, parsed and checked once
// against the grid's parameter names, then expanded for each task without re-parsing.
#include <cstdint>
#include <string>
#include <vector>

#include "mpisweep/value.hpp"

namespace mpisweep::detail {

/// What the built-in placeholders stand for in one task.
struct TemplateBuiltins {
    std::uint64_t task_id = 0;
    int attempt = 1;
    std::string device = "-1";  ///< the GPU ordinals, comma-separated ("0", "0,1"); "-1" on CPU
};

class CommandTemplate {
public:
    /// Parses `args`; every {name} must be one of `parameter_names` or task_id, attempt,
    /// device; `{{` and `}}` are literal braces. Throws CommandError naming the argument
    /// and what is wrong (unknown or ambiguous name, unbalanced brace, empty {}).
    CommandTemplate(const std::vector<std::string>& args, const std::vector<std::string>& parameter_names);

    /// The arguments for one task; `params` in the order of `parameter_names`.
    std::vector<std::string> expand(const std::vector<Value>& params, const TemplateBuiltins& builtins) const;

    /// True when argument `index` contains a placeholder.
    bool has_placeholder(std::size_t index) const;

private:
    // A piece of an argument: literal text (slot < 0) or a placeholder: slot < number of
    // parameters is a parameter, the next three are the built-ins.
    struct Piece {
        std::string literal;
        int slot = -1;
    };
    std::vector<std::vector<Piece>> args_;
    int n_params_ = 0;
};

}  // namespace mpisweep::detail
