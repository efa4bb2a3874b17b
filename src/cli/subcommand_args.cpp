#include "cli/subcommand_args.hpp"

#include <iostream>

#include "cli/usage_error.hpp"

namespace mpisweep::cli {

bool parse_subcommand(CLI::App& app, const std::string& name, const std::vector<std::string>& args) {
    app.allow_extras();
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return false;
    } catch (const CLI::ParseError& e) {
        throw UsageError(name + ": " + e.what() + "; see 'mpisweep " + name + " --help'");
    }
    if (!app.remaining().empty()) {
        const std::string first = app.remaining().front();
        if (first.size() > 1 && first[0] == '-') {
            throw UsageError(name + ": unknown option '" + first + "'; see 'mpisweep " + name + " --help'");
        }
        throw UsageError(name + ": unexpected argument '" + first + "'; see 'mpisweep " + name + " --help'");
    }
    return true;
}

}  // namespace mpisweep::cli
