#include "cli/status_running.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "cli/results_file.hpp"
#include "cli/table.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/spec.hpp"
#include "platform/clock.hpp"
#include "store/file_owner.hpp"

namespace mpisweep::cli {
namespace {

using store::LiveCopy;
using store::LiveWorker;

// A view older than this many intervals (and kStaleSeconds), or a heartbeat older than
// kStaleSeconds (three beats), is from a master that stopped or hangs. An unchanged view is
// confirmed with each heartbeat (every 10 s).
constexpr double kStaleIntervals = 5;
constexpr double kStaleSeconds = 30;

// "lr=0.001 seed=2", from the grid recorded in the file; "" when the file cannot tell.
class ParamsText {
public:
    explicit ParamsText(const std::string& results_path) {
        try {
            const std::string spec = read_spec_attribute(results_path);
            if (!spec.empty()) grid_ = parse_grid_json(spec);
        } catch (const std::exception&) {
            grid_.reset();  // an unreadable spec: the lines go without params
        }
    }
    std::string of(std::uint64_t task) const {
        if (!grid_ || task >= grid_->size()) return "";
        const Point p = grid_->at(TaskId(task));
        std::string text;
        for (std::size_t i = 0; i < p.size(); ++i)
            text += (i ? " " : "") + p.names()[i] + "=" + to_string(p.values()[i]);
        return text;
    }

private:
    std::optional<Grid> grid_;
};

std::string padded(const std::string& text, std::size_t width) {
    return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
}

}  // namespace

int print_running(const std::string& results_path, std::ostream& out) {
    const std::string record_path = store::owner_path_of(results_path);
    const std::optional<store::OwnerRecord> owner = store::read_owner(results_path);
    if (!owner) {
        std::error_code error;
        if (std::filesystem::exists(record_path, error))
            throw UsageError("status: the owner record '" + record_path +
                             "' cannot be read (damaged, or of another version)");
        out << "no sweep is running on " << results_path << ": no owner record '" << record_path
            << "' (a sweep keeps one beside its results file while it runs and removes it at the end)\n";
        return 0;
    }
    const double now = unix_seconds();
    if (!owner->live) {
        out << "a sweep is running on " << results_path << ", of " << owner->describe(now)
            << ", but it has published no live view yet (its master publishes one within seconds of "
               "starting; an mpisweep older than the live view in the owner record never does)\n";
        return 0;
    }
    const store::LiveSnapshot* view = &*owner->live;
    const double age = now - view->written;
    std::vector<const LiveCopy*> running, queued;
    for (const LiveCopy& c : view->copies) (c.started > 0 ? running : queued).push_back(&c);
    std::sort(running.begin(), running.end(), [](auto* a, auto* b) { return a->task < b->task; });
    out << "running: " << running.size() << " task(s) on " << view->workers << " worker(s), " << view->done
        << " done, " << view->failed << " failed of " << view->total << " (run "
        << (view->run.empty() ? std::string("unnamed") : view->run) << ", master pid " << owner->pid << " on "
        << owner->host << ", as of " << human_duration(std::max(age, 0.0)) << " ago)\n";
    const double silent = now - owner->heartbeat;
    if (age > std::max(kStaleIntervals * view->interval, kStaleSeconds) || silent > kStaleSeconds) {
        out << "warning: this view is " << human_duration(age) << " old, the last heartbeat "
            << human_duration(std::max(silent, 0.0))
            << " ago: the sweep's master has stopped (killed?) or hangs\n";
    }
    const ParamsText params(results_path);
    std::vector<std::vector<std::string>> rows;
    for (const LiveCopy* c : running) {
        std::string where = "rank " + std::to_string(c->worker) + " on " + c->host;
        if (c->device >= 0) where += " GPU " + std::to_string(c->device);
        rows.push_back({std::to_string(c->task), params.of(c->task), where,
                        "attempt " + std::to_string(c->attempt),
                        human_duration(std::max(now - c->started, 0.0)) +
                            (c->speculative ? " (speculative copy)" : "")});
    }
    std::vector<std::size_t> widths(5, 0);
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i + 1 < row.size(); ++i) line += padded(row[i], widths[i]) + "  ";
        out << line << row.back() << '\n';
    }
    // An older master's record lists its queued copies too.
    const std::uint64_t n_queued = view->queued + queued.size();
    if (n_queued > 0) out << "queued on workers, not started: " << n_queued << " copies\n";
    for (const LiveWorker& w : view->stopped_workers) {
        const std::string ago = human_duration(std::max(now - w.since, 0.0));
        out << "rank " << w.rank << " on " << w.host << ": ";
        if (w.state == "lost") {
            out << "lost: silent for " << ago << " (since " << utc_time(w.since)
                << "; a hung node or rank: it gets nothing more)\n";
            continue;
        }
        out << w.state << " " << ago << " ago" << (w.why.empty() ? "" : ": " + one_line(w.why)) << '\n';
    }
    return 0;
}

}  // namespace mpisweep::cli
