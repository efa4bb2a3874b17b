// `mpisweep best FILE --metric NAME [--max] [-n K]`: the best parameter sets as a table.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/option_values.hpp"
#include "cli/results_file.hpp"
#include "cli/subcommand_args.hpp"
#include "cli/table.hpp"
#include "cli/usage_error.hpp"

namespace mpisweep::cli {

int best_command(const std::vector<std::string>& args) {
    CLI::App app("The best parameter sets of a results file by one numeric result.", "mpisweep best");
    std::string path, metric, count_text = "10";
    bool maximize = false;
    app.add_option("FILE", path, "Results file")->required();
    app.add_option("--metric", metric, "Result to rank by, e.g. loss")->required();
    app.add_flag("--max", maximize, "Largest first (default: smallest first)");
    app.add_option("-n", count_text, "How many to show (default 10)");
    if (!parse_subcommand(app, "best", args)) return 0;
    const int count = parse_int_option("-n", count_text, 1);

    const ResultsFile file = read_results_file(path);
    const Column* column = file.result(metric);
    if (column == nullptr) {
        std::string known;
        for (const Column& c : file.results) known += (known.empty() ? "" : ", ") + c.name;
        throw UsageError(
            "best: no result '" + metric + "' in '" + path + "'; " +
            (known.empty() ? std::string("it has no results yet") : "its results are: " + known));
    }
    if (!column->is_numeric()) {
        throw UsageError("best: result '" + metric + "' holds " +
                         (column->kind == Column::Kind::String ? "strings" : "arrays") +
                         "; expected a numeric result");
    }
    std::vector<std::size_t> rows;
    std::size_t done = 0;
    for (std::size_t i = 0; i < file.status.size(); ++i) {
        if (file.status[i] != RowStatus::Done) continue;
        ++done;
        if (!std::isnan(column->number(i))) rows.push_back(i);
    }
    if (rows.empty()) {
        std::cerr << "mpisweep: best: no done task has a value for '" << metric << "' (" << done << " of "
                  << file.status.size() << " tasks done)\n";
        return 1;
    }
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
        return maximize ? column->number(a) > column->number(b) : column->number(a) < column->number(b);
    });
    rows.resize(std::min(rows.size(), static_cast<std::size_t>(count)));

    std::vector<std::string> header = {"#", "task"};
    for (const Column& p : file.params) header.push_back(p.name);
    header.push_back(metric);
    std::vector<std::vector<std::string>> table;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const std::size_t i = rows[k];
        std::vector<std::string> line = {std::to_string(k + 1), std::to_string(i)};
        for (const Column& p : file.params) line.push_back(p.text(i));
        line.push_back(column->text(i, 6));
        table.push_back(std::move(line));
    }
    std::cout << "best " << rows.size() << " of " << done << " done task" << (done == 1 ? "" : "s") << " by "
              << metric << " (" << (maximize ? "largest" : "smallest") << " first):\n"
              << format_table(header, table);
    return 0;
}

}  // namespace mpisweep::cli
