#include "exec/task_log_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

// Writes all of `pieces`, retrying what the system took only in part. False with errno set.
bool write_pieces(int fd, iovec* pieces, int count) {
    while (count > 0) {
        const ssize_t n = ::writev(fd, pieces, count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        auto done = static_cast<std::size_t>(n);
        while (count > 0 && done >= pieces->iov_len) {
            done -= pieces->iov_len;
            ++pieces;
            --count;
        }
        if (count > 0) {
            pieces->iov_base = static_cast<char*>(pieces->iov_base) + done;
            pieces->iov_len -= done;
        }
    }
    return true;
}

}  // namespace

TaskLogWriter::TaskLogWriter(std::string dir, StreamHeader header)
    : dir_(std::move(dir)), header_(std::move(header)) {
    std::string run = header_.run;
    if (run.empty()) {
        // A name for this process alone: its file must not meet another process's.
        std::random_device random;
        run = make_run_name(unix_seconds(), random()) + "-pid" + std::to_string(header_.pid);
    }
    path_ = dir_ + "/" + stream_stem(run, header_.rank) + kStreamSuffix;
}

TaskLogWriter::~TaskLogWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void TaskLogWriter::check() {
    if (!broken_.empty()) throw std::runtime_error(broken_);
    if (fd_ >= 0 && unlinked(fd_)) {
        // Its file was removed: what follows goes into a new one (one fstat per attempt).
        ::close(fd_);
        fd_ = -1;
    }
}

void TaskLogWriter::open() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("cannot create log folder '" + dir_ + "': " + reason(ec.value()));
    // O_EXCL: a stream is never shared, not even with a stale process of an earlier run.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        const int e = errno;
        throw std::runtime_error("cannot create task output file '" + path_ + "': " + reason(e));
    }
    header_written_ = false;
}

void TaskLogWriter::append(std::uint64_t task, int attempt, double start,
                           const std::vector<OutputChunk>& chunks, const IndexEntry* end) {
    if (chunks.size() > 2)
        throw std::logic_error("TaskLogWriter::append: at most a stdout and a stderr chunk");
    // Whether the file was removed is asked once per attempt (check(), before it), not here.
    if (!broken_.empty()) throw std::runtime_error(broken_);
    const bool any_data =
        std::any_of(chunks.begin(), chunks.end(), [](const OutputChunk& c) { return !c.data.empty(); });
    if (!any_data && end == nullptr) return;
    if (fd_ < 0) {
        try {
            open();
        } catch (const std::runtime_error& e) {
            broken_ = e.what();  // this rank's next attempts report it (the output is lost)
            throw;
        }
    }
    static const char newline = '\n';
    // At most: the stream header, three pieces per chunk, the end line.
    std::string stream_header;
    char headers[3][kMaxHeaderLine];
    iovec pieces[2 + 3 * 2];
    int count = 0, used = 0;
    if (!header_written_) {
        stream_header = encode_stream_header(header_);
        pieces[count++] = {stream_header.data(), stream_header.size()};
    }
    for (const OutputChunk& chunk : chunks) {
        if (chunk.data.empty()) continue;
        IndexEntry entry;
        entry.task = task;
        entry.attempt = attempt;
        entry.kind = chunk.stream;
        entry.length = static_cast<std::uint32_t>(chunk.data.size());
        entry.start = start;
        pieces[count++] = {headers[used], encode_frame_header(entry, headers[used])};
        ++used;
        pieces[count++] = {const_cast<char*>(chunk.data.data()), chunk.data.size()};
        // The next header at a line start: a reader finds it by the length, a person by eye.
        if (chunk.data.back() != '\n') pieces[count++] = {const_cast<char*>(&newline), 1};
    }
    if (end != nullptr) pieces[count++] = {headers[2], encode_frame_header(*end, headers[2])};
    if (!write_pieces(fd_, pieces, count)) {
        broken_ = "cannot write task output to '" + path_ + "': " + reason(errno);
        throw std::runtime_error(broken_);
    }
    header_written_ = true;
}

}  // namespace mpisweep::detail
