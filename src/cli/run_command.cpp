// `mpisweep run`: parse on every rank (all reach the same verdict, so a usage error needs no
// MPI at all), then start MPI; rank 0 checks what only it should touch (the program, the
// output folder, the file to resume) and tells the others; then run().
#include <mpi.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "cli/cli_observer.hpp"
#include "cli/commands.hpp"
#include "cli/dry_run.hpp"
#include "cli/results_file.hpp"
#include "cli/run_args.hpp"
#include "cli/usage_error.hpp"
#include "exec/task_log_format.hpp"
#include "mpisweep/deadline.hpp"
#include "platform/clock.hpp"

namespace mpisweep::cli {
namespace {

namespace fs = std::filesystem;

// Before MPI starts, the launcher's environment says which rank this is; only rank 0 (or a
// process started without a launcher) prints usage errors, so a bad option reads once.
bool first_rank_by_environment() {
    for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
        if (const char* value = std::getenv(name)) return std::string(value) == "0";
    }
    return true;
}

std::string errno_text(int error) {
    return std::string(std::strerror(error)) + ", errno " + std::to_string(error);
}

std::string folder_of(const std::string& path) {
    const fs::path parent = fs::path(path).parent_path();
    return parent.empty() ? "." : parent.string();
}

void check_output_folder(const std::string& output) {
    const std::string folder = folder_of(output);
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
        throw UsageError("cannot write results file '" + output + "': folder '" + folder +
                         "' does not exist; expected an existing, writable folder");
    }
    if (!fs::is_directory(folder, ec)) {
        throw UsageError("cannot write results file '" + output + "': '" + folder + "' is not a folder");
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        throw UsageError("cannot write results file '" + output + "': folder '" + folder +
                         "' is not writable (" + errno_text(errno) + "); expected a folder you can write to");
    }
}

// The log folder is created by the workers when the first task starts; here only what
// would make that impossible: a part of its path that is a file, or no write permission.
void check_log_folder(const std::string& log_dir, const std::string& option) {
    std::error_code ec;
    fs::path existing = log_dir;
    while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
    if (existing.empty()) return;
    if (!fs::is_directory(existing, ec)) {
        throw UsageError("log folder '" + log_dir + "': '" + existing.string() +
                         "' is a file; expected a folder (see " + option + ")");
    }
    const bool creating = existing != fs::path(log_dir);
    if (::access(existing.c_str(), W_OK | X_OK) != 0) {
        throw UsageError("log folder '" + log_dir + "': '" + existing.string() + "' is not writable (" +
                         errno_text(errno) + ")" + (creating ? " (the log folder is created there)" : "") +
                         "; see " + option);
    }
}

void check_resumed_command(const RunPlan& plan) {
    const std::string recorded = read_command_attribute(plan.options.output);
    if (!recorded.empty() && recorded != plan.options.command) {
        throw UsageError(
            "cannot resume from '" + plan.options.output + "': it was made by the command `" + recorded +
            "`, this run gives `" + plan.options.command +
            "`; resume with the same command, or start a new file (-o, or --force to replace it)");
    }
}

// Rank 0, before any task: everything that would make the whole sweep fail.
void check_before_start(const RunPlan& plan) {
    try {
        check_command_program(plan.command);
    } catch (const CommandError& e) {
        throw UsageError(e.what());
    }
    if (plan.options.resume) {
        check_resumed_command(plan);
    } else {
        check_output_folder(plan.options.output);
    }
    check_log_folder(plan.command.log_dir, "--log-dir");
    if (!plan.command.per_task_log_dir.empty())
        check_log_folder(plan.command.per_task_log_dir, "--per-task-logs");
}

// Checks what rank 0 checks before a run and prints what would run; no MPI, no file written.
int dry_run(const RunPlan& plan) {
    try {
        check_before_start(plan);
        check_results_file_choice(plan);
    } catch (const std::exception& e) {
        std::cerr << "mpisweep: " << e.what() << '\n';
        return kExitUsage;
    }
    print_dry_run(plan, std::cout);
    return kExitOk;
}

// Rank 0 names the run and tells every rank, with whether the checks passed: the workers'
// output streams carry the name, and `mpisweep log` orders a task's attempts by it.
bool share_readiness_and_run(bool ready, CommandSpec& command, int rank) {
    struct {
        double start;
        char ready;
        char name[55];
    } shared{};
    if (rank == 0) {
        shared.start = unix_seconds();
        shared.ready = ready ? 1 : 0;
        std::random_device random;
        const std::string name = detail::make_run_name(shared.start, random());
        std::snprintf(shared.name, sizeof shared.name, "%s", name.c_str());
    }
    MPI_Bcast(&shared, sizeof shared, MPI_BYTE, 0, MPI_COMM_WORLD);
    command.log_run = shared.name;
    command.log_run_start = shared.start;
    return shared.ready != 0;
}

// Rank 0 alone asks the batch system (one squeue call, not one per rank).
void resolve_deadline(RunPlan& plan) {
    if (!plan.deadline_auto) return;
    std::string why;
    const std::optional<JobEnd> end = job_end_time(&why);
    if (!end) {
        throw UsageError("--deadline auto: no end time of a batch job found (" + why +
                         "); give the time instead: an ISO 8601 time, unix seconds or +DURATION such as +2h");
    }
    plan.options.deadline = end->at;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
    std::optional<RunPlan> plan;
    try {
        plan = parse_run_arguments(args, std::cout);
    } catch (const UsageError& e) {
        if (first_rank_by_environment()) {
            std::cerr << "mpisweep: " << e.what() << '\n';
        } else {
            // The launcher ends the whole job when a rank exits with an error; give rank 0
            // the time to print the message first (it then ends this rank too).
            std::this_thread::sleep_for(std::chrono::seconds(2));
        }
        return kExitUsage;
    }
    if (!plan) return kExitOk;  // --help
    if (plan->dry_run) return dry_run(*plan);

    MPI_Init(nullptr, nullptr);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int ready = 1;
    if (rank == 0) {
        try {
            check_before_start(*plan);
            resolve_deadline(*plan);
        } catch (const std::exception& e) {
            std::cerr << "mpisweep: " << e.what() << '\n';
            ready = 0;
        }
    }
    int exit_code = kExitUsage;
    if (share_readiness_and_run(ready != 0, plan->command, rank)) {
        // What run() reports (usage errors, progress, warnings, how to resume) goes to stderr;
        // with --log-tasks rank 0 also prints a line per task.
        CliObserverOptions shown;
        shown.log_tasks = plan->log_tasks;
        plan->options.observer = std::make_shared<CliObserver>(shown);
        plan->options.run_name = plan->command.log_run;
        const TaskFunction task = make_command_task(plan->command, plan->grid.names());
        exit_code = run(plan->grid, task, plan->options);
    }
    MPI_Finalize();
    return exit_code;
}

}  // namespace mpisweep::cli
