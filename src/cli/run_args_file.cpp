#include "cli/run_arg_groups.hpp"
#include "cli/usage_error.hpp"

namespace mpisweep::cli {

void FileArgs::add(CLI::App& app) {
    app.add_option("-o,--output", output, "Results file (default mpisweep.h5)")->type_name("FILE");
    app.add_flag("--resume", resume, "Continue an existing results file: run its pending tasks");
    app.add_flag("--retry-failed", retry_failed, "With --resume: run its failed tasks again too");
    app.add_flag("--force", force, "Replace an existing results file");
    app.add_flag("--break-lock", break_lock,
                 "Take the results file even if its owner record says another sweep holds it "
                 "(only when that sweep is known to be gone)");
}

void FileArgs::apply(RunPlan& plan) const {
    if (output.empty()) throw UsageError("-o: expected a file path, got ''");
    if (retry_failed && !resume) {
        throw UsageError(
            "--retry-failed: only with --resume (it reruns the failed tasks of an existing file)");
    }
    if (resume && force) {
        throw UsageError(
            "--resume and --force: choose one (--resume continues the file, --force replaces it)");
    }
    Options& o = plan.options;
    o.output = output;
    o.resume = resume;
    o.retry_failed = retry_failed;
    o.overwrite = force;
    o.break_lock = break_lock;
}

}  // namespace mpisweep::cli
