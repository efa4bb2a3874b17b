#include "exec/task_log_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/uio.h>

#include "platform/clock.hpp"

namespace mpisweep::detail {
namespace {

std::string reason(int error_number) {
    return std::string(std::strerror(error_number)) + " (errno " + std::to_string(error_number) + ")";
}

// The file behind `fd` was removed (someone deleted the log folder during the sweep).
bool unlinked(int fd) {
    struct stat info {};
    return ::fstat(fd, &info) == 0 && info.st_nlink == 0;
}

int create_exclusive(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int e = errno;
        throw std::runtime_error("cannot create task output file '" + path + "': " + reason(e));
    }
    return fd;
}

}  // namespace

TaskLogWriter::TaskLogWriter(std::string dir, StreamHeader header)
    : dir_(std::move(dir)), header_(std::move(header)) {
    std::string run = header_.run;
    if (run.empty()) {
        // A name for this process alone: its files must not meet another process's.
        std::random_device random;
        run = make_run_name(unix_seconds(), random()) + "-pid" + std::to_string(header_.pid);
    }
    const std::string stem = dir_ + "/" + stream_stem(run, header_.rank);
    data_path_ = stem + kDataSuffix;
    index_path_ = stem + kIndexSuffix;
}

TaskLogWriter::~TaskLogWriter() {
    if (data_fd_ >= 0) ::close(data_fd_);
    if (index_fd_ >= 0) ::close(index_fd_);
}

void TaskLogWriter::open() {
    if (!broken_.empty()) throw std::runtime_error(broken_);
    if (index_fd_ >= 0 && !unlinked(index_fd_)) return;
    if (index_fd_ >= 0) {
        // Its files were removed: what follows goes into new ones (one fstat per attempt).
        ::close(data_fd_);
        ::close(index_fd_);
        data_fd_ = index_fd_ = -1;
        data_size_ = 0;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("cannot create log folder '" + dir_ + "': " + reason(ec.value()));
    // O_EXCL: a stream is never shared, not even with a stale process of an earlier run.
    data_fd_ = create_exclusive(data_path_);
    index_fd_ = create_exclusive(index_path_);
    const std::string header = encode_header(header_);
    write_all(index_fd_, index_path_, header.data(), header.size());
}

void TaskLogWriter::write_all(int fd, const std::string& path, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            broken_ = "cannot write task output to '" + path + "': " + reason(n < 0 ? errno : EIO);
            throw std::runtime_error(broken_);
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

void TaskLogWriter::append(std::uint64_t task, int attempt, double start,
                           const std::vector<OutputChunk>& chunks, const IndexEntry* end) {
    open();
    entry_bytes_.clear();
    std::vector<iovec> pieces;
    std::size_t total = 0;
    for (const OutputChunk& chunk : chunks) {
        if (chunk.data.empty()) continue;
        pieces.push_back({const_cast<char*>(chunk.data.data()), chunk.data.size()});
        IndexEntry entry;
        entry.task = task;
        entry.attempt = attempt;
        entry.kind = chunk.stream;
        entry.offset = data_size_ + total;
        entry.length = static_cast<std::uint32_t>(chunk.data.size());
        entry.start = start;
        const std::size_t at = entry_bytes_.size();
        entry_bytes_.resize(at + kIndexEntrySize);
        encode_entry(entry, entry_bytes_.data() + at);
        total += chunk.data.size();
    }
    if (total > 0) {
        // One writev, finished by plain writes if the system takes less than everything.
        ssize_t n;
        do {
            n = ::writev(data_fd_, pieces.data(), static_cast<int>(pieces.size()));
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            broken_ = "cannot write task output to '" + data_path_ + "': " + reason(errno);
            throw std::runtime_error(broken_);
        }
        std::size_t done = static_cast<std::size_t>(n);
        for (const iovec& piece : pieces) {
            if (done >= piece.iov_len) {
                done -= piece.iov_len;
                continue;
            }
            write_all(data_fd_, data_path_, static_cast<const char*>(piece.iov_base) + done,
                      piece.iov_len - done);
            done = 0;
        }
        data_size_ += total;
    }
    if (end != nullptr) {
        const std::size_t at = entry_bytes_.size();
        entry_bytes_.resize(at + kIndexEntrySize);
        encode_entry(*end, entry_bytes_.data() + at);
    }
    if (!entry_bytes_.empty()) write_all(index_fd_, index_path_, entry_bytes_.data(), entry_bytes_.size());
}

}  // namespace mpisweep::detail
