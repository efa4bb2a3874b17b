// `mpisweep export FILE --csv OUT [--pending]`: one row per settled task (or per task): params, results, task info.
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
#include "mpisweep/grid.hpp"

namespace mpisweep::cli {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTaskColumns = {"status", "attempts", "worker",    "device", "node",
                                               "start",  "wall_s",   "exit_code", "error"};

// A number cell: shortest round-trip text; missing (NaN) is an empty cell.
std::string number_cell(double d) {
    return std::isnan(d) ? "" : number_text(d);
}

// The most rows --pending writes: one per task of the grid, pending ones too.
constexpr std::uint64_t kMaxPendingRows = 100'000'000;

std::string header_line(const store::ResultsSnapshot& file) {
    const store::SettledTable& rows = file.rows;
    std::set<std::string> taken = {"task_id"};
    taken.insert(kTaskColumns.begin(), kTaskColumns.end());
    for (const Axis& axis : file.grid.axes()) taken.insert(axis.name());
    // A result named like a parameter or a task column keeps its HDF5 path as its name.
    auto result_name = [&](const store::ValueColumn& r) {
        return taken.count(r.name) ? "results/" + r.name : r.name;
    };
    std::string header = "task_id";
    for (const Axis& axis : file.grid.axes()) header += "," + csv_field(axis.name());
    for (const store::ValueColumn& r : rows.results) {
        if (r.type.kind == store::ColumnType::Kind::Array) {
            for (std::size_t j = 0; j < r.type.width; ++j)
                header += "," + csv_field(result_name(r) + "[" + std::to_string(j) + "]");
        } else {
            header += "," + csv_field(result_name(r));
        }
    }
    for (const auto& name : kTaskColumns) header += "," + name;
    return header;
}

// A variable-length array in one cell, as JSON: [0.5,0.25] ([] for none).
std::string list_cell(const std::vector<double>& values) {
    std::string out = "[";
    for (std::size_t j = 0; j < values.size(); ++j) {
        const double d = values[j];
        out += (j ? "," : "") + (std::isnan(d)   ? std::string("NaN")
                                 : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity")
                                                 : number_text(d));
    }
    return out + "]";
}

std::string settled_line(const store::ResultsSnapshot& file, std::size_t i) {
    const store::SettledTable& rows = file.rows;
    std::string line = std::to_string(rows.ids[i]);
    for (const store::ValueColumn& p : rows.params) line += "," + csv_field(value_text(p, i));
    // Only a done task has results; a failed row holds the columns' fill values.
    const bool done = rows.status[i] == TaskStatus::Done;
    for (const store::ValueColumn& r : rows.results) {
        switch (r.type.kind) {
            case store::ColumnType::Kind::Array:
                for (std::size_t j = 0; j < r.type.width; ++j)
                    line += "," + (done ? number_cell(r.doubles[i * r.type.width + j]) : std::string());
                break;
            case store::ColumnType::Kind::List:
                line += "," + (done ? csv_field(list_cell(r.lists[i])) : std::string());
                break;
            case store::ColumnType::Kind::Float:
                line += "," + (done ? number_cell(r.doubles[i]) : std::string());
                break;
            default:
                line += "," + (done ? csv_field(value_text(r, i)) : std::string());
        }
    }
    line += std::string(",") + status_name(rows.status[i]);
    line += "," + std::to_string(rows.attempts[i]);
    line += "," + std::to_string(rows.worker[i]);
    line += "," + std::to_string(rows.device[i]);
    line += "," + csv_field(file.node_name(i));
    line += "," + number_cell(rows.start[i]);
    line += "," + number_cell(rows.wall_s[i]);
    line += "," + std::to_string(rows.exit_code[i]);
    line += "," + csv_field(rows.error[i]);
    return line;
}

std::string pending_line(const store::ResultsSnapshot& file, std::uint64_t id, std::size_t result_cells) {
    std::string line = std::to_string(id);
    for (const auto& [name, text] : point_texts(file.grid, id)) line += "," + csv_field(text);
    line += std::string(result_cells, ',');
    return line + ",pending,0,-1,-1,,,,0,";
}

// Writes the header and the rows; returns the number of rows.
std::uint64_t write_csv(std::ostream& out, const store::ResultsSnapshot& file, bool pending) {
    out << header_line(file) << '\n';
    const store::SettledTable& rows = file.rows;
    if (!pending) {
        for (std::size_t i = 0; i < rows.size(); ++i) out << settled_line(file, i) << '\n';
        return rows.size();
    }
    std::size_t result_cells = 0;
    for (const store::ValueColumn& r : rows.results)
        result_cells += r.type.kind == store::ColumnType::Kind::Array ? r.type.width : 1;
    std::size_t next = 0;  // the next settled row
    for (std::uint64_t id = 0; id < file.n_tasks; ++id) {
        if (next < rows.size() && rows.ids[next] == id)
            out << settled_line(file, next++) << '\n';
        else
            out << pending_line(file, id, result_cells) << '\n';
    }
    return file.n_tasks;
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
    CLI::App app(
        "Writes a results file as CSV: one row per settled task (done or failed) with its params, "
        "results and task info (status, attempts, worker, device, node, start, wall_s, exit_code, error).",
        "mpisweep export");
    std::string path, csv;
    bool pending = false;
    app.add_option("FILE", path, "Results file")->required();
    app.add_option("--csv", csv, "CSV file to write ('-' for stdout)")->required();
    app.add_flag("--pending", pending,
                 "Also a row for every pending task (params only): one row per grid point");
    if (!parse_subcommand(app, "export", args)) return 0;

    const store::ResultsSnapshot file = read_results_file(path);
    if (pending && file.n_tasks > kMaxPendingRows)
        throw UsageError("export: --pending: '" + path + "' has " + std::to_string(file.n_tasks) +
                         " tasks, more than the " + std::to_string(kMaxPendingRows) +
                         " rows it writes at most: leave out --pending to export the " +
                         std::to_string(file.rows.size()) + " settled tasks");
    if (csv == "-") {
        write_csv(std::cout, file, pending);
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
    std::uint64_t rows_written = 0;
    const std::string temporary = csv + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) throw UsageError("export: cannot write '" + csv + "' in folder '" + folder.string() + "'");
        rows_written = write_csv(out, file, pending);
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
    std::cout << "wrote " << rows_written << " rows to " << csv << '\n';
    return 0;
}

}  // namespace mpisweep::cli
