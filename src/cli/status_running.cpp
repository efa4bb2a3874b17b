#include "cli/status_running.hpp"

#include <algorithm>
#include <optional>

#include "cli/live_view.hpp"
#include "cli/results_file.hpp"
#include "cli/table.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/spec.hpp"
#include "platform/clock.hpp"

namespace mpisweep::cli {
namespace {

// A view older than this many intervals (and 10 s) is from a master that stopped or hangs.
constexpr double kStaleIntervals = 5;

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
    std::string why;
    const std::optional<LiveSnapshot> view = read_live(results_path, &why);
    if (!view) {
        if (why.find("no live view") == 0) {
            out << "no sweep is running on " << results_path << ": " << why
                << " (rank 0 of mpisweep run writes it while the sweep runs and removes it at the end)\n";
            return 0;
        }
        throw UsageError("status: " + why);
    }
    const double now = unix_seconds();
    const double age = now - view->written;
    std::vector<const LiveCopy*> running, queued;
    for (const LiveCopy& c : view->copies) (c.started > 0 ? running : queued).push_back(&c);
    std::sort(running.begin(), running.end(), [](auto* a, auto* b) { return a->task < b->task; });
    out << "running: " << running.size() << " task(s) on " << view->workers << " worker(s), " << view->done
        << " done, " << view->failed << " failed of " << view->total << " (run " << view->run
        << ", master pid " << view->pid << " on " << view->host << ", as of "
        << human_duration(std::max(age, 0.0)) << " ago)\n";
    if (age > std::max(kStaleIntervals * view->interval, 10.0)) {
        out << "warning: this view is " << human_duration(age)
            << " old: the sweep's master has stopped (killed?) or hangs\n";
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
    if (!queued.empty()) out << "queued on workers, not started: " << queued.size() << " copies\n";
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
