#pragma once
// Command-line parsing shared by the probe programs (sweep_probe, crash_probe, drain_probe)
// that the scripted MPI tests drive: the options every probe takes, and a reader for its own.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "mpisweep/mpisweep.hpp"

namespace probe {

/// What every probe takes: the grid size, where task logs go, and the sweep's file options.
struct CommonArgs {
    mpisweep::Options options;
    long long tasks = 0;
    std::string log_dir = ".";
};

class ArgReader {
public:
    ArgReader(const char* program, int argc, char** argv) : program_(program), argc_(argc), argv_(argv) {}

    /// Moves to the next argument; false after the last.
    bool next() { return ++i_ < argc_; }
    bool is(const char* name) const { return name == std::string(argv_[i_]); }
    /// The value after the current option (exits 2 when it is missing).
    std::string value() {
        if (i_ + 1 >= argc_) fail(std::string(argv_[i_]) + ": expected a value");
        return argv_[++i_];
    }
    long long integer() { return std::stoll(value()); }

    /// Takes the current argument when it is one of CommonArgs'; false otherwise.
    bool common(CommonArgs& common) {
        mpisweep::Options& o = common.options;
        if (is("--output"))
            o.output = value();
        else if (is("--tasks"))
            common.tasks = integer();
        else if (is("--log-dir"))
            common.log_dir = value();
        else if (is("--resume"))
            o.resume = true;
        else if (is("--force"))
            o.overwrite = true;
        else if (is("--flush-rows"))
            o.flush_rows = static_cast<std::size_t>(integer());
        else if (is("--flush-ms"))
            o.flush_interval = std::chrono::milliseconds(integer());
        else
            return false;
        return true;
    }

    [[noreturn]] void unknown() const { fail("unknown argument " + std::string(argv_[i_])); }
    [[noreturn]] void fail(const std::string& message) const {
        std::cerr << program_ << ": " << message << '\n';
        std::exit(2);
    }

private:
    const char* program_;
    int argc_;
    char** argv_;
    int i_ = 0;
};

}  // namespace probe
