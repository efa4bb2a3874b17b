#pragma once
// Where a command's result file ($MPISWEEP_OUTPUT) lives: a private folder of this process on
// node-local storage, so a task's result makes no file on the shared filesystem. The first of
// $MPISWEEP_TMPDIR, /dev/shm, $TMPDIR, /tmp that is a writable folder; the worker reads and
// removes each result file after its attempt, and the folder when it is done.
#include <cstdint>
#include <string>

namespace mpisweep::detail {

class ScratchFolder {
public:
    ScratchFolder() = default;
    /// Removes the folder and anything left in it. Never throws.
    ~ScratchFolder();
    ScratchFolder(const ScratchFolder&) = delete;
    ScratchFolder& operator=(const ScratchFolder&) = delete;

    /// <folder>/task-<id>.attempt-<k>.json; makes the folder on the first call. Throws
    /// std::runtime_error naming the places tried when none is writable.
    std::string result_path(std::uint64_t task, int attempt);

private:
    std::string path_;
};

/// The folders ScratchFolder tries, in order (for messages and tests).
std::string scratch_candidates_text();

}  // namespace mpisweep::detail
