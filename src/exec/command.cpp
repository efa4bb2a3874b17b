#include "mpisweep/command.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>
#include <unordered_map>

#include "exec/command_env.hpp"
#include "exec/command_output.hpp"
#include "exec/template.hpp"
#include "platform/child_process.hpp"
#include "platform/device.hpp"

namespace mpisweep {
namespace {

using detail::ChildProcess;
using detail::CommandTemplate;

constexpr int kExitCannotRun = 127;  // what a shell reports for a program it cannot run

std::string join(const std::vector<std::string>& args, const char* separator) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : separator) + a;
    return out;
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", s);
    return buf;
}

// State shared by every call of one task function (the function object is copied freely).
class CommandRunner {
public:
    CommandRunner(CommandSpec spec, const std::vector<std::string>& parameter_names)
        : spec_(std::move(spec)), template_(spec_.argv, parameter_names) {
        if (spec_.argv.empty()) {
            throw CommandError("no command given: expected PROGRAM [ARGS...]");
        }
        // Absolute, so MPISWEEP_OUTPUT still points at the file after the program changes folder.
        std::error_code ec;
        const auto absolute = std::filesystem::absolute(spec_.log_dir, ec);
        if (!ec) spec_.log_dir = absolute.lexically_normal().string();
    }

    TaskResult run(const TaskContext& ctx) {
        if (ctx.cancelled()) throw TaskCancelled();
        ensure_log_dir();
        std::vector<std::string> argv =
            template_.expand(ctx.params.values(), {ctx.task_id.value(), ctx.attempt, ctx.worker.device});
        if (spec_.shell) argv = {"/bin/sh", "-c", join(argv, " ")};

        const std::string stem = spec_.log_dir + "/task-" + std::to_string(ctx.task_id.value()) +
                                 ".attempt-" + std::to_string(ctx.attempt);
        detail::SpawnRequest request;
        if (!spec_.shell) request.program_path = resolve_program(argv.front());
        request.argv = std::move(argv);
        request.stdout_path = stem + ".out";
        request.stderr_path = stem + ".err";
        const std::string output_path = stem + ".json";
        // A file left by an earlier run of this task and attempt must not pass for this one's.
        ::unlink(output_path.c_str());
        request.env = detail::task_environment(ctx, output_path, node_has_gpus(), spec_.env);
        request.drop_env = detail::is_launcher_variable;

        std::optional<ChildProcess> child;
        try {
            child.emplace(ChildProcess::spawn(request));
        } catch (const detail::SpawnError& e) {
            throw TaskFailure(e.what(), kExitCannotRun);
        }
        detail::WaitOptions wait;
        wait.timeout_s = spec_.timeout_s;
        wait.kill_grace_s = spec_.kill_grace_s;
        wait.cancel_check = [&ctx] { return ctx.cancelled(); };
        const detail::WaitResult outcome = child->wait(wait);

        // Read (or drop) the output file whatever happened, so none is left behind.
        std::optional<std::string> output;
        std::string output_error;
        try {
            output = detail::read_file_if_exists(output_path);
        } catch (const std::exception& e) {
            output_error = e.what();
        }
        ::unlink(output_path.c_str());

        if (outcome.cancelled) throw TaskCancelled();
        if (outcome.timed_out) {
            throw TaskFailure("timed out after " + seconds_text(spec_.timeout_s) + " s (ended by " +
                                  detail::describe_exit(outcome.exit_code) + ")" +
                                  stderr_tail(request.stderr_path),
                              outcome.exit_code);
        }
        if (outcome.exit_code != 0) {
            throw TaskFailure(detail::describe_exit(outcome.exit_code) + stderr_tail(request.stderr_path),
                              outcome.exit_code);
        }
        try {
            if (spec_.stdout_json) {
                const std::string line = detail::last_nonempty_line(request.stdout_path);
                const std::string source = "last line of stdout (" + request.stdout_path + ")";
                if (line.empty()) {
                    throw std::runtime_error(source +
                                             ": stdout is empty; expected a JSON object "
                                             "such as {\"loss\": 0.5} on its last line");
                }
                return detail::parse_result_json(line, source);
            }
            if (!output_error.empty()) throw std::runtime_error(output_error);
            if (!output) return {};
            return detail::parse_result_json(*output, "result file " + output_path);
        } catch (const std::runtime_error& e) {
            throw TaskFailure(e.what(), 0);
        }
    }

private:
    void ensure_log_dir() {
        std::call_once(log_dir_once_, [this] {
            std::error_code ec;
            std::filesystem::create_directories(spec_.log_dir, ec);
            if (ec) log_dir_error_ = "cannot create log folder '" + spec_.log_dir + "': " + ec.message();
        });
        if (!log_dir_error_.empty()) throw TaskFailure(log_dir_error_, kExitCannotRun);
    }

    // The PATH search once per program name: posix_spawnp tries each folder of PATH in the
    // child, and each miss is a failed execve (9 per task with this machine's PATH).
    // The same search as posix_spawnp's (this process's PATH); not found: "", and
    // posix_spawnp reports the error.
    std::string resolve_program(const std::string& program) {
        if (program.find('/') != std::string::npos) return program;
        std::lock_guard<std::mutex> lock(resolved_mutex_);
        auto it = resolved_.find(program);
        if (it == resolved_.end()) {
            std::string found = detail::find_executable(program);
            if (found.empty()) return "";
            it = resolved_.emplace(program, std::move(found)).first;
        }
        return it->second;
    }

    // Asked once per process, and only by workers that run a task on CPU.
    bool node_has_gpus() {
        std::call_once(gpu_probe_once_, [this] { node_has_gpus_ = cuda_device_count() > 0; });
        return node_has_gpus_;
    }

    std::string stderr_tail(const std::string& path) const {
        const std::string tail = detail::file_tail(path, spec_.error_tail_bytes, spec_.error_tail_lines);
        if (tail.empty()) return "; stderr (" + path + ") is empty";
        return "; stderr (" + path + ") ends with:\n" + tail;
    }

    CommandSpec spec_;
    CommandTemplate template_;
    std::once_flag log_dir_once_;
    std::string log_dir_error_;
    std::once_flag gpu_probe_once_;
    bool node_has_gpus_ = false;
    std::mutex resolved_mutex_;
    std::unordered_map<std::string, std::string> resolved_;  ///< program name -> its path
};

}  // namespace

std::string default_log_dir(const std::string& results_path) {
    return results_path + ".logs";
}

void check_command_template(const CommandSpec& spec, const std::vector<std::string>& parameter_names) {
    if (spec.argv.empty()) throw CommandError("no command given: expected PROGRAM [ARGS...]");
    (void)CommandTemplate(spec.argv, parameter_names);
}

std::string check_command_program(const CommandSpec& spec) {
    if (spec.argv.empty() || spec.argv.front().empty()) {
        throw CommandError("no command given: expected PROGRAM [ARGS...]");
    }
    const std::string program = spec.shell ? "/bin/sh" : spec.argv.front();
    // A placeholder in the program name is known only per task.
    if (!spec.shell && program.find('{') != std::string::npos) return program;
    const std::string found = detail::find_executable(program);
    if (found.empty()) {
        if (program.find('/') != std::string::npos) {
            throw CommandError("program '" + program +
                               "' not found or not executable: expected "
                               "the path of an executable file");
        }
        throw CommandError("program '" + program +
                           "' not found in PATH: expected an executable "
                           "file in one of the folders of PATH, or a path with '/'");
    }
    return found;
}

void stop_commands_on_termination_signals() {
    detail::stop_children_on_termination_signals();
}

TaskFunction make_command_task(CommandSpec spec, const std::vector<std::string>& parameter_names) {
    auto runner = std::make_shared<CommandRunner>(std::move(spec), parameter_names);
    return [runner](const TaskContext& ctx) { return runner->run(ctx); };
}

}  // namespace mpisweep
