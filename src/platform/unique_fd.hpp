#pragma once
// A file descriptor closed when its owner goes out of scope (-1: none).
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>

namespace mpisweep {

class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    /// Opens `path` for reading (close-on-exec); get() is -1 on an error (errno).
    static UniqueFd open_read(const std::string& path) {
        return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    }

private:
    int fd_;
};

}  // namespace mpisweep
