#include "cli/option_values.hpp"
#include "cli/run_arg_groups.hpp"

namespace mpisweep::cli {

void DeviceArgs::add(CLI::App& app) {
    app.add_option("--devices", devices, "GPUs to use, as CUDA ordinals: 0,1 (default: all)")
        ->type_name("LIST");
    app.add_option("--slots-per-gpu", slots_per_gpu, "Workers sharing one GPU (default 1)")->type_name("N");
    app.add_flag("--cpu-only", cpu_only, "Run every worker on CPU, even on GPU nodes");
}

void DeviceArgs::apply(RunPlan& plan) const {
    DeviceOptions& d = plan.options.devices;
    if (!devices.empty()) d.devices = parse_int_list_option("--devices", devices);
    if (!slots_per_gpu.empty()) d.slots_per_gpu = parse_int_option("--slots-per-gpu", slots_per_gpu, 1);
    d.cpu_only = cpu_only;
}

}  // namespace mpisweep::cli
