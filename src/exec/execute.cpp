#include "exec/execute.hpp"

#include <exception>

namespace mpisweep {

TaskReport execute_task(const TaskFunction& task, const Grid& grid, TaskId id, int attempt,
                        const WorkerInfo& worker, const std::function<bool()>& cancel_check, double start,
                        const Clock& clock) {
    TaskReport report;
    report.task = id;
    report.attempt = attempt;
    report.start = start;
    try {
        // Refilled in place: one task after another on a rank, without an allocation each.
        thread_local Point params(nullptr, {});
        grid.at(id, params);
        TaskContext context(id, attempt, params, worker, cancel_check);
        report.results = task(context);
        // A copy told to cancel may still finish: the caller, which knows whether it was told,
        // turns that into Cancelled (asking cancel_check here would probe MPI once per task).
        report.outcome = Outcome::Done;
    } catch (const TaskCancelled&) {
        report.outcome = Outcome::Cancelled;
    } catch (const InfrastructureError& e) {
        report.outcome = Outcome::Infrastructure;
        report.error = e.what();
    } catch (const TaskFailure& failure) {
        report.outcome = Outcome::Failed;
        report.error = failure.what();
        report.exit_code = failure.exit_code();
    } catch (const std::exception& e) {
        report.outcome = Outcome::Failed;
        report.error = e.what();
    } catch (...) {
        report.outcome = Outcome::Failed;
        report.error = "unknown exception (not derived from std::exception)";
    }
    report.wall_s = clock.now() - start;
    if (report.outcome != Outcome::Done) report.results.clear();
    return report;
}

}  // namespace mpisweep
