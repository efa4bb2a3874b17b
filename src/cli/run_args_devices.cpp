#include <map>

#include "cli/option_values.hpp"
#include "cli/run_arg_groups.hpp"
#include "cli/usage_error.hpp"
#include "exec/template.hpp"
#include "platform/byte_size.hpp"

namespace mpisweep::cli {
namespace {

// "2" (every GPU), "0:1,1:3" (per GPU), or both: "2,0:1".
void parse_gpu_slots(const std::string& option, const std::string& text, DeviceOptions& d) {
    for (const std::string& item : split_list_option(option, text)) {
        const std::size_t colon = item.find(':');
        if (colon == std::string::npos) {
            d.slots_per_gpu = parse_int_option(option, item, 1);
            continue;
        }
        const std::string what = option + " " + text;
        const int gpu = parse_int_option(what + ": GPU of '" + item + "'", item.substr(0, colon), 0);
        const int slots = parse_int_option(what + ": slots of '" + item + "'", item.substr(colon + 1), 1);
        if (!d.gpu_slots.emplace(gpu, slots).second) {
            throw UsageError(option + ": GPU " + std::to_string(gpu) + " given twice in '" + text + "'");
        }
    }
}

// A size, "auto", or a template of the task's parameters that becomes one ("{mem}G").
void parse_gpu_mem(const std::string& text, const std::vector<std::string>& names, DeviceOptions& d) {
    if (text == "auto") {
        d.learn_memory = true;
        return;
    }
    if (text.find('{') == std::string::npos) {
        const std::optional<Bytes> bytes = parse_byte_size(text);
        if (!bytes || *bytes == 0) {
            throw UsageError(
                "--gpu-mem: expected a size such as 6G or 512M, 'auto', or a template of the "
                "parameters such as {mem}G, got '" +
                text + "'");
        }
        d.memory = *bytes;
        return;
    }
    std::shared_ptr<const detail::CommandTemplate> tmpl;
    try {
        tmpl = std::make_shared<const detail::CommandTemplate>(std::vector<std::string>{text}, names);
    } catch (const std::exception& e) {
        throw UsageError(std::string("--gpu-mem: ") + e.what());
    }
    d.memory_of = [tmpl, text](const Point& point) -> std::uint64_t {
        const std::string value = tmpl->expand(point.values(), {}).front();
        const std::optional<Bytes> bytes = parse_byte_size(value);
        if (!bytes) {
            throw std::invalid_argument("--gpu-mem " + text + ": '" + value + "' is not a size such as 6G");
        }
        return *bytes;
    };
}

}  // namespace

void DeviceArgs::add(CLI::App& app) {
    app.add_option("--devices", devices, "GPUs to use, as CUDA ordinals: 0,1 (default: all)")
        ->type_name("LIST");
    app.add_option("--gpu-slots", gpu_slots,
                   "Tasks at once per GPU: N for every GPU, or GPU:N per GPU (0:1,1:3); default 1, or as "
                   "memory allows with --gpu-mem")
        ->type_name("SLOTS");
    app.add_option("--slots-per-gpu", slots_per_gpu, "Same as --gpu-slots N")->type_name("N");
    app.add_option(
           "--gpu-mem", gpu_mem,
           "GPU memory each task needs on each of its GPUs: 6G, a template of the parameters ({mem}G), "
           "or auto (learned from the peaks seen)")
        ->type_name("SIZE");
    app.add_option("--gpus-per-task", gpus_per_task, "GPUs of one node each task gets (default 1)")
        ->type_name("K");
    app.add_option("--no-gpu", no_gpu, "A worker without a GPU: wait (default), cpu, or error")
        ->type_name("WHAT");
    app.add_flag("--cpu-only", cpu_only, "Run every worker on CPU, even on GPU nodes");
}

void DeviceArgs::apply(RunPlan& plan) const {
    DeviceOptions& d = plan.options.devices;
    if (!devices.empty()) d.devices = parse_int_list_option("--devices", devices);
    if (!slots_per_gpu.empty() && !gpu_slots.empty()) {
        throw UsageError("--slots-per-gpu and --gpu-slots: give one (--gpu-slots N is --slots-per-gpu N)");
    }
    if (!slots_per_gpu.empty()) d.slots_per_gpu = parse_int_option("--slots-per-gpu", slots_per_gpu, 1);
    if (!gpu_slots.empty()) parse_gpu_slots("--gpu-slots", gpu_slots, d);
    if (!gpu_mem.empty()) parse_gpu_mem(gpu_mem, plan.grid.names(), d);
    if (!gpus_per_task.empty()) d.gpus_per_task = parse_int_option("--gpus-per-task", gpus_per_task, 1);
    if (!no_gpu.empty()) {
        static const std::map<std::string, NoGpuPolicy> kPolicies{
            {"wait", NoGpuPolicy::Wait}, {"cpu", NoGpuPolicy::Cpu}, {"error", NoGpuPolicy::Error}};
        const auto it = kPolicies.find(no_gpu);
        if (it == kPolicies.end())
            throw UsageError("--no-gpu: expected wait, cpu or error, got '" + no_gpu + "'");
        d.no_gpu = it->second;
    }
    d.cpu_only = cpu_only;
    d.place_each_copy = true;  // each task is a process of its own: its GPUs chosen when it starts
    if (cpu_only &&
        (!gpu_mem.empty() || !gpus_per_task.empty() || !gpu_slots.empty() || !slots_per_gpu.empty())) {
        throw UsageError("--cpu-only: no GPU options with it (--gpu-mem, --gpus-per-task, --gpu-slots)");
    }
}

}  // namespace mpisweep::cli
