#include "cli/task_logs.hpp"

#include <cstdio>
#include <ctime>

#include "cli/table.hpp"
#include "mpisweep/command.hpp"

namespace mpisweep::cli {

std::string byte_count(std::uint64_t bytes) {
    if (bytes < 1000) return std::to_string(bytes) + " B";
    const char* units[] = {"kB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1000 && unit < 3) {
        value /= 1000;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
    return text;
}

std::vector<std::string> describe_attempts(const detail::TaskLog& log) {
    std::vector<std::string> lines;
    for (std::size_t k = 0; k < log.attempts.size(); ++k) {
        const detail::LoggedAttempt& a = log.attempts[k];
        std::string line = "attempt " + std::to_string(k + 1) + ": ";
        if (!a.writer.run.empty())
            line += "run " + a.writer.run + " #" + std::to_string(a.attempt_in_run) + ", ";
        line += "rank " + std::to_string(a.writer.rank) + " on " + a.writer.host + ", " + utc_time(a.start) +
                ", " + detail::describe_attempt_end(a);
        if (a.end) line += " after " + human_duration(a.end->wall_s);
        line += "; stdout " + byte_count(a.bytes[0]) + ", stderr " + byte_count(a.bytes[1]);
        lines.push_back(std::move(line));
    }
    return lines;
}

void print_task_logs(std::ostream& out, const std::string& results_path, std::uint64_t task) {
    detail::TaskLog log;
    try {
        log = detail::read_task_log(default_log_dir(results_path), task);
    } catch (const std::exception&) {
        return;  // no log folder beside the file: nothing to point at
    }
    if (log.attempts.empty()) return;
    out << "output (mpisweep log " << results_path << " --task " << task << " [--attempt K] [--stderr]):\n";
    for (const std::string& line : describe_attempts(log)) out << "  " << line << '\n';
}

}  // namespace mpisweep::cli
