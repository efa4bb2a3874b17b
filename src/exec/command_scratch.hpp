#pragma once
// Where a command's result file ($MPISWEEP_OUTPUT) lives: a private folder of this process on
// node-local storage, so a task's result makes no file on the shared filesystem. The first of
// $MPISWEEP_TMPDIR, /dev/shm, $TMPDIR, /tmp that is a writable folder; the worker reads and
// removes each result file after its attempt, and the folder when it is done.
#include <cstdint>
#include <mutex>
#include <string>

namespace mpisweep::detail {

class ScratchFolder {
public:
    ScratchFolder() = default;
    /// Removes the folder and anything left in it. Never throws.
    ~ScratchFolder();
    ScratchFolder(const ScratchFolder&) = delete;
    ScratchFolder& operator=(const ScratchFolder&) = delete;

    /// <folder>/<n>-task-<id>.attempt-<k>.json, n counting the calls: a new name each call.
    /// Makes the folder on the first call. Throws std::runtime_error naming the places tried
    /// when none is writable. Thread-safe.
    std::string result_path(std::uint64_t task, int attempt);

private:
    std::mutex mutex_;
    std::string path_;
    std::uint64_t calls_ = 0;
};

/// The folders ScratchFolder tries, in order (for messages and tests).
std::string scratch_candidates_text();

}  // namespace mpisweep::detail
