#include "store/pending_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "store/result_store.hpp"

namespace mpisweep::store {

std::string folder_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

PendingFile::PendingFile(std::string target) : target_(std::move(target)) {
    static std::atomic<unsigned> counter{0};
    for (int tries = 0;; ++tries) {
        path_ = target_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        // O_EXCL: the name is ours alone; the mode follows the umask like any new file.
        int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            ::close(fd);
            return;
        }
        if (errno != EEXIST || tries > 100) {
            int error = errno;
            throw StoreError("cannot write the results file '" + target_ + "' in folder '" +
                             folder_of(target_) + "': " + std::strerror(error));
        }
    }
}

PendingFile::~PendingFile() {
    if (!committed_) (void)std::remove(path_.c_str());
}

void PendingFile::commit() {
    if (std::rename(path_.c_str(), target_.c_str()) != 0) {
        int error = errno;
        throw StoreError("cannot move the new results file into place as '" + target_ +
                         "': " + std::strerror(error));
    }
    committed_ = true;
}

}  // namespace mpisweep::store
