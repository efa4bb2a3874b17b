#pragma once
// The few options the examples take: --output FILE, --force, --resume, --retry-failed.
#include <cstring>
#include <iostream>
#include <string>

#include "mpisweep/mpisweep.hpp"

namespace examples {

/// Fills `options` from argv; returns false (after printing usage) on anything unknown.
inline bool parse_args(int argc, char** argv, mpisweep::Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--output" && i + 1 < argc) {
            options.output = argv[++i];
        } else if (arg == "--force") {
            options.overwrite = true;
        } else if (arg == "--resume") {
            options.resume = true;
        } else if (arg == "--retry-failed") {
            options.retry_failed = true;
        } else {
            std::cerr << argv[0] << ": unknown argument '" << arg
                      << "'; expected --output FILE, --force, --resume, --retry-failed\n";
            return false;
        }
    }
    options.command = argv[0];
    return true;
}

}  // namespace examples
