#include "exec/command_scratch.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace mpisweep::detail {
namespace {

std::vector<std::string> candidates() {
    std::vector<std::string> out;
    if (const char* own = std::getenv("MPISWEEP_TMPDIR"); own && *own) out.emplace_back(own);
    out.emplace_back("/dev/shm");
    if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) out.emplace_back(tmp);
    out.emplace_back("/tmp");
    return out;
}

}  // namespace

std::string scratch_candidates_text() {
    std::string text;
    for (const std::string& c : candidates()) text += (text.empty() ? "" : ", ") + c;
    return text;
}

ScratchFolder::~ScratchFolder() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string ScratchFolder::result_path(std::uint64_t task, int attempt) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (path_.empty()) {
        for (const std::string& base : candidates()) {
            std::string pattern = base + "/mpisweep-XXXXXX";
            if (::mkdtemp(pattern.data()) != nullptr) {
                path_ = pattern;
                break;
            }
        }
        if (path_.empty()) {
            throw std::runtime_error("cannot make a folder for result files in any of " +
                                     scratch_candidates_text() +
                                     "; set MPISWEEP_TMPDIR to a writable folder on this node");
        }
    }
    // A name no earlier call used: a file left under it (by a process that escaped its
    // group) cannot pass for this attempt's, so nothing needs removing before the attempt.
    return path_ + "/" + std::to_string(++calls_) + "-task-" + std::to_string(task) + ".attempt-" +
           std::to_string(attempt) + ".json";
}

}  // namespace mpisweep::detail
