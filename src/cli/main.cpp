// The `mpisweep` command: `run` under MPI, and post-hoc commands on a results file.
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/usage_error.hpp"
#include "mpisweep/mpisweep.hpp"
#include "platform/interrupt.hpp"
#include "store/result_store.hpp"

namespace {

constexpr const char* kUsage = R"(usage: mpisweep COMMAND [ARGS...]

  run [OPTIONS] -- PROGRAM [ARGS...]   run PROGRAM once per grid point (under mpirun or srun)
  status FILE                          tasks by state, time spent, failures with their errors
  best FILE --metric NAME [--max] [-n K] [--mean-over AXIS]   the best tasks (or sets) by one result
  export FILE --csv OUT                one CSV row per task: params, results, task info
  show FILE --task ID                  everything the file holds about one task
  log FILE --task ID [--attempt K] [--stderr]   one task's stdout (or stderr)

'mpisweep COMMAND --help' describes each command.
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace mpisweep::cli;
    mpisweep::no_hdf5_cleanup_at_exit();  // before any HDF5 call
    // `run`: from here to the exit a stop signal never ends this process by its default
    // action. One that arrives before run() (while MPI starts) makes run() drain at once;
    // the rest of a burst after run() is absorbed (exit 75, the file closed and resumable).
    std::optional<mpisweep::detail::InterruptScope> interrupts;
    if (argc > 1 && std::strcmp(argv[1], "run") == 0) interrupts.emplace(5.0);
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << "mpisweep: no command given; expected run, status, best, export, show or log\n\n"
                  << kUsage;
        return mpisweep::kExitUsage;
    }
    if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        std::cout << kUsage;
        return mpisweep::kExitOk;
    }
    const std::map<std::string, int (*)(const std::vector<std::string>&)> commands = {
        {"run", run_command},       {"status", status_command}, {"best", best_command},
        {"export", export_command}, {"show", show_command},     {"log", log_command}};
    const auto command = commands.find(args[0]);
    if (command == commands.end()) {
        std::cerr << "mpisweep: unknown command '" << args[0]
                  << "'; expected run, status, best, export, show or log (see mpisweep --help)\n";
        return mpisweep::kExitUsage;
    }
    try {
        return command->second(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const UsageError& e) {
        std::cerr << "mpisweep: " << e.what() << '\n';
        return mpisweep::kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "mpisweep: " << args[0] << ": " << e.what() << '\n';
        return mpisweep::kExitError;
    }
}
