// `mpisweep export FILE --csv OUT`: one row per task: params, results and task info.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "cli/commands.hpp"
#include "cli/results_file.hpp"
#include "cli/subcommand_args.hpp"
#include "cli/table.hpp"
#include "cli/usage_error.hpp"

namespace mpisweep::cli {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTaskColumns = {"status", "attempts", "worker",    "device", "node",
                                               "start",  "wall_s",   "exit_code", "error"};

// A number cell: shortest round-trip text; missing (NaN) is an empty cell.
std::string number_cell(double d) {
    return std::isnan(d) ? "" : number_text(d);
}

void write_csv(std::ostream& out, const ResultsFile& file) {
    std::set<std::string> taken = {"task_id"};
    taken.insert(kTaskColumns.begin(), kTaskColumns.end());
    for (const Column& p : file.params) taken.insert(p.name);
    // A result named like a parameter or a task column keeps its HDF5 path as its name.
    auto result_name = [&](const Column& r) { return taken.count(r.name) ? "results/" + r.name : r.name; };

    std::string header = "task_id";
    for (const Column& p : file.params) header += "," + csv_field(p.name);
    for (const Column& r : file.results) {
        if (r.kind == Column::Kind::FloatArray) {
            for (std::size_t j = 0; j < r.width; ++j)
                header += "," + csv_field(result_name(r) + "[" + std::to_string(j) + "]");
        } else {
            header += "," + csv_field(result_name(r));
        }
    }
    for (const auto& name : kTaskColumns) header += "," + name;
    out << header << '\n';

    for (std::size_t i = 0; i < file.status.size(); ++i) {
        std::string line = std::to_string(i);
        for (const Column& p : file.params) line += "," + csv_field(p.text(i));
        // Only a done task has results; other rows hold the columns' fill values.
        const bool done = file.status[i] == RowStatus::Done;
        for (const Column& r : file.results) {
            if (r.kind == Column::Kind::FloatArray) {
                for (std::size_t j = 0; j < r.width; ++j) {
                    line += "," + (done ? number_cell(r.floats[i * r.width + j]) : std::string());
                }
            } else if (r.kind == Column::Kind::Float) {
                line += "," + (done ? number_cell(r.floats[i]) : std::string());
            } else {
                line += "," + (done ? csv_field(r.text(i)) : std::string());
            }
        }
        line += std::string(",") + status_name(file.status[i]);
        line += "," + std::to_string(file.attempts[i]);
        line += "," + std::to_string(file.worker[i]);
        line += "," + std::to_string(file.device[i]);
        line += "," + csv_field(file.node_name(i));
        line += "," + number_cell(file.start[i]);
        line += "," + number_cell(file.wall_s[i]);
        line += "," + std::to_string(file.exit_code[i]);
        line += "," + csv_field(file.error[i]);
        out << line << '\n';
    }
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
    CLI::App app(
        "Writes a results file as CSV: one row per task with its params, results and "
        "task info (status, attempts, worker, device, node, start, wall_s, exit_code, error).",
        "mpisweep export");
    std::string path, csv;
    app.add_option("FILE", path, "Results file")->required();
    app.add_option("--csv", csv, "CSV file to write ('-' for stdout)")->required();
    if (!parse_subcommand(app, "export", args)) return 0;

    const ResultsFile file = read_results_file(path);
    if (csv == "-") {
        write_csv(std::cout, file);
        return 0;
    }
    const fs::path target(csv);
    const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw UsageError("export: cannot write '" + csv + "': folder '" + folder.string() +
                         "' does not exist; expected an existing folder");
    }
    // Written beside the target and renamed, so a failure leaves no half-written CSV.
    const std::string temporary = csv + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) throw UsageError("export: cannot write '" + csv + "' in folder '" + folder.string() + "'");
        write_csv(out, file);
        out.close();
        if (!out) {
            std::remove(temporary.c_str());
            throw std::runtime_error("export: writing '" + temporary + "' failed");
        }
    }
    fs::rename(temporary, target, ec);
    if (ec) {
        std::remove(temporary.c_str());
        throw std::runtime_error("export: cannot move the CSV into place as '" + csv + "': " + ec.message());
    }
    std::cout << "wrote " << file.status.size() << " rows to " << csv << '\n';
    return 0;
}

}  // namespace mpisweep::cli
