#include "store/journal_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <sys/stat.h>
#include <sys/uio.h>
#include <utility>

#include "store/result_store.hpp"

namespace mpisweep::store {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
    // A full or failing disk is not the journal's fault: the caller stops the sweep on it.
    if (auto failure = storage_failure("the journal", path, error)) throw *failure;
    throw StoreError("journal '" + path + "': cannot " + what + ": " + std::strerror(error));
}

void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            fail("write", path, errno);
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

}  // namespace

std::string journal_path_of(const std::string& results_path) {
    return results_path + ".journal";
}

std::uint64_t new_journal_id() {
    std::random_device device;
    std::uint64_t id = 0;
    while (id == 0) id = (std::uint64_t{device()} << 32) ^ device();
    return id;
}

std::optional<std::string> read_whole_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail("open", path, errno);
    }
    std::string bytes;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_size > 0) bytes.reserve(static_cast<std::size_t>(info.st_size));
    char block[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd, block, sizeof block);
        if (got < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            ::close(fd);
            fail("read", path, error);
        }
        if (got == 0) break;
        bytes.append(block, static_cast<std::size_t>(got));
    }
    ::close(fd);
    return bytes;
}

void create_journal_file(const std::string& path, const JournalHeader& header) {
    const std::string temp = path + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) fail("create", temp, errno);
    try {
        const std::string bytes = encode_header(header);
        write_all(fd, bytes.data(), bytes.size(), temp);
    } catch (...) {
        ::close(fd);
        (void)std::remove(temp.c_str());
        throw;
    }
    ::close(fd);
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        const int error = errno;
        (void)std::remove(temp.c_str());
        fail("move into place", path, error);
    }
}

void remove_journal_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("remove", path, errno);
}

namespace {
// The header rewritten in place as kJournalVersion's: the same fields, so the same length
// (one write within the first block). Not through the O_APPEND descriptor: Linux appends
// pwrite()s made through one. Returns `path`, for the constructor that opens it next.
const std::string& upgraded(const std::string& path, const JournalScan& scan) {
    if (scan.header.version >= kJournalVersion) return path;
    const std::string bytes = encode_header(scan.header);
    if (bytes.size() != scan.header_end)
        throw StoreError("journal '" + path + "': its header cannot be raised to version " +
                         std::to_string(kJournalVersion));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail("open for writing", path, errno);
    const ssize_t written = ::pwrite(fd, bytes.data(), bytes.size(), 0);
    const int error = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(bytes.size()))
        fail("write its header", path, written < 0 ? error : EIO);
    return path;
}
}  // namespace

JournalWriter::JournalWriter(const std::string& path, const JournalScan& scan)
    : JournalWriter(upgraded(path, scan), scan.valid_end) {}

JournalWriter::JournalWriter(const std::string& path, std::uint64_t valid_end) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) fail("open for appending", path, errno);
    if (::ftruncate(fd_, static_cast<off_t>(valid_end)) != 0) {
        const int error = errno;
        close();
        fail("cut its torn end", path, error);
    }
    size_ = valid_end;
}

JournalWriter::JournalWriter(JournalWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      reserved_end_(other.reserved_end_),
      reserve_supported_(other.reserve_supported_) {}

JournalWriter& JournalWriter::operator=(JournalWriter&& other) noexcept {
    if (this != &other) {
        close();
        path_ = std::move(other.path_);
        fd_ = std::exchange(other.fd_, -1);
        size_ = other.size_;
        reserved_end_ = other.reserved_end_;
        reserve_supported_ = other.reserve_supported_;
    }
    return *this;
}

JournalWriter::~JournalWriter() {
    close();
}

void JournalWriter::append(std::string_view bytes, std::string_view more) {
    iovec parts[2] = {{const_cast<char*>(bytes.data()), bytes.size()},
                      {const_cast<char*>(more.data()), more.size()}};
    try {
        ssize_t written = -1;
        do written = ::writev(fd_, parts, more.empty() ? 1 : 2);
        while (written < 0 && errno == EINTR);
        if (written < 0) fail("write", path_, errno);
        // The kernel took part of it (a full disk, a signal): the rest with a write loop.
        auto done = static_cast<std::size_t>(written);
        if (done < bytes.size()) {
            write_all(fd_, bytes.data() + done, bytes.size() - done, path_);
            done = bytes.size();
        }
        done -= bytes.size();
        if (done < more.size()) write_all(fd_, more.data() + done, more.size() - done, path_);
    } catch (...) {
        // Whatever part reached the file ends the journal for every reader: cut it off, so
        // that what the next append writes is read (a full disk that frees up again). That
        // gives back the space taken ahead too (a truncate frees every block past the end).
        (void)::ftruncate(fd_, static_cast<off_t>(size_));
        reserved_end_ = 0;
        throw;
    }
    size_ += bytes.size() + more.size();
}

void JournalWriter::take_reserve() {
#ifdef FALLOC_FL_KEEP_SIZE
    // KEEP_SIZE: the blocks are the file's, its size is not; appends (O_APPEND: at the size)
    // fill them, and readers, which read up to the size, never see them. O_APPEND writes
    // into blocks already taken need no new space: they succeed on a full disk.
    int result = -1;
    do
        result = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size_),
                             static_cast<off_t>(kJournalReserve));
    while (result != 0 && errno == EINTR);
    if (result == 0) {
        reserved_end_ = size_ + kJournalReserve;
        return;
    }
    // A full disk stops the sweep. EOPNOTSUPP and the like: a file system that cannot
    // (NFSv3, some FUSE ones); the journal goes on without a reserve, and on a full disk its
    // appends fail as the file's writes do.
    const int error = errno;
    if (is_storage_errno(error)) fail("take disk space ahead", path_, error);
#endif
    reserve_supported_ = false;
}

void JournalWriter::sync() {
    if (fd_ >= 0 && ::fsync(fd_) != 0) fsync_failed(path_, errno);
}

void JournalWriter::fsync_failed(const std::string& path, int error) {
    fail("fsync", path, error);
}

void JournalWriter::close() noexcept {
    if (fd_ >= 0) {
        // The space taken ahead back to the disk (a truncate to the size frees the blocks
        // past it).
        if (reserved_end_ > size_) (void)::ftruncate(fd_, static_cast<off_t>(size_));
        (void)::close(fd_);
    }
    fd_ = -1;
    reserved_end_ = 0;
}

}  // namespace mpisweep::store
