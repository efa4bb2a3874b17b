#pragma once
// The journal file on disk: created whole beside its target and renamed into place,
// appended to with one write(2) (writev) per call (a SIGKILL leaves at most the last frame
// cut short, which readers ignore), read back whole. The space of the next appends is taken
// ahead (keep_reserve), so that the journal still takes results once the disk is full.
#include <cstdint>
#include <optional>
#include <string>

#include "store/journal_codec.hpp"

namespace mpisweep::store {

/// "<results path>.journal".
std::string journal_path_of(const std::string& results_path);

/// A fresh random 64-bit id (never 0) tying a journal to its HDF5 file.
std::uint64_t new_journal_id();

/// The whole file, or nullopt when it does not exist. Throws StoreError on a read error.
std::optional<std::string> read_whole_file(const std::string& path);

/// Writes a journal holding only `header` beside `path` and renames it onto `path`.
void create_journal_file(const std::string& path, const JournalHeader& header);

/// Removes `path` if it exists; throws StoreError on any other failure.
void remove_journal_file(const std::string& path);

/// An open journal, appended to. Move-only; closes its descriptor (giving back the space
/// taken ahead).
class JournalWriter {
public:
    JournalWriter() = default;
    /// Opens `path` for appending and cuts it to `valid_end` bytes (drops a torn tail, so
    /// later frames are not hidden behind it).
    JournalWriter(const std::string& path, std::uint64_t valid_end);
    /// Opens the journal `scan` read for appending (cut to its valid end), its header first
    /// raised to kJournalVersion when older: what this writer appends is that version's.
    JournalWriter(const std::string& path, const JournalScan& scan);
    JournalWriter(JournalWriter&& other) noexcept;
    JournalWriter& operator=(JournalWriter&& other) noexcept;
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;
    ~JournalWriter();

    explicit operator bool() const { return fd_ >= 0; }
    /// Offset of the next byte to be written.
    std::uint64_t size() const { return size_; }
    /// Appends `bytes` (then `more`) with one write(2) (a loop only if the kernel takes part
    /// of it). Throws StoreError naming the journal and errno; the bytes of a failed append
    /// are cut off again, so that a later append is not hidden behind a torn frame.
    void append(std::string_view bytes, std::string_view more = {});
    /// Takes disk space ahead of the end for the next appends (fallocate, the file's size
    /// unchanged: readers see nothing of it), kJournalReserve at a time once less than
    /// kJournalReserveLow is left: when the disk fills up, the appends still succeed for that
    /// long. Throws StoreWriteError when the disk cannot give it (the reserve left is still
    /// there: the caller stops while the journal takes the results in flight). A file system
    /// without fallocate (some NFS and FUSE ones): nothing taken, never throws.
    void keep_reserve() {
        if (reserved_end_ < size_ + kJournalReserveLow && reserve_supported_ && fd_ >= 0) take_reserve();
    }
    /// Disk space taken ahead and not written yet.
    std::uint64_t reserved() const { return reserved_end_ > size_ ? reserved_end_ - size_ : 0; }
    /// fsync(2): what was appended survives a crash of the node. Throws StoreError.
    void sync();
    /// Throws what a failed fsync of the journal at `path` is: StoreWriteError for a full or
    /// failing disk, else StoreError.
    [[noreturn]] static void fsync_failed(const std::string& path, int error);
    void close() noexcept;
    const std::string& path() const { return path_; }
    /// The open descriptor (-1 when closed), for BackgroundSync.
    int descriptor() const { return fd_; }

    static constexpr std::uint64_t kJournalReserve = std::uint64_t{4} << 20;
    static constexpr std::uint64_t kJournalReserveLow = std::uint64_t{1} << 20;

private:
    void take_reserve();

    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    /// One past the space taken ahead (<= size_: none).
    std::uint64_t reserved_end_ = 0;
    bool reserve_supported_ = true;
};

}  // namespace mpisweep::store
