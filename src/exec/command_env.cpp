#include "exec/command_env.hpp"

#include <unordered_map>

#include "mpisweep/command.hpp"
#include "mpisweep/value.hpp"

namespace mpisweep::detail {

std::string param_env_name(std::string_view parameter) {
    std::string name = "MPISWEEP_PARAM_";
    for (char c : parameter) {
        if (c >= 'a' && c <= 'z') {
            name += static_cast<char>(c - 'a' + 'A');
        } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            name += c;
        } else {
            name += '_';
        }
    }
    return name;
}

void check_distinct_env_names(const std::vector<std::string>& parameters) {
    std::unordered_map<std::string, const std::string*> seen;
    for (const std::string& parameter : parameters) {
        const auto [it, fresh] = seen.emplace(param_env_name(parameter), &parameter);
        if (!fresh) {
            throw CommandError("params '" + *it->second + "' and '" + parameter +
                               "' both become the variable " + it->first +
                               " of the task's environment; rename one of them");
        }
    }
}

bool is_launcher_variable(std::string_view name) {
    auto starts = [&](std::string_view prefix) { return name.substr(0, prefix.size()) == prefix; };
    if (starts("PMIX_") || starts("PMI_")) return true;
    if (starts("OMPI_MCA_")) {
        // Set by mpirun for its ranks, not by the user.
        for (std::string_view own : {"OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix",
                                     "OMPI_MCA_initial_wdir", "OMPI_MCA_shmem_RUNTIME_QUERY_hint"}) {
            if (starts(own)) return true;
        }
        return false;
    }
    return starts("OMPI_") && !starts("OMPI_ALLOW_RUN_AS_ROOT");
}

std::string device_list(const WorkerInfo& worker) {
    if (worker.devices.empty()) return std::to_string(worker.device);
    std::string list;
    for (int d : worker.devices) list += (list.empty() ? "" : ",") + std::to_string(d);
    return list;
}

std::string visible_list(const WorkerInfo& worker) {
    if (worker.devices.empty()) {
        return worker.visible_device.empty() ? std::to_string(worker.device) : worker.visible_device;
    }
    std::string list;
    for (std::size_t i = 0; i < worker.devices.size(); ++i) {
        const bool named = i < worker.visible_devices.size() && !worker.visible_devices[i].empty();
        list += (i == 0 ? "" : ",") + (named ? worker.visible_devices[i] : std::to_string(worker.devices[i]));
    }
    return list;
}

EnvironmentOverrides task_environment(const TaskContext& context, const std::string& output_path,
                                      const std::function<bool()>& node_has_gpus,
                                      const EnvironmentOverrides& extra) {
    EnvironmentOverrides env = extra;
    // Later entries win in the spawn's merge, so ours follow the user's.
    env.emplace_back("MPISWEEP_TASK_ID", std::to_string(context.task_id.value()));
    env.emplace_back("MPISWEEP_ATTEMPT", std::to_string(context.attempt));
    env.emplace_back("MPISWEEP_DEVICE", device_list(context.worker));
    env.emplace_back("MPISWEEP_OUTPUT", output_path);
    const auto& names = context.params.names();
    const auto& values = context.params.values();
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        env.emplace_back(param_env_name(names[i]), to_string(values[i]));
    }
    if (context.worker.device >= 0 || !context.worker.devices.empty()) {
        env.emplace_back("CUDA_VISIBLE_DEVICES", visible_list(context.worker));
    } else if (context.worker.node_gpus > 0 ||
               (context.worker.node_gpus < 0 && node_has_gpus && node_has_gpus())) {
        env.emplace_back("CUDA_VISIBLE_DEVICES", "");
    }
    return env;
}

}  // namespace mpisweep::detail
