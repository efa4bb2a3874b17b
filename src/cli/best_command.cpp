// `mpisweep best FILE --metric NAME [--min|--max] [-n K] [--mean-over AXIS,...]`: the best
// tasks (or parameter sets) as a table.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "cli/best_ranking.hpp"
#include "cli/commands.hpp"
#include "cli/option_values.hpp"
#include "cli/results_file.hpp"
#include "cli/subcommand_args.hpp"
#include "cli/table.hpp"
#include "cli/usage_error.hpp"

namespace mpisweep::cli {

namespace {

const store::ValueColumn& find_metric(const store::ResultsSnapshot& file, const std::string& metric) {
    const store::ValueColumn* column = file.rows.result(metric);
    if (column == nullptr) {
        std::string known;
        for (const store::ValueColumn& c : file.rows.results) known += (known.empty() ? "" : ", ") + c.name;
        throw UsageError(
            "best: no result '" + metric + "' in '" + file.path + "'; " +
            (known.empty() ? std::string("it has no results yet") : "its results are: " + known));
    }
    if (column->type.kind == store::ColumnType::Kind::String)
        throw UsageError("best: result '" + metric +
                         "' holds strings; expected numbers or arrays of numbers");
    return *column;
}

// The indexes into the params of the axes named in --mean-over.
std::vector<std::size_t> axes_of(const store::ResultsSnapshot& file, const std::string& text) {
    std::vector<std::size_t> out;
    const std::vector<Axis>& axes = file.grid.axes();
    for (const std::string& name : split_list_option("--mean-over", text)) {
        std::size_t a = 0;
        while (a < axes.size() && axes[a].name() != name) ++a;
        if (a == axes.size()) {
            std::string known;
            for (const Axis& axis : axes) known += (known.empty() ? "" : ", ") + axis.name();
            throw UsageError("best: --mean-over: no axis '" + name + "' in '" + file.path +
                             "'; its axes are: " + known);
        }
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    return out;
}

}  // namespace

int best_command(const std::vector<std::string>& args) {
    CLI::App app(
        "The best tasks of a results file by one result: a number, or an array (a curve) ranked by its "
        "best element; with --mean-over, the best parameter sets by the mean over some axes.",
        "mpisweep best");
    std::string path, metric, count_text = "10", mean_over_text;
    bool maximize = false, minimize = false;
    app.add_option("FILE", path, "Results file")->required();
    app.add_option("--metric", metric, "Result to rank by, e.g. loss")->required();
    app.add_flag("--max", maximize, "Largest first");
    app.add_flag("--min", minimize, "Smallest first (the default)");
    app.add_option("-n", count_text, "How many to show (default 10)");
    app.add_option(
        "--mean-over", mean_over_text,
        "Axes to average over, comma-separated (e.g. seed): rank each set of the other axes' values "
        "by the mean of its tasks, with the standard deviation and count");
    if (!parse_subcommand(app, "best", args)) return 0;
    if (maximize && minimize) throw UsageError("best: --min and --max exclude each other; give one");
    const int count = parse_int_option("-n", count_text, 1);

    const store::ResultsSnapshot file = read_results_file(path);
    const store::ValueColumn& column = find_metric(file, metric);
    const store::SettledTable& rows = file.rows;
    const bool sets = !mean_over_text.empty();
    const std::vector<std::size_t> mean_over =
        sets ? axes_of(file, mean_over_text) : std::vector<std::size_t>{};
    std::vector<Ranked> ranked =
        sets ? rank_sets(rows, column, maximize, mean_over) : rank_tasks(rows, column, maximize);
    if (ranked.empty()) {
        std::cerr << "mpisweep: best: no done task has a value for '" << metric << "' (" << file.done
                  << " of " << file.n_tasks << " tasks done)\n";
        return 1;
    }
    const std::size_t found = ranked.size();
    ranked.resize(std::min(found, static_cast<std::size_t>(count)));

    std::vector<std::string> header = {"#"};
    if (!sets) header.push_back("task");
    std::vector<std::size_t> shown;  // params in the table
    std::string averaged;
    for (std::size_t p = 0; p < rows.params.size(); ++p) {
        const bool over = std::find(mean_over.begin(), mean_over.end(), p) != mean_over.end();
        if (over) averaged += (averaged.empty() ? "" : ", ") + rows.params[p].name;
        if (over) continue;
        shown.push_back(p);
        header.push_back(rows.params[p].name);
    }
    header.push_back(sets ? "mean " + metric : metric);
    if (sets) header.insert(header.end(), {"std", "n"});
    if (column.is_array()) header.push_back("index");
    std::vector<std::vector<std::string>> table;
    for (std::size_t k = 0; k < ranked.size(); ++k) {
        const Ranked& r = ranked[k];
        std::vector<std::string> line = {std::to_string(k + 1)};
        if (!sets) line.push_back(std::to_string(rows.ids[r.row]));
        for (std::size_t p : shown) line.push_back(value_text(rows.params[p], r.row));
        store::ValueColumn value{"", {store::ColumnType::Kind::Float, 0}, {r.value, r.spread}, {}, {}, {}};
        line.push_back(value_text(value, 0, 6));
        if (sets)
            line.insert(line.end(), {r.count > 1 ? value_text(value, 1, 3) : "-", std::to_string(r.count)});
        if (column.is_array()) line.push_back(std::to_string(*r.index));
        table.push_back(std::move(line));
    }
    const char* order = maximize ? "largest" : "smallest";
    std::cout << "best " << ranked.size() << " of " << found << (sets ? " parameter set" : " done task")
              << (found == 1 ? "" : "s") << " by " << (sets ? "the mean " : "") << metric;
    if (column.is_array())
        std::cout << " (" << (maximize ? "highest" : "lowest") << " element"
                  << (sets ? " of the mean curve" : "") << "; index: where in the array)";
    if (sets) std::cout << ", averaged over " << averaged;
    std::cout << ", " << order << " first:\n" << format_table(header, table);
    return 0;
}

}  // namespace mpisweep::cli
