// `mpisweep log FILE --task N [--attempt K] [--stderr] [--list]`: one task's output from the
// output streams of the sweep (no HDF5 involved: it works while the sweep runs).
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/results_file.hpp"
#include "cli/subcommand_args.hpp"
#include "cli/task_logs.hpp"
#include "cli/usage_error.hpp"
#include "exec/task_log_reader.hpp"
#include "mpisweep/command.hpp"

namespace mpisweep::cli {
namespace {

std::uint64_t parse_id(const std::string& option, const std::string& text, std::uint64_t minimum) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || errno != 0 || end != text.c_str() + text.size() ||
        value < minimum) {
        throw UsageError("log: " + option + ": expected an integer >= " + std::to_string(minimum) +
                         ", got '" + text + "'");
    }
    return value;
}

// A success that printed nothing leaves no frame in the streams (AttemptCapture::finish): when
// no logged attempt of `task` succeeded and the results file says it is done, its row stands
// for the winning attempt, the last one: when and where it ran, no output.
void add_silent_success(const std::string& path, std::uint64_t task, detail::TaskLog& log) {
    for (const detail::LoggedAttempt& a : log.attempts)
        if (a.end && a.end->end == detail::AttemptEnd::Done) return;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return;
    store::ResultsSnapshot results;
    try {
        results = read_results_file(path);
    } catch (const UsageError&) {
        if (log.attempts.empty()) throw;  // nothing else to show: say why
        return;
    }
    const std::size_t row = results.rows.find(task);
    if (row == store::SettledTable::npos || results.rows.status[row] != TaskStatus::Done) return;
    detail::LoggedAttempt won;
    won.writer.rank = results.rows.worker[row];
    won.writer.host = results.node_name(row);
    won.start = results.rows.start[row];
    won.attempt_in_run = results.rows.attempts[row];
    detail::IndexEntry end;
    end.task = task;
    end.kind = detail::EntryKind::End;
    end.end = detail::AttemptEnd::Done;
    end.start = won.start;
    end.wall_s = static_cast<float>(results.rows.wall_s[row]);
    won.end = end;
    log.attempts.push_back(std::move(won));
}

}  // namespace

int log_command(const std::vector<std::string>& args) {
    CLI::App app("One task's stdout (or stderr) as its program wrote it; the last attempt unless told.",
                 "mpisweep log");
    std::string path, task_text, attempt_text, log_dir;
    bool want_stderr = false, list = false;
    app.add_option("FILE", path, "Results file of the sweep")->required();
    app.add_option("--task", task_text, "Task id")->required();
    app.add_option("--attempt", attempt_text, "Attempt, numbered from 1 across runs (default: the last)");
    app.add_flag("--stderr", want_stderr, "Print stderr instead of stdout");
    app.add_flag("--list", list, "List the task's attempts instead: run, rank, node, outcome, sizes");
    app.add_option("--log-dir", log_dir, "Log folder the sweep used (default <FILE>.logs)")->type_name("DIR");
    if (!parse_subcommand(app, "log", args)) return 0;
    const std::uint64_t task = parse_id("--task", task_text, 0);
    const bool default_folder = log_dir.empty();
    if (default_folder) log_dir = default_log_dir(path);
    std::error_code ec;
    const bool have_folder = std::filesystem::is_directory(log_dir, ec);
    detail::TaskLog log;
    if (have_folder) log = detail::read_task_log(log_dir, task);
    for (const std::string& bad : log.unreadable) std::cerr << "mpisweep: log: skipped " << bad << '\n';
    // A sweep whose tasks printed nothing and succeeded makes no log folder; a folder named
    // with --log-dir that does not exist is a mistake.
    if (have_folder || default_folder) add_silent_success(path, task, log);
    if (!have_folder && log.attempts.empty()) {
        throw UsageError("log: no task output for '" + path + "': folder '" + log_dir +
                         "' does not exist (no task printed anything or ended badly yet, or the sweep "
                         "used --log-dir: give it here too)");
    }
    if (!have_folder) {
        std::cerr << "mpisweep: log: task " << task << " printed nothing: folder '" << log_dir
                  << "' does not exist (a sweep run with --log-dir: give it here too)\n";
    }
    if (log.attempts.empty()) {
        throw UsageError("log: task " + std::to_string(task) + " has no recorded attempt in '" + log_dir +
                         "' (not started yet, or not a task of this sweep)");
    }
    if (list) {
        for (const std::string& line : describe_attempts(log)) std::cout << line << '\n';
        return 0;
    }
    const std::size_t count = log.attempts.size();
    std::size_t k = count;
    if (!attempt_text.empty()) {
        k = parse_id("--attempt", attempt_text, 1);
        if (k > count) {
            throw UsageError("log: task " + std::to_string(task) + " has " + std::to_string(count) +
                             " recorded attempt(s); --attempt " + attempt_text + " is not one of 1.." +
                             std::to_string(count));
        }
    }
    const detail::LoggedAttempt& attempt = log.attempts[k - 1];
    const std::uint64_t missing = detail::copy_output(
        attempt, want_stderr ? detail::EntryKind::Stderr : detail::EntryKind::Stdout, std::cout);
    std::cout.flush();
    if (!attempt.end) {
        std::cerr << "mpisweep: log: attempt " << k << " of task " << task
                  << " has no end recorded (still running, or its worker stopped): its output so far\n";
    }
    if (missing > 0) {
        std::cerr << "mpisweep: log: " << missing << " bytes of this output are missing from '"
                  << attempt.data_path << "' (its node stopped before they reached the disk)\n";
    }
    return 0;
}

}  // namespace mpisweep::cli
