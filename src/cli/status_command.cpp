// `mpisweep status FILE`: counts by state, time spent, failures with their errors.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/results_file.hpp"
#include "cli/status_running.hpp"
#include "cli/subcommand_args.hpp"
#include "cli/table.hpp"

namespace mpisweep::cli {
namespace {

// The first line of an error and, when it has more, its last lines (the end of a stderr
// tail says what went wrong).
std::vector<std::string> error_excerpt(const std::string& error, std::size_t last_lines) {
    std::vector<std::string> lines;
    std::istringstream in(error);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() <= last_lines + 1) return lines;
    std::vector<std::string> out = {lines.front(), "..."};
    out.insert(out.end(), lines.end() - static_cast<std::ptrdiff_t>(last_lines), lines.end());
    return out;
}

// "devices: 180 tasks on GPU, 20 on CPU: workers 2, 3 (n2)", for a sweep that had GPUs
// (nothing when every task ran on CPU).
void print_devices(std::ostream& out, const store::ResultsSnapshot& file) {
    std::size_t on_gpu = 0, on_cpu = 0;
    std::map<std::string, std::set<std::int32_t>> cpu_workers;  // by host
    const store::SettledTable& rows = file.rows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows.worker[i] < 0) continue;
        if (rows.device[i] >= 0) {
            ++on_gpu;
        } else {
            ++on_cpu;
            cpu_workers[file.node_name(i)].insert(rows.worker[i]);
        }
    }
    if (on_gpu == 0) return;
    out << "devices: " << on_gpu << " task" << (on_gpu == 1 ? "" : "s") << " on GPU, " << on_cpu << " on CPU";
    const char* sep = ": ";
    for (const auto& [host, workers] : cpu_workers) {
        out << sep << "worker" << (workers.size() == 1 ? " " : "s ");
        const char* comma = "";
        for (std::int32_t w : workers) {
            out << comma << w;
            comma = ", ";
        }
        out << " (" << (host.empty() ? "?" : host) << ")";
        sep = "; ";
    }
    out << '\n';
}

}  // namespace

int status_command(const std::vector<std::string>& args) {
    CLI::App app("Summary of a results file: tasks by state, time spent, failures with their errors.",
                 "mpisweep status");
    std::string path;
    bool all = false;
    app.add_option("FILE", path, "Results file")->required();
    app.add_flag("--all", all, "List every failed task (default: the first 20)");
    bool running = false;
    app.add_flag(
        "--running", running,
        "What a running sweep does now: each running task (id, params, rank, node, attempt, elapsed), "
        "and the retired workers");
    if (!parse_subcommand(app, "status", args)) return 0;
    if (running) return print_running(path, std::cout);

    const store::ResultsSnapshot file = read_results_file(path);
    const store::SettledTable& rows = file.rows;
    double task_time = 0, longest = 0, first_start = std::numeric_limits<double>::infinity(), last_end = 0;
    std::size_t timed = 0;
    std::uint64_t longest_task = 0;
    long long attempts = 0;
    std::vector<std::size_t> failed;  // rows
    for (std::size_t i = 0; i < rows.size(); ++i) {
        attempts += rows.attempts[i];
        if (rows.status[i] == TaskStatus::Failed) failed.push_back(i);
        if (std::isnan(rows.wall_s[i])) continue;
        task_time += rows.wall_s[i];
        ++timed;
        if (rows.wall_s[i] > longest) {
            longest = rows.wall_s[i];
            longest_task = rows.ids[i];
        }
        if (!std::isnan(rows.start[i])) {
            first_start = std::min(first_start, rows.start[i]);
            last_end = std::max(last_end, rows.start[i] + rows.wall_s[i]);
        }
    }

    std::ostream& out = std::cout;
    const std::uint64_t n = file.n_tasks;
    const std::vector<Axis>& axes = file.grid.axes();
    out << file.path << ": " << n << " task" << (n == 1 ? "" : "s") << " over " << axes.size() << " parameter"
        << (axes.size() == 1 ? "" : "s") << " (";
    for (std::size_t p = 0; p < axes.size(); ++p) out << (p ? ", " : "") << axes[p].name();
    out << "), created " << file.created;
    if (file.mpi_size > 0) out << " on " << file.mpi_size << " rank" << (file.mpi_size == 1 ? "" : "s");
    out << '\n';
    if (!file.command.empty()) out << "command: " << file.command << '\n';
    if (file.from_journal_only) {
        out << "journal: the file cannot be read (" << file.file_problem << "); counts are from " << file.path
            << ".journal ('mpisweep run --resume' with the same arguments rebuilds the file)\n";
    } else if (file.journal_records > 0) {
        out << "journal: " << file.journal_records << " task record" << (file.journal_records == 1 ? "" : "s")
            << " settled since the file's last write (the sweep is running, or was stopped)\n";
    }
    out << format_table({"state", "tasks"}, {{"done", std::to_string(file.done)},
                                             {"failed", std::to_string(file.failed)},
                                             {"pending", std::to_string(file.pending())}});
    if (timed > 0) {
        out << "time: " << human_duration(task_time) << " in " << timed << " finished task"
            << (timed == 1 ? "" : "s") << " (mean " << human_duration(task_time / static_cast<double>(timed))
            << ", longest " << human_duration(longest) << " for task " << longest_task << "), " << attempts
            << " attempt" << (attempts == 1 ? "" : "s");
        if (last_end > first_start)
            out << ", first start to last end " << human_duration(last_end - first_start);
        out << ", " << file.nodes.size() << " node" << (file.nodes.size() == 1 ? "" : "s") << '\n';
    } else {
        out << "time: no task has finished yet\n";
    }
    print_devices(out, file);
    if (!failed.empty()) {
        const std::size_t shown = all ? failed.size() : std::min<std::size_t>(failed.size(), 20);
        out << "failed tasks:\n";
        for (std::size_t k = 0; k < shown; ++k) {
            const std::size_t i = failed[k];
            out << "  task " << rows.ids[i] << " (" << params_text(rows, i) << "): " << rows.attempts[i]
                << " attempt" << (rows.attempts[i] == 1 ? "" : "s") << ", exit code " << rows.exit_code[i]
                << '\n';
            for (const auto& line : error_excerpt(rows.error[i], 4)) out << "    " << line << '\n';
        }
        if (shown < failed.size()) {
            out << "  ... and " << failed.size() - shown << " more (--all lists them; 'mpisweep show "
                << file.path << " --task ID' shows one)\n";
        }
    }
    return 0;
}

}  // namespace mpisweep::cli
