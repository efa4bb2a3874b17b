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

}  // namespace

int show_command(const std::vector<std::string>& args) {
    CLI::App app("Everything a results file holds about one task.", "mpisweep show");
    std::string path, task_text;
    app.add_option("FILE", path, "Results file")->required();
    app.add_option("--task", task_text, "Task id (row of the file, 0-based)")->required();
    if (!parse_subcommand(app, "show", args)) return 0;
    const std::uint64_t id = parse_task_id(task_text);

    const store::ResultsSnapshot file = read_results_file(path);
    if (id >= file.n_tasks) {
        throw UsageError("show: task " + std::to_string(id) + " is out of range: '" + path +
                         "' holds tasks 0.." + std::to_string(file.n_tasks - 1));
    }
    const store::SettledTable& rows = file.rows;
    const std::size_t i = rows.find(id);
    std::ostream& out = std::cout;
    out << "task " << id << " of " << file.n_tasks << " in " << path << ": "
        << status_name(i == store::SettledTable::npos ? TaskStatus::Pending : rows.status[i]);
    if (i == store::SettledTable::npos) {
        out << " (not run yet, or its run was stopped)\nparams:\n";
        for (const auto& [name, text] : point_texts(file.grid, id))
            out << "  " << name << " = " << text << '\n';
        out << "attempts: 0\n";
        print_task_logs(out, path, id);
        return 0;
    }
    out << "\nparams:\n";
    for (const store::ValueColumn& p : rows.params)
        out << "  " << p.name << " = " << value_text(p, i) << '\n';
    if (rows.status[i] == TaskStatus::Done) {
        out << "results:" << (rows.results.empty() ? " none\n" : "\n");
        for (const store::ValueColumn& r : rows.results)
            out << "  " << r.name << " = " << value_text(r, i) << '\n';
    }
    out << "attempts: " << rows.attempts[i] << '\n';
    out << "worker: rank " << rows.worker[i];
    const std::string node = file.node_name(i);
    if (!node.empty()) out << " on " << node;
    out << ", " << (rows.device[i] >= 0 ? "GPU " + std::to_string(rows.device[i]) : std::string("CPU"))
        << '\n';
    if (!std::isnan(rows.start[i]))
        out << "start: " << utc_time(rows.start[i]) << ", wall " << human_duration(rows.wall_s[i]) << '\n';
    out << "exit code: " << rows.exit_code[i] << '\n';
    if (!rows.error[i].empty()) {
        out << "error:\n";
        std::istringstream lines(rows.error[i]);
        for (std::string line; std::getline(lines, line);) out << "  " << line << '\n';
    }
    print_task_logs(out, path, id);
    return 0;
}

}  // namespace mpisweep::cli
