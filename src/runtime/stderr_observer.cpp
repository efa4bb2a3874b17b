// StderrObserver: the lines the mpisweep command prints. The only code of the library that
// writes to a stream, and only because Options::observer chose it.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "mpisweep/observer.hpp"

namespace mpisweep {

StderrObserver::StderrObserver() : StderrObserver(std::cerr, isatty(STDERR_FILENO) != 0) {}

StderrObserver::StderrObserver(std::ostream& out, bool in_place) : out_(out), in_place_(in_place) {}

void StderrObserver::on_message(MessageLevel, std::string_view text) {
    if (line_open_) {  // end the in-place progress line first
        out_ << '\n';
        line_open_ = false;
    }
    out_ << "mpisweep: " << text << '\n' << std::flush;
}

void StderrObserver::on_start(const SweepCounts& counts) {
    settled_at_start_ = counts.done + counts.failed;
}

void StderrObserver::on_progress(const SweepCounts& counts, double elapsed_s) {
    const std::string line = progress_line(counts, settled_at_start_, elapsed_s);
    if (!in_place_) {
        out_ << "mpisweep: " << line << '\n' << std::flush;
        return;
    }
    // Pad over the previous, possibly longer, line.
    out_ << '\r' << line;
    if (line.size() < last_width_) out_ << std::string(last_width_ - line.size(), ' ');
    last_width_ = line.size();
    line_open_ = true;
    out_.flush();
}

void StderrObserver::on_end(const SweepCounts&, int) {
    if (!line_open_) return;
    out_ << '\n' << std::flush;
    line_open_ = false;
}

std::string StderrObserver::format_duration(double seconds) {
    if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
    const auto total = static_cast<long long>(std::llround(seconds));
    char buf[48];
    if (total < 60) {
        std::snprintf(buf, sizeof buf, "%llds", total);
    } else if (total < 3600) {
        std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
    }
    return buf;
}

std::string StderrObserver::progress_line(const SweepCounts& c, std::uint64_t settled_at_start,
                                          double elapsed_s) {
    const std::uint64_t settled = c.done + c.failed;
    const std::uint64_t this_run = settled > settled_at_start ? settled - settled_at_start : 0;
    const std::uint64_t left = c.total - settled;
    std::string line = "[" + std::to_string(c.done) + "/" + std::to_string(c.total) + "]";
    line += " failed " + std::to_string(c.failed) + ", running " + std::to_string(c.running);
    if (this_run > 0 && elapsed_s > 0) {
        const double rate = static_cast<double>(this_run) / elapsed_s;
        char buf[32];
        std::snprintf(buf, sizeof buf, ", %.3g tasks/s", rate);
        line += buf;
        line += ", ETA " + format_duration(static_cast<double>(left) / rate);
    } else {
        line += left == 0 ? ", ETA 0s" : ", ETA ?";
    }
    if (c.retired > 0) line += ", retired workers " + std::to_string(c.retired);
    return line;
}

}  // namespace mpisweep
