#include "cli/dry_run.hpp"

#include <algorithm>
#include <filesystem>

#include "cli/results_file.hpp"
#include "cli/usage_error.hpp"
#include "exec/template.hpp"
#include "store/spec_diff.hpp"

namespace mpisweep::cli {
namespace {

// "0, 1, 2, ..., 99999" for long axes, every value for short ones.
std::string axis_values(const Axis& axis) {
    constexpr std::uint64_t kShown = 6;
    std::string text;
    const std::uint64_t n = axis.size();
    const std::uint64_t head = n <= kShown ? n : kShown - 2;
    for (std::uint64_t i = 0; i < head; ++i) text += (i ? ", " : "") + to_string(axis.at(i));
    if (head < n) text += ", ..., " + to_string(axis.at(n - 1));
    return text;
}

std::string plural(std::uint64_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

void check_results_file_choice(const RunPlan& plan) {
    const Options& o = plan.options;
    std::error_code ec;
    const bool exists = std::filesystem::exists(o.output, ec);
    if (exists && !o.resume && !o.overwrite) {
        throw UsageError("results file '" + o.output +
                         "' already exists: use --resume to continue it or --force to replace it");
    }
    if (!exists && o.resume) {
        throw UsageError("cannot resume from '" + o.output +
                         "': no such file (leave out --resume to start a new sweep)");
    }
    if (o.resume) {
        const std::string recorded = read_spec_attribute(o.output);
        const std::string difference =
            recorded.empty() ? "" : store::describe_spec_difference(recorded, plan.grid.to_json());
        if (!difference.empty()) {
            throw UsageError("cannot resume from '" + o.output + "': it was made by a different grid: " +
                             difference + " (give the same parameters to resume, or --force to start over)");
        }
    }
}

void print_dry_run(const RunPlan& plan, std::ostream& out, std::size_t commands) {
    const Grid& grid = plan.grid;
    out << "dry run: nothing started, no file written\n";
    out << "tasks: " << grid.size() << '\n';
    out << "axes (" << grid.axes().size() << ", task ids in nested-loop order, the last axis fastest):\n";
    std::size_t width = 0;
    for (const Axis& a : grid.axes()) width = std::max(width, a.name().size());
    for (const Axis& a : grid.axes()) {
        out << "  " << a.name() << std::string(width - a.name().size(), ' ') << "  " << type_name(a.type())
            << ", " << plural(a.size(), "value") << ": " << axis_values(a) << '\n';
    }
    for (const auto& group : grid.zip_groups()) {
        out << "  zipped (vary together):";
        for (std::size_t i = 0; i < group.size(); ++i)
            out << (i ? ", " : " ") << grid.axes()[group[i]].name();
        out << '\n';
    }
    const Options& o = plan.options;
    out << "results file: " << o.output
        << (o.resume      ? " (resumed)"
            : o.overwrite ? " (replaced if it exists)"
                          : " (new)")
        << '\n';
    out << "task output: " << plan.command.log_dir << " (one file per worker)";
    if (!plan.command.per_task_log_dir.empty())
        out << ", and one file per attempt in " << plan.command.per_task_log_dir;
    out << '\n';
    const std::uint64_t shown = std::min<std::uint64_t>(commands, grid.size());
    out << "first " << plural(shown, "command") << " (attempt 1, on CPU):\n";
    const detail::CommandTemplate argv_template(plan.command.argv, grid.names());
    std::vector<Value> values;
    for (std::uint64_t id = 0; id < shown; ++id) {
        grid.decode(TaskId(id), values);
        CommandSpec expanded = plan.command;
        expanded.argv = argv_template.expand(values, {id, 1, "-1"});
        out << "  task " << id << ": " << command_line(expanded) << '\n';
    }
    if (shown < grid.size()) out << "  ... and " << (grid.size() - shown) << " more\n";
}

}  // namespace mpisweep::cli
