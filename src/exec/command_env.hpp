#pragma once
// The environment variables a command task adds for its child process.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mpisweep/task.hpp"

namespace mpisweep::detail {

using EnvironmentOverrides = std::vector<std::pair<std::string, std::string>>;

/// MPISWEEP_PARAM_<NAME>: the name upper-cased, anything but A-Z and 0-9 as '_'.
std::string param_env_name(std::string_view parameter);

/// Throws CommandError naming both when two parameters have the same param_env_name (`X`
/// and `x`): one variable would hide the other.
void check_distinct_env_names(const std::vector<std::string>& parameters);

/// True for the variables through which an MPI launcher (Open MPI, PMIx, PMI: OMPI_COMM_WORLD_*,
/// OMPI_MCA_orte_*, OMPI_MCA_ess*, PMIX_*, PMI_*, ...) tells a rank who it is. A task must not
/// inherit them: an MPI program run as a task would try to join the sweep's own job and fail
/// (or hang it); without them it starts as an MPI job of its own (a singleton). The user's
/// own settings (OMPI_MCA_btl..., OMPI_ALLOW_RUN_AS_ROOT) are kept.
bool is_launcher_variable(std::string_view name);

/// The GPUs of a worker or copy as {device} and MPISWEEP_DEVICE show them: "0", "0,1";
/// "-1" on CPU.
std::string device_list(const WorkerInfo& worker);

/// What CUDA_VISIBLE_DEVICES names the GPUs of a worker or copy that has some by: "2",
/// "GPU-8f2c...,3" (the job's entries where known, else the ordinals). Also used by the Python
/// binding, which narrows its worker process the same way.
std::string visible_list(const WorkerInfo& worker);

/// MPISWEEP_TASK_ID, MPISWEEP_ATTEMPT, MPISWEEP_DEVICE, MPISWEEP_PARAM_*, MPISWEEP_OUTPUT and
/// CUDA_VISIBLE_DEVICES: the entries of the copy's GPUs when it has some; "" on CPU when the
/// node has GPUs (so it does not take GPU 0 by default); otherwise left as the worker's.
/// `extra` comes first, so the variables above win over a user's setting of the same name.
/// `node_has_gpus` answers for a copy on CPU whose WorkerInfo::node_gpus is unknown (-1).
EnvironmentOverrides task_environment(const TaskContext& context, const std::string& output_path,
                                      const std::function<bool()>& node_has_gpus = {},
                                      const EnvironmentOverrides& extra = {});

}  // namespace mpisweep::detail
