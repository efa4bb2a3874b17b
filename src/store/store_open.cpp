// Creating a results file, and opening an existing one as it is.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

#include "store/pending_file.hpp"
#include "store/store_impl.hpp"

namespace mpisweep {

namespace {

bool path_exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string errno_text(int error) {
    return std::string(std::strerror(error)) + ", errno " + std::to_string(error);
}

// A file this user may not write is never replaced or rebuilt: a permission error or a
// read-only filesystem is not a torn file. Root may write any file, so for root a file with
// no write permission at all counts as read-only too (someone protected it on purpose).
void check_writable(const std::string& path, const char* action) {
    const std::string cannot = std::string("cannot ") + action + " '" + path + "': ";
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT) return;
        if (error == EACCES || error == EPERM || error == EROFS)
            throw StoreError(cannot + "this user may not write it (" + errno_text(error) +
                             "); it is left as it is");
        throw StoreError(cannot + errno_text(error));
    }
    struct stat info {};
    const bool protected_file = ::fstat(fd, &info) == 0 && (info.st_mode & 0222) == 0;
    ::close(fd);
    if (protected_file) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
        throw StoreError(cannot + "it is read-only (mode " + mode +
                         "); it is left as it is (make it writable with chmod u+w to go on)");
    }
}

store::FileIdentity identity_of(const store::JournalHeader& header) {
    return store::FileIdentity{header.file_id, header.created, header.mpi_size, header.command};
}

}  // namespace

std::unique_ptr<store::FileOwner> ResultStore::Impl::take(const StoreOptions& options, const char* action) {
    store::OwnershipOptions o;
    o.break_lock = options.break_lock;
    o.heartbeat_interval = options.heartbeat_interval;
    o.stale_after = options.stale_after;
    if (options.on_message) {
        o.note = [&options](const std::string& text) { options.on_message(MessageLevel::Warning, text); };
    }
    std::unique_ptr<store::FileOwner> owner = store::FileOwner::acquire(options.path, o);
    check_writable(options.path, action);
    check_writable(store::journal_path_of(options.path), action);
    return owner;
}

std::unique_ptr<ResultStore::Impl> ResultStore::Impl::open_new(const std::string& path,
                                                               const StoreOptions& options,
                                                               const Grid& grid) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    impl->n_tasks = grid.size();
    impl->writer.open(path, grid.size());
    impl->writer.start_params(grid);
    return impl;
}

ResultStore ResultStore::create(const Grid& grid, const StoreOptions& options) {
    const h5::SilenceErrors quiet;
    const std::string& path = options.path;
    if (path.empty()) throw StoreError("results file: expected a path, got ''");
    if (grid.size() == 0) throw StoreError("cannot create '" + path + "': the grid has no tasks");
    if (is_directory(path)) throw StoreError("results file '" + path + "' is a folder: expected a file path");
    // First: a file in use is refused naming its owner, whatever else is the matter.
    std::unique_ptr<store::FileOwner> owner = Impl::take(options, "replace");
    if (path_exists(path) && !options.overwrite)
        throw StoreError("results file '" + path +
                         "' already exists: use --resume to continue it or --force to replace it");
    store::JournalHeader header;
    header.n_tasks = grid.size();
    header.file_id = store::new_journal_id();
    header.since_creation = true;
    header.mpi_size = options.mpi_size;
    header.created = store::utc_timestamp();
    header.spec = grid.to_json();
    header.command = options.command;
    {
        store::PendingFile pending(path);
        try {
            store::write_new_file(pending.path(), grid, identity_of(header));
        } catch (const h5::H5Error& e) {
            // One line, not HDF5's stack.
            if (auto failure = storage_failure("the results file", pending.path(), e.system_error()))
                throw *failure;
            throw StoreError("cannot create results file '" + path + "': " + e.what());
        }
        pending.commit();
    }
    // After the file: a kill in between leaves an old journal whose id does not match the
    // new file (ignored and replaced on resume) or none (the file has no rows yet).
    const std::string journal_path = store::journal_path_of(path);
    store::create_journal_file(journal_path, header);
    std::unique_ptr<Impl> impl = Impl::open_new(path, options, grid);
    impl->owner = std::move(owner);
    impl->journal = store::JournalWriter(journal_path, store::encode_header(header).size());
    impl->committed = impl->journal.size();
    impl->period_start = impl->committed;
    return ResultStore(std::move(impl));
}

std::unique_ptr<ResultStore::Impl> ResultStore::Impl::open_existing(const Grid& grid,
                                                                    const StoreOptions& options) {
    const std::string& path = options.path;
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        (void)h5::take_error_stack();
        throw UnreadableFile("'" + path + "' is not an mpisweep results file (not an HDF5 file)");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    impl->n_tasks = grid.size();
    h5::File file;
    try {
        file = h5::File(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDWR, h5::writer_file_access().get()));
    } catch (const h5::H5Error& e) {
        throw UnreadableFile("cannot open results file '" + path + "' for writing: " + e.what());
    }
    // Another grid or not an mpisweep file: the file speaks for itself, nothing is touched.
    const int version = store::check_same_sweep(file.get(), grid, path);
    file.close();
    try {
        impl->writer.open(path, grid.size());
        // An older format is read as it is; what this run writes makes it the current one.
        if (version < store::kFormatVersion)
            h5::write_int32_attribute(impl->writer.file(), "format_version", store::kFormatVersion);
        impl->at_open = impl->writer.load(impl->staging, path);
        impl->writer.start_params(grid);
    } catch (const std::exception& e) {
        throw UnreadableFile("cannot resume from '" + path +
                             "': it is not a complete mpisweep results file (" + e.what() + ")");
    }
    return impl;
}

}  // namespace mpisweep
