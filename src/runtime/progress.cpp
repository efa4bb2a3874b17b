#include "runtime/progress.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace mpisweep {

std::string format_duration(Seconds s) {
    if (!(s >= 0) || !std::isfinite(s)) return "?";
    const auto total = static_cast<long long>(std::llround(s));
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

std::string format_progress(const SchedulerCounts& c, std::uint64_t settled_at_start, Seconds elapsed) {
    const std::uint64_t settled = c.done + c.failed;
    const std::uint64_t this_run = settled > settled_at_start ? settled - settled_at_start : 0;
    const std::uint64_t left = c.total - settled;
    std::string line = "[" + std::to_string(c.done) + "/" + std::to_string(c.total) + "]";
    line += " failed " + std::to_string(c.failed) + ", running " + std::to_string(c.running);
    if (this_run > 0 && elapsed > 0) {
        const double rate = static_cast<double>(this_run) / elapsed;
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

ProgressReporter::ProgressReporter(std::ostream& out, Seconds interval, bool in_place, Seconds start,
                                   std::uint64_t settled_at_start)
    : out_(out),
      interval_(interval),
      start_(start),
      last_(start),
      in_place_(in_place),
      settled_at_start_(settled_at_start) {}

void ProgressReporter::maybe_report(const SchedulerCounts& counts, Seconds now) {
    if (interval_ <= 0 || now - last_ < interval_) return;
    last_ = now;
    const std::string line = format_progress(counts, settled_at_start_, now - start_);
    if (in_place_) {
        // Pad over the previous, possibly longer, line.
        out_ << '\r' << line;
        if (line.size() < last_width_) out_ << std::string(last_width_ - line.size(), ' ');
        last_width_ = line.size();
        out_.flush();
    } else {
        out_ << "mpisweep: " << line << '\n' << std::flush;
    }
}

void ProgressReporter::finish(const SchedulerCounts& counts, Seconds now) {
    if (interval_ <= 0) return;
    last_ = now - interval_;  // force
    maybe_report(counts, now);
    if (in_place_) out_ << '\n' << std::flush;
}

}  // namespace mpisweep
