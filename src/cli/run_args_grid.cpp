#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/option_values.hpp"
#include "cli/run_arg_groups.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/spec.hpp"

namespace mpisweep::cli {
namespace {

std::string read_spec_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw UsageError("--spec '" + path +
                         "': no such file; expected a JSON file such as "
                         "{\"params\": {\"lr\": [0.1, 0.01]}}");
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw UsageError("--spec '" + path + "': cannot read it");
    return text.str();
}

// The file's axes first, then those of -p; zip groups from both.
Grid merge_spec_file(const std::string& spec_file, const std::vector<std::string>& params,
                     const std::vector<std::string>& zips) {
    Grid from_file = parse_grid_json(read_spec_file(spec_file));
    std::vector<Axis> axes = from_file.axes();
    std::vector<std::vector<std::string>> zip_names;
    for (const auto& group : from_file.zip_groups()) {
        std::vector<std::string> names;
        for (std::size_t index : group) names.push_back(axes[index].name());
        zip_names.push_back(std::move(names));
    }
    for (const auto& p : params) axes.push_back(parse_axis(p));
    for (const auto& z : zips) zip_names.push_back(split_list_option("--zip", z));
    return Grid(std::move(axes), zip_names);
}

}  // namespace

void GridArgs::add(CLI::App& app) {
    app.add_option("-p,--param", params, "A parameter axis: name[:type]=SPEC (repeat for each)")
        ->allow_extra_args(false)
        ->type_name("NAME=SPEC");
    app.add_option("--zip", zips, "Parameters that vary together: a,b (repeatable)")
        ->allow_extra_args(false)
        ->type_name("A,B");
    app.add_option("--spec", spec_file, "Parameters from a JSON file {\"params\": {...}, \"zip\": [[...]]}")
        ->type_name("FILE");
}

void GridArgs::apply(RunPlan& plan) const {
    if (params.empty() && spec_file.empty()) {
        throw UsageError("no parameters: expected at least one -p name=SPEC or --spec FILE");
    }
    try {
        plan.grid = spec_file.empty() ? parse_grid(params, zips) : merge_spec_file(spec_file, params, zips);
    } catch (const SpecError& e) {
        if (!spec_file.empty()) throw UsageError("--spec '" + spec_file + "': " + e.what());
        throw UsageError(e.what());
    }
}

}  // namespace mpisweep::cli
