#include <filesystem>
#include <sstream>

#include "cli/option_values.hpp"
#include "cli/run_arg_groups.hpp"
#include "cli/usage_error.hpp"

namespace mpisweep::cli {

void CommandArgs::add(CLI::App& app) {
    app.add_option("--timeout", timeout, "Seconds an attempt may run; then its process group is killed")
        ->type_name("SECONDS");
    app.add_option("--kill-grace", kill_grace, "Seconds between SIGTERM and SIGKILL (default 5)")
        ->type_name("SECONDS");
    app.add_flag("--shell", shell, "Run '/bin/sh -c \"PROGRAM ARGS...\"' (pipes, redirections)");
    app.add_flag("--stdout-json", stdout_json, "Results are the JSON object on the last line of stdout");
    app.add_option("--log-dir", log_dir,
                   "Folder of the tasks' output streams, one file per worker (default <results file>.logs)")
        ->type_name("DIR");
    app.add_option("--per-task-logs", per_task_logs,
                   "Also keep one file per attempt: DIR/<run>/task-<id>.attempt-<k>.out and .err")
        ->type_name("DIR");
}

void CommandArgs::apply(RunPlan& plan, std::vector<std::string> program, bool drain_grace_given) const {
    CommandSpec& c = plan.command;
    const Options& o = plan.options;
    c.argv = std::move(program);
    c.shell = shell;
    c.stdout_json = stdout_json;
    if (!timeout.empty()) c.timeout_s = parse_seconds_option("--timeout", timeout, true);
    if (!kill_grace.empty()) c.kill_grace_s = parse_seconds_option("--kill-grace", kill_grace, false);
    if ((drain_grace_given || !kill_grace.empty()) && o.drain_grace.count() <= c.kill_grace_s) {
        std::ostringstream message;  // seconds as the user writes them (5, 0.5), not 5.000000
        message << "--drain-grace " << o.drain_grace.count() << " must be more than --kill-grace "
                << c.kill_grace_s << ": a task told to stop gets SIGKILL only after --kill-grace";
        throw UsageError(message.str());
    }
    // Absolute, so the logs stay where they are for a program that changes folder.
    auto absolute = [](const std::string& path) {
        std::error_code ec;
        const auto a = std::filesystem::absolute(path, ec);
        return ec ? path : a.lexically_normal().string();
    };
    c.log_dir = absolute(log_dir.empty() ? default_log_dir(o.output) : log_dir);
    if (!per_task_logs.empty()) c.per_task_log_dir = absolute(per_task_logs);
    try {
        check_command_template(c, plan.grid.names());
    } catch (const CommandError& e) {
        throw UsageError(e.what());
    }
    plan.options.command = command_line(c);
}

}  // namespace mpisweep::cli
