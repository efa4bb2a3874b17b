#include "cli/run_args.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "cli/option_values.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/deadline.hpp"
#include "mpisweep/spec.hpp"

namespace mpisweep::cli {
namespace {

constexpr const char* kUsage = "mpisweep run [OPTIONS] -- PROGRAM [ARGS...]";

constexpr const char* kFooter = R"(
PROGRAM runs once per grid point, with argv as given (no shell unless --shell). In any
argument {name} becomes the value of parameter `name`; {task_id}, {attempt} and {device}
(CUDA ordinal, -1 on CPU) are built in; {{ and }} are literal braces. A value with spaces,
quotes or ';' stays one argument.

The program also finds MPISWEEP_TASK_ID, MPISWEEP_ATTEMPT, MPISWEEP_DEVICE,
MPISWEEP_PARAM_<NAME> and CUDA_VISIBLE_DEVICES (its worker's GPU) in its environment, and
may write its results as one JSON object to the file named by MPISWEEP_OUTPUT, e.g.
{"loss": 0.25, "curve": [1, 0.5]}. A non-zero exit, a signal, a timeout or malformed JSON is
a failed attempt; the task is retried up to --max-attempts times. stdout and stderr of each
attempt are kept in the log folder as task-<id>.attempt-<k>.out and .err.

SPEC: a list 0.1,0.01 | range(start,stop[,step]) | linspace(a,b,n) | logspace(a,b,n) |
files(DIR,REGEX); name:type=SPEC forces int, float, str or bool.

Example:
  mpirun -n 9 mpisweep run -o sweep.h5 -p lr=logspace(-4,-1,4) -p seed=range(0,3) \
      -- python train.py --lr {lr} --seed {seed}
)";

// CLI11's usage line cannot show the `-- PROGRAM` part.
class UsageFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App*, std::string) const override {
        return std::string("\nUsage: ") + kUsage + "\n";
    }
};

// Characters a POSIX shell leaves alone outside quotes.
bool shell_safe(const std::string& word) {
    return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("_@%+=:,./{}-").find(c) != std::string_view::npos;
    });
}

std::string shell_quote(const std::string& word) {
    if (shell_safe(word)) return word;
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

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

Grid build_grid(const std::vector<std::string>& params, const std::vector<std::string>& zips,
                const std::string& spec_file) {
    if (params.empty() && spec_file.empty()) {
        throw UsageError("no parameters: expected at least one -p name=SPEC or --spec FILE");
    }
    try {
        if (spec_file.empty()) return parse_grid(params, zips);
        // The file's axes first, then those of -p; zip groups from both.
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
    } catch (const SpecError& e) {
        if (!spec_file.empty()) throw UsageError("--spec '" + spec_file + "': " + e.what());
        throw UsageError(e.what());
    }
}

std::string trimmed_copy(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// What CLI11 could not place: unknown options, or words that belong after `--`.
[[noreturn]] void reject_extras(const std::vector<std::string>& extras, bool has_separator) {
    const std::string& first = extras.front();
    if (first.size() > 1 && first[0] == '-') {
        throw UsageError("run: unknown option '" + first + "'; see 'mpisweep run --help' for the options");
    }
    if (has_separator) {
        throw UsageError("run: unexpected argument '" + first +
                         "' before '--'; expected options only "
                         "there (give each parameter its own -p)");
    }
    throw UsageError("run: unexpected argument '" + first + "'; the program goes after '--': " + kUsage);
}

}  // namespace

std::string command_line(const CommandSpec& command) {
    std::string joined;
    for (const auto& arg : command.argv)
        joined += (joined.empty() ? "" : " ") + (command.shell ? arg : shell_quote(arg));
    return command.shell ? "/bin/sh -c " + shell_quote(joined) : joined;
}

std::optional<RunPlan> parse_run_arguments(const std::vector<std::string>& args, std::ostream& help_out) {
    // Everything after the first `--` is the program and its arguments, never options.
    const auto separator = std::find(args.begin(), args.end(), "--");
    const bool has_separator = separator != args.end();
    std::vector<std::string> own(args.begin(), separator);
    std::vector<std::string> program(has_separator ? separator + 1 : args.end(), args.end());

    CLI::App app(
        "Runs PROGRAM once per point of a parameter grid on the ranks of an MPI job; "
        "results in one HDF5 file.",
        "mpisweep run");
    app.formatter(std::make_shared<UsageFormatter>());
    app.allow_extras();
    app.footer(kFooter);
    std::string output = "mpisweep.h5", spec_file, log_dir;
    std::vector<std::string> params, zips;
    std::string max_attempts, max_worker_errors, timeout, kill_grace, prefetch, devices, slots_per_gpu,
        progress;
    std::string deadline, deadline_margin, drain_grace;
    bool resume = false, retry_failed = false, force = false, shell = false, stdout_json = false,
         no_speculation = false, cpu_only = false;
    app.add_option("-o,--output", output, "Results file (default mpisweep.h5)")->type_name("FILE");
    app.add_option("-p,--param", params, "A parameter axis: name[:type]=SPEC (repeat for each)")
        ->allow_extra_args(false)
        ->type_name("NAME=SPEC");
    app.add_option("--zip", zips, "Parameters that vary together: a,b (repeatable)")
        ->allow_extra_args(false)
        ->type_name("A,B");
    app.add_option("--spec", spec_file, "Parameters from a JSON file {\"params\": {...}, \"zip\": [[...]]}")
        ->type_name("FILE");
    app.add_option("--max-attempts", max_attempts, "Attempts per task before it fails for good (default 3)")
        ->type_name("N");
    app.add_option("--max-worker-errors", max_worker_errors,
                   "Failures in a row after which a worker takes no more tasks; 0: never (default 5)")
        ->type_name("N");
    app.add_option("--timeout", timeout, "Seconds an attempt may run; then its process group is killed")
        ->type_name("SECONDS");
    app.add_option("--kill-grace", kill_grace, "Seconds between SIGTERM and SIGKILL (default 5)")
        ->type_name("SECONDS");
    app.add_flag("--resume", resume, "Continue an existing results file: run its pending tasks");
    app.add_flag("--retry-failed", retry_failed, "With --resume: run its failed tasks again too");
    app.add_flag("--force", force, "Replace an existing results file");
    app.add_flag("--shell", shell, "Run '/bin/sh -c \"PROGRAM ARGS...\"' (pipes, redirections)");
    app.add_flag("--stdout-json", stdout_json, "Results are the JSON object on the last line of stdout");
    app.add_option("--log-dir", log_dir, "Folder of the per-task logs (default <results file>.logs)")
        ->type_name("DIR");
    app.add_option("--prefetch", prefetch, "Tasks queued on each worker beyond the running one (default 1)")
        ->type_name("N");
    app.add_flag("--no-speculation", no_speculation, "Never run speculative copies of slow tasks");
    app.add_option("--devices", devices, "GPUs to use, as CUDA ordinals: 0,1 (default: all)")
        ->type_name("LIST");
    app.add_option("--slots-per-gpu", slots_per_gpu, "Workers sharing one GPU (default 1)")->type_name("N");
    app.add_flag("--cpu-only", cpu_only, "Run every worker on CPU, even on GPU nodes");
    app.add_option(
           "--progress", progress,
           "Seconds between progress lines on stderr; 0: none (default 1 on a terminal, 30 otherwise)")
        ->type_name("SECONDS");
    app.add_option("--deadline", deadline,
                   "Start no task that would not finish by then: auto (the batch job's end), "
                   "2025-06-01T18:30[:00][Z|+02:00], unix seconds, or +90s/+45m/+2h; then exit 75")
        ->type_name("WHEN");
    app.add_option("--deadline-margin", deadline_margin,
                   "Seconds before the deadline kept to stop and close the file (default 60)")
        ->type_name("SECONDS");
    app.add_option(
           "--drain-grace", drain_grace,
           "On a stop signal, seconds running tasks get to stop before the job is aborted (default 10)")
        ->type_name("SECONDS");
    try {
        std::vector<std::string> reversed(own.rbegin(), own.rend());  // CLI11 takes them reversed
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        help_out << app.help();
        return std::nullopt;
    } catch (const CLI::ParseError& e) {
        throw UsageError(std::string("run: ") + e.what() + "; see 'mpisweep run --help'");
    }
    if (!app.remaining().empty()) reject_extras(app.remaining(), has_separator);
    if (!has_separator) throw UsageError(std::string("run: no program given: expected ") + kUsage);
    if (program.empty()) throw UsageError(std::string("run: no program after '--': expected ") + kUsage);
    if (output.empty()) throw UsageError("-o: expected a file path, got ''");
    if (retry_failed && !resume) {
        throw UsageError(
            "--retry-failed: only with --resume (it reruns the failed tasks of an existing file)");
    }
    if (resume && force) {
        throw UsageError(
            "--resume and --force: choose one (--resume continues the file, --force replaces it)");
    }

    RunPlan plan;
    Options& o = plan.options;
    o.output = output;
    o.resume = resume;
    o.retry_failed = retry_failed;
    o.overwrite = force;
    if (!max_attempts.empty()) o.scheduler.max_attempts = parse_int_option("--max-attempts", max_attempts, 1);
    if (!max_worker_errors.empty()) {
        o.scheduler.max_worker_errors = parse_int_option("--max-worker-errors", max_worker_errors, 0);
    }
    if (!prefetch.empty()) o.scheduler.prefetch = parse_int_option("--prefetch", prefetch, 0);
    o.scheduler.speculate = !no_speculation;
    if (!devices.empty()) o.devices.devices = parse_int_list_option("--devices", devices);
    if (!slots_per_gpu.empty())
        o.devices.slots_per_gpu = parse_int_option("--slots-per-gpu", slots_per_gpu, 1);
    o.devices.cpu_only = cpu_only;
    o.progress_interval = progress.empty() ? (isatty(STDERR_FILENO) ? 1.0 : 30.0)
                                           : parse_seconds_option("--progress", progress, false);

    if (!deadline.empty()) {
        try {
            const auto now = std::chrono::system_clock::now();
            o.deadline = parse_deadline(trimmed_copy(deadline), now);
            plan.deadline_auto = !o.deadline;
            if (o.deadline && *o.deadline <= now) {
                throw UsageError("--deadline '" + deadline +
                                 "': that time has passed; expected a time in the future");
            }
        } catch (const DeadlineError& e) {
            throw UsageError(e.what());
        }
    }
    if (!deadline_margin.empty()) {
        o.deadline_margin =
            std::chrono::duration<double>(parse_seconds_option("--deadline-margin", deadline_margin, false));
    }
    if (!drain_grace.empty()) {
        o.drain_grace =
            std::chrono::duration<double>(parse_seconds_option("--drain-grace", drain_grace, false));
    }

    CommandSpec& c = plan.command;
    c.argv = std::move(program);
    c.shell = shell;
    c.stdout_json = stdout_json;
    if (!timeout.empty()) c.timeout_s = parse_seconds_option("--timeout", timeout, true);
    if (!kill_grace.empty()) c.kill_grace_s = parse_seconds_option("--kill-grace", kill_grace, false);
    if ((!drain_grace.empty() || !kill_grace.empty()) && o.drain_grace.count() <= c.kill_grace_s) {
        std::ostringstream message;  // seconds as the user writes them (5, 0.5), not 5.000000
        message << "--drain-grace " << o.drain_grace.count() << " must be more than --kill-grace "
                << c.kill_grace_s << ": a task told to stop gets SIGKILL only after --kill-grace";
        throw UsageError(message.str());
    }
    // Absolute, so MPISWEEP_OUTPUT and the logs stay valid for a program that changes folder.
    std::error_code ec;
    const std::string logs = log_dir.empty() ? default_log_dir(output) : log_dir;
    const auto absolute = std::filesystem::absolute(logs, ec);
    c.log_dir = ec ? logs : absolute.lexically_normal().string();

    plan.grid = build_grid(params, zips, spec_file);
    try {
        check_command_template(c, plan.grid.names());
    } catch (const CommandError& e) {
        throw UsageError(e.what());
    }
    o.command = command_line(c);
    return plan;
}

}  // namespace mpisweep::cli
