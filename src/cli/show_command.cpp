// `mpisweep show FILE --task ID`: everything the file knows about one task.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/results_file.hpp"
#include "cli/subcommand_args.hpp"
#include "cli/table.hpp"
#include "cli/task_logs.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/command.hpp"

namespace mpisweep::cli {
namespace {

std::uint64_t parse_task_id(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || errno != 0 || end != text.c_str() + text.size()) {
        throw UsageError("show: --task: expected a task id (an integer >= 0), got '" + text + "'");
    }
    return value;
}

std::string utc_time(double unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
    return text;
}

}  // namespace

int show_command(const std::vector<std::string>& args) {
    CLI::App app("Everything a results file holds about one task.", "mpisweep show");
    std::string path, task_text;
    app.add_option("FILE", path, "Results file")->required();
    app.add_option("--task", task_text, "Task id (row of the file, 0-based)")->required();
    if (!parse_subcommand(app, "show", args)) return 0;
    const std::uint64_t id = parse_task_id(task_text);

    const ResultsFile file = read_results_file(path);
    if (id >= file.status.size()) {
        throw UsageError("show: task " + std::to_string(id) + " is out of range: '" + path +
                         "' holds tasks 0.." + std::to_string(file.status.size() - 1));
    }
    const auto i = static_cast<std::size_t>(id);
    std::ostream& out = std::cout;
    out << "task " << id << " of " << file.status.size() << " in " << path << ": "
        << status_name(file.status[i]);
    if (file.status[i] == RowStatus::Pending) out << " (not run yet, or its run was stopped)";
    out << "\nparams:\n";
    std::vector<std::vector<std::string>> params;
    for (const Column& p : file.params) params.push_back({"  " + p.name, p.text(i)});
    for (const auto& row : params) out << row[0] << " = " << row[1] << '\n';
    if (file.status[i] == RowStatus::Done) {
        out << "results:" << (file.results.empty() ? " none\n" : "\n");
        for (const Column& r : file.results) out << "  " << r.name << " = " << r.text(i) << '\n';
    }
    out << "attempts: " << file.attempts[i] << '\n';
    if (file.status[i] != RowStatus::Pending) {
        out << "worker: rank " << file.worker[i];
        const std::string node = file.node_name(i);
        if (!node.empty()) out << " on " << node;
        out << ", " << (file.device[i] >= 0 ? "GPU " + std::to_string(file.device[i]) : std::string("CPU"))
            << '\n';
        if (!std::isnan(file.start[i])) {
            out << "start: " << utc_time(file.start[i]) << ", wall " << human_duration(file.wall_s[i])
                << '\n';
        }
        out << "exit code: " << file.exit_code[i] << '\n';
    }
    if (!file.error[i].empty()) {
        out << "error:\n";
        std::istringstream lines(file.error[i]);
        for (std::string line; std::getline(lines, line);) out << "  " << line << '\n';
    }
    print_task_logs(out, path, id);
    return 0;
}

}  // namespace mpisweep::cli
