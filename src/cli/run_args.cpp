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

#include "cli/run_arg_groups.hpp"
#include "cli/usage_error.hpp"

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
a failed attempt; the task is retried up to --max-attempts times. stdout and stderr of every
attempt go to the log folder, one file per worker (no file per task); 'mpisweep log FILE
--task ID' prints them. --dry-run shows what would run without running it.

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
    FileArgs file;
    GridArgs grid;
    ScheduleArgs schedule;
    DeviceArgs devices;
    StopArgs stop;
    CommandArgs command;
    bool dry_run = false;
    app.add_flag("--dry-run", dry_run,
                 "Print the number of tasks, the axes and the first commands, check the program and the "
                 "folders; start nothing, write nothing (no MPI needed)");
    file.add(app);
    grid.add(app);
    schedule.add(app);
    command.add(app);
    devices.add(app);
    stop.add(app);
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
    RunPlan plan;
    file.apply(plan);
    grid.apply(plan);
    schedule.apply(plan);
    devices.apply(plan);
    stop.apply(plan);
    command.apply(plan, std::move(program), !stop.drain_grace.empty());
    plan.dry_run = dry_run;
    return plan;
}

}  // namespace mpisweep::cli
