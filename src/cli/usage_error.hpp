#pragma once
// Bad input to the `mpisweep` command: printed as one line `mpisweep: <message>`, exit code 2
// (kExitUsage), nothing run and no file touched.
#include <stdexcept>

namespace mpisweep::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace mpisweep::cli
