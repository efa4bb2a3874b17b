#pragma once
// The options of `mpisweep run`, in groups: each group declares its options on the CLI11 app
// and, once parsed, checks them and writes them into the plan. A new option goes into the
// group it belongs to (one file each: run_args_<group>.cpp).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/run_args.hpp"

namespace mpisweep::cli {

/// The results file: -o, --resume, --retry-failed, --force, --break-lock.
struct FileArgs {
    std::string output = "mpisweep.h5";
    bool resume = false, retry_failed = false, force = false, break_lock = false;
    void add(CLI::App& app);
    void apply(RunPlan& plan) const;
};

/// The grid: -p, --zip, --spec.
struct GridArgs {
    std::vector<std::string> params, zips;
    std::string spec_file;
    void add(CLI::App& app);
    void apply(RunPlan& plan) const;
};

/// Scheduling: --max-attempts, --max-worker-errors, --prefetch, --no-speculation.
struct ScheduleArgs {
    std::string max_attempts, max_worker_errors, prefetch;
    bool no_speculation = false;
    void add(CLI::App& app);
    void apply(RunPlan& plan) const;
};

/// GPUs: --devices, --gpu-slots (--slots-per-gpu), --gpu-mem, --gpus-per-task, --no-gpu,
/// --cpu-only. Applied after the grid (--gpu-mem may name parameters).
struct DeviceArgs {
    std::string devices, slots_per_gpu, gpu_slots, gpu_mem, gpus_per_task, no_gpu;
    bool cpu_only = false;
    void add(CLI::App& app);
    void apply(RunPlan& plan) const;
};

/// Progress and stopping: --progress, --log-tasks, --deadline, --deadline-margin, --drain-grace,
/// --heartbeat-timeout.
struct StopArgs {
    std::string progress, deadline, deadline_margin, drain_grace, heartbeat_timeout;
    bool log_tasks = false;
    void add(CLI::App& app);
    void apply(RunPlan& plan) const;
};

/// The program and how it runs: --timeout, --kill-grace, --shell, --stdout-json, --log-dir,
/// --per-task-logs. Applied after the other groups (it checks --kill-grace against
/// --drain-grace and the placeholders against the grid).
struct CommandArgs {
    std::string timeout, kill_grace, log_dir, per_task_logs;
    bool shell = false, stdout_json = false;
    void add(CLI::App& app);
    void apply(RunPlan& plan, std::vector<std::string> program, bool drain_grace_given) const;
};

}  // namespace mpisweep::cli
