#include "mpisweep/command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sys/statvfs.h>
#include <system_error>
#include <unordered_map>

#include "exec/command_capture.hpp"
#include "exec/command_env.hpp"
#include "exec/command_output.hpp"
#include "exec/command_scratch.hpp"
#include "exec/task_log_writer.hpp"
#include "exec/template.hpp"
#include "platform/child_process.hpp"
#include "platform/clock.hpp"
#include "platform/gpu_backend.hpp"

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

// How an attempt ended, before it is recorded and reported.
struct Verdict {
    detail::AttemptEnd end = detail::AttemptEnd::Done;
    int exit_code = 0;
    std::string error;  ///< the failure's text
    TaskResult results;
    /// Not the task's fault (InfrastructureError): the node could not run or follow it.
    bool infrastructure = false;
};

// Errors of the node, not of the program: no memory, no process or descriptor left, a full
// disk, an I/O error.
bool is_infrastructure_errno(int error) {
    return error == ENOMEM || error == EAGAIN || error == EMFILE || error == ENFILE || error == ENOSPC ||
           error == EDQUOT || error == EIO || error == EROFS;
}

// State shared by every call of one task function (the function object is copied freely).
class CommandRunner {
public:
    CommandRunner(CommandSpec spec, const std::vector<std::string>& parameter_names)
        : spec_(std::move(spec)), template_(spec_.argv, parameter_names) {
        if (spec_.argv.empty()) {
            throw CommandError("no command given: expected PROGRAM [ARGS...]");
        }
        detail::check_distinct_env_names(parameter_names);
        spec_.log_dir = absolute(spec_.log_dir);
        if (!spec_.per_task_log_dir.empty()) spec_.per_task_log_dir = absolute(spec_.per_task_log_dir);
    }

    TaskResult run(const TaskContext& ctx) {
        if (ctx.cancelled()) throw TaskCancelled();
        detail::TaskLogWriter& stream = stream_for(ctx.worker);
        std::vector<std::string> argv = template_.expand(
            ctx.params.values(), {ctx.task_id.value(), ctx.attempt, detail::device_list(ctx.worker)});
        if (spec_.shell) argv = {"/bin/sh", "-c", join(argv, " ")};

        const detail::AttemptKey key{ctx.task_id.value(), ctx.attempt, unix_seconds()};
        const double t0 = monotonic_seconds();
        std::optional<detail::AttemptCapture> capture;
        try {
            capture.emplace(stream, key, per_task_stem(key), spec_.stdout_json ? kStdoutJsonKeep : 0,
                            spec_.error_tail_bytes);
        } catch (const std::exception& e) {
            throw InfrastructureError(e.what());
        }
        Verdict verdict = attempt(ctx, std::move(argv), *capture);
        try {
            capture->finish(verdict.end, verdict.exit_code, monotonic_seconds() - t0);
        } catch (const std::exception& e) {
            // The end of this attempt's output is lost (a full disk, a log folder that cannot
            // be made again). A result is kept: the work is done, running it again would do it
            // twice; the stream stays broken, so this rank's next attempt reports the error
            // (InfrastructureError). Anything else: the node is at fault, not the task.
            if (verdict.end != detail::AttemptEnd::Done || verdict.infrastructure)
                throw InfrastructureError(e.what());
        }
        if (verdict.infrastructure) throw InfrastructureError(verdict.error);
        if (verdict.end == detail::AttemptEnd::Cancelled) throw TaskCancelled();
        if (verdict.end != detail::AttemptEnd::Done) throw TaskFailure(verdict.error, verdict.exit_code);
        return std::move(verdict.results);
    }

private:
    // How much of stdout's end --stdout-json looks at for its last line.
    static constexpr std::size_t kStdoutJsonKeep = 1 << 20;

    static std::string absolute(const std::string& path) {
        // Absolute, so the paths stay valid for a program that changes folder.
        std::error_code ec;
        const auto a = std::filesystem::absolute(path, ec);
        return ec ? path : a.lexically_normal().string();
    }

    // Spawns the program, passes its output to `capture` while it runs, and reads its results.
    Verdict attempt(const TaskContext& ctx, std::vector<std::string> argv, detail::AttemptCapture& capture) {
        std::string output_path;
        try {
            output_path = scratch_.result_path(ctx.task_id.value(), ctx.attempt);
        } catch (const std::exception& e) {
            return not_started(capture, e.what(), true);
        }
        detail::SpawnRequest request;
        if (!spec_.shell) request.program_path = resolve_program(argv.front());
        request.argv = std::move(argv);
        request.pipe_output = true;
        request.env = detail::task_environment(
            ctx, output_path, [this] { return node_has_gpus(); }, spec_.env);
        request.drop_env = detail::is_launcher_variable;

        std::optional<ChildProcess> child;
        try {
            child.emplace(ChildProcess::spawn(request));
        } catch (const detail::SpawnError& e) {
            return not_started(capture, e.what(), is_infrastructure_errno(e.error_number()));
        }
        detail::WaitOptions wait;
        wait.timeout_s = spec_.timeout_s;
        wait.kill_grace_s = spec_.kill_grace_s;
        wait.on_output = [&capture](int stream, const char* data, std::size_t size) {
            capture.on_output(stream, data, size);
        };
        wait.cancel_check = [&ctx, &capture] {
            capture.tick();  // polled at least every 50 ms: a second-old chunk gets written
            return ctx.cancelled();
        };
        const detail::WaitResult outcome = child->wait(wait);

        // Read (or drop) the output file whatever happened, so none is left behind. Its name
        // is this call's alone (ScratchFolder): when there is none, there is nothing to remove.
        std::optional<std::string> output;
        std::string output_error;
        try {
            output = detail::read_file_if_exists(output_path);
        } catch (const std::exception& e) {
            output_error = e.what();
        }
        if (output || !output_error.empty()) ::unlink(output_path.c_str());
        Verdict verdict = judge(outcome, capture, output, output_error, output_path);
        if (verdict.end == detail::AttemptEnd::Failed) check_result_space(verdict, output_path);
        return verdict;
    }

    // A task that failed while the filesystem of its result file ($MPISWEEP_OUTPUT) is full
    // most likely failed for that: the attempt does not count.
    static void check_result_space(Verdict& verdict, const std::string& output_path) {
        const std::string folder = output_path.substr(0, output_path.rfind('/'));
        struct statvfs fs {};
        if (::statvfs(folder.c_str(), &fs) != 0) return;
        // (Some filesystems report no inode counts at all: f_files 0.)
        const bool no_inodes = fs.f_files > 0 && fs.f_favail == 0;
        if (fs.f_bavail > 0 && !no_inodes) return;
        verdict.infrastructure = true;
        verdict.error = "the filesystem of '" + folder + "' ($MPISWEEP_OUTPUT) is full (" +
                        std::strerror(ENOSPC) + ", errno " + std::to_string(ENOSPC) +
                        "); the task ended with: " + verdict.error;
    }

    Verdict judge(const detail::WaitResult& outcome, const detail::AttemptCapture& capture,
                  const std::optional<std::string>& output, const std::string& output_error,
                  const std::string& output_path) const {
        Verdict v;
        v.exit_code = outcome.exit_code;
        if (outcome.cancelled) {
            v.end = detail::AttemptEnd::Cancelled;
            return v;
        }
        if (outcome.timed_out) {
            v.end = detail::AttemptEnd::TimedOut;
            v.error = "timed out after " + seconds_text(spec_.timeout_s) + " s (ended by " +
                      detail::describe_exit(outcome.exit_code) + ")" + stderr_tail(capture);
            return v;
        }
        v.end = detail::AttemptEnd::Failed;
        if (outcome.exit_code != 0) {
            v.error = detail::describe_exit(outcome.exit_code) + stderr_tail(capture);
            return v;
        }
        v.exit_code = 0;
        try {
            if (spec_.stdout_json) {
                const std::string line = detail::last_nonempty_line(capture.stdout_tail().text());
                const std::string source = "last line of stdout";
                if (line.empty()) {
                    throw std::runtime_error(source +
                                             ": stdout is empty; expected a JSON object "
                                             "such as {\"loss\": 0.5} on its last line");
                }
                v.results = detail::parse_result_json(line, source);
            } else if (!output_error.empty()) {
                throw std::runtime_error(output_error);
            } else if (output) {
                v.results = detail::parse_result_json(*output, "result file " + output_path);
            }
        } catch (const std::runtime_error& e) {
            v.error = e.what();
            return v;
        }
        v.end = detail::AttemptEnd::Done;
        return v;
    }

    // The attempt could not start: its error goes into its stderr too (`mpisweep log --stderr`).
    // `infrastructure`: because of the node (no memory, no folder for results), not the program.
    static Verdict not_started(detail::AttemptCapture& capture, const std::string& why, bool infrastructure) {
        const std::string line = "mpisweep: " + why + "\n";
        capture.on_output(2, line.data(), line.size());
        Verdict v;
        v.end = detail::AttemptEnd::NotStarted;
        v.exit_code = kExitCannotRun;
        v.error = why;
        v.infrastructure = infrastructure;
        return v;
    }

    // The stream of the rank running this task, made on its first task (and again when its
    // folder was removed meanwhile). A stream that cannot be made (or written) is the node's
    // problem, not the task's: InfrastructureError, the attempt does not count.
    detail::TaskLogWriter& stream_for(const WorkerInfo& worker) {
        std::lock_guard<std::mutex> lock(streams_mutex_);
        auto it = streams_.find(worker.rank);
        if (it == streams_.end()) {
            detail::StreamHeader header;
            header.run = spec_.log_run;
            header.run_start = spec_.log_run.empty() ? unix_seconds() : spec_.log_run_start;
            header.rank = worker.rank;
            header.pid = static_cast<std::int32_t>(::getpid());
            header.host = worker.host.empty() ? host_name() : worker.host;
            it = streams_.emplace(worker.rank, std::make_unique<detail::TaskLogWriter>(spec_.log_dir, header))
                     .first;
        }
        try {
            it->second->check();
        } catch (const std::exception& e) {
            throw InfrastructureError(e.what());
        }
        return *it->second;
    }

    // <per-task folder>/task-<id>.attempt-<k>, the folder made once; "" without per-task logs.
    std::string per_task_stem(const detail::AttemptKey& key) {
        if (spec_.per_task_log_dir.empty()) return "";
        const std::string dir =
            spec_.log_run.empty() ? spec_.per_task_log_dir : spec_.per_task_log_dir + "/" + spec_.log_run;
        std::call_once(per_task_dir_once_, [&] {
            std::error_code ec;
            std::filesystem::create_directories(dir, ec);
            if (ec) per_task_dir_error_ = "cannot create per-task log folder '" + dir + "': " + ec.message();
        });
        if (!per_task_dir_error_.empty()) throw std::runtime_error(per_task_dir_error_);
        return dir + "/task-" + std::to_string(key.task) + ".attempt-" + std::to_string(key.attempt);
    }

    static std::string host_name() {
        char name[256] = {};
        return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("?");
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

    // Asked once per process, and only for copies on CPU whose worker did not say: the GPU
    // backend (NVML where present: no CUDA context in this process).
    bool node_has_gpus() {
        std::call_once(gpu_probe_once_, [this] {
            try {
                node_has_gpus_ = !open_gpu_backend(GpuEnvironment::from_process(false))->devices().empty();
            } catch (const std::exception&) {
                node_has_gpus_ = false;  // a bad MPISWEEP_FAKE_GPUS: the worker reports it at its start
            }
        });
        return node_has_gpus_;
    }

    std::string stderr_tail(const detail::AttemptCapture& capture) const {
        const detail::StreamTail& err = capture.stderr_tail();
        const std::string tail = detail::last_lines(err.text(), err.cut(), spec_.error_tail_lines);
        if (tail.empty()) return "; stderr is empty";
        return "; stderr ends with:\n" + tail;
    }

    CommandSpec spec_;
    CommandTemplate template_;
    detail::ScratchFolder scratch_;
    std::mutex streams_mutex_;
    std::map<int, std::unique_ptr<detail::TaskLogWriter>> streams_;  ///< by rank
    std::once_flag per_task_dir_once_;
    std::string per_task_dir_error_;
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
    detail::check_distinct_env_names(parameter_names);
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
