#pragma once
// The write-ahead journal beside a results file (<output>.journal, docs/hdf5-layout.md):
// its binary format, encoded and decoded by hand (little-endian, no padding).
//
//   header : "MPSWJRN1" [u32 payload length][u32 crc32][payload]
//            payload = u32 version, u64 n_tasks, u64 file id, u8 since_creation,
//                      i32 mpi_size, str created, str spec, str command
//   frame  : [u32 kFrameMagic][u8 kind][u32 payload length][u32 crc32 of kind+payload][payload]
//            Rows payload (kind 3, version 2) = u32 count, then per record: u8 flags, then
//            [u64 id] (flag 1; else the previous record's id + 1), [u8 status, i32 attempts
//            (absolute), i32 worker, i32 device, i32 exit_code] (flag 2; else the previous
//            record's), [str node] (flag 4; else the previous record's), f64 start,
//            f64 wall_s, [str error] (flag 8; else ""), [u32 n_results, then per result:
//            str name, u8 type (0 float, 1 int, 2 string, 3 array, 4 bool), f64 | i64 | str |
//            u32 n + n f64 | u8] (flag 16; else none), or with flags 16 and 32 only the
//            values, the names and types being those of the frame's last record with
//            results. The first record of a frame has flags 1, 2 and 4, and no 32: each
//            frame decodes alone.
//            Records payload (kind 1, version 1 journals) = u32 count, then per record: u64
//            id, u8 status, i32 attempts, i32 worker, i32 device, str node, f64 start,
//            f64 wall_s, i32 exit_code, str error, u32 n_results, then the results as above
//            Commit payload = u64 journal offset up to which the HDF5 file holds every record
//            (a Commit may repeat the previous one's offset: records journaled as they
//            arrived, no HDF5 write under way)
//   str    : u32 length + bytes
// A frame cut short, or with a bad magic or crc, ends the journal: it and whatever follows
// were never settled (a kill in the middle of a write).
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "platform/huge_pages.hpp"
#include "store/result_store.hpp"

namespace mpisweep::store {

inline constexpr std::string_view kJournalMagic = "MPSWJRN1";
/// Version 2: records in Rows frames. Version 1 journals (Records frames) are read, and
/// raised to 2 when a resume appends to them (JournalWriter(path, scan)).
inline constexpr std::uint32_t kJournalVersion = 2;
inline constexpr std::uint32_t kOldestJournalVersion = 1;
inline constexpr std::uint32_t kFrameMagic = 0x4a57534dU;  // "MSWJ" little-endian
inline constexpr std::size_t kFrameHeaderBytes = 13;

/// What a frame holds. Records: the kind byte 1 (version 1) or 3 (Rows, version 2).
enum class FrameKind : std::uint8_t { Records = 1, Commit = 2 };
inline constexpr std::uint8_t kRowsKindByte = 3;

/// A journal that cannot be read at all (bad header): the message says why.
class JournalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct JournalHeader {
    std::uint32_t version = kJournalVersion;  ///< as read (encode_header writes kJournalVersion)
    std::uint64_t n_tasks = 0;
    std::uint64_t file_id = 0;   ///< also the root attribute journal_id of the HDF5 file
    bool since_creation = true;  ///< holds every record since the file was created (rebuildable)
    std::int32_t mpi_size = 1;
    std::string created;  ///< root attribute "created" of the file
    std::string spec;     ///< canonical grid JSON
    std::string command;
};

struct FrameInfo {
    FrameKind kind;
    std::uint8_t kind_byte;    ///< as on disk: Records frames are 1 or kRowsKindByte
    std::uint64_t offset;      ///< of the frame's first byte
    std::uint64_t end;         ///< one past its last byte
    std::string_view payload;  ///< into the scanned bytes
};

struct JournalScan {
    JournalHeader header;
    std::vector<FrameInfo> frames;  ///< every valid frame, in order
    std::uint64_t header_end = 0;   ///< where the first frame starts
    std::uint64_t valid_end = 0;    ///< end of the header or of the last valid frame
    bool torn_tail = false;         ///< bytes after valid_end (ignored)
    /// Index into frames of the last Commit, if any.
    std::optional<std::size_t> last_commit;
    /// True when no Records frame follows the last Commit (or there is none at all): no HDF5
    /// write was under way.
    bool settled_in_file() const;
    /// The offset the last Commit names (0 without one): the HDF5 file holds every record of
    /// the frames before it. Records frames after it and before the last Commit were
    /// journaled as they arrived, not yet written to the file.
    std::uint64_t committed_offset() const;
};

std::uint32_t crc32_of(const void* data, std::size_t size, std::uint32_t crc = 0);

/// One Records frame (a Rows frame on disk) built a record at a time, so that the master
/// encodes each result as it arrives and a flush only seals the frame: memcpy into one
/// growing buffer, no per-field string appends. A record that follows the previous one's id
/// from the same worker (a report batch's rows) takes 17 bytes: its flags, start and wall.
class RecordsFrame {
public:
    RecordsFrame() { clear(); }
    /// Appends one record (attempts as given: absolute).
    void add(const RowView& row);
    void add(const TaskRecord& record);
    std::uint32_t count() const { return count_; }
    /// Fills in the count, length and crc; the bytes stay valid until the next add or clear.
    std::string_view seal();
    /// Back to an empty frame (the buffer is kept).
    void clear();

private:
    char* grow(std::size_t bytes) {
        if (data_.size() - size_ < bytes) reserve_more(bytes);
        char* at = data_.data() + size_;
        size_ += bytes;
        return at;
    }
    void reserve_more(std::size_t bytes);
    bool same_fields_as_last(const FieldView* fields, std::size_t n) const;

    // Grows to a flush's records: from 512 KiB in huge pages (platform/huge_pages.hpp). Its
    // size is the capacity; size_ bytes are the frame.
    HugePageVector<char> data_;
    std::size_t size_ = 0;
    std::uint32_t count_ = 0;
    // The previous record's fields, for the flags of the next.
    std::uint64_t last_id_ = 0;
    std::int32_t last_attempts_ = 0, last_worker_ = 0, last_device_ = 0, last_exit_code_ = 0;
    std::uint8_t last_status_ = 0;
    std::string last_node_;
    std::vector<std::string> last_names_;  // of the last record with results in the frame
    std::vector<std::uint8_t> last_types_;
};

/// The complete header (magic, length, crc, payload).
std::string encode_header(const JournalHeader& header);
/// Appends one Records frame holding `records` (attempts as given: absolute) to `out`.
void append_records_frame(const std::vector<const TaskRecord*>& records, std::string& out);
/// Appends one Commit frame to `out`.
void append_commit_frame(std::uint64_t offset, std::string& out);

/// Reads the header and every valid frame of a journal's bytes; the views point into
/// `bytes`. Throws JournalError when the header itself is missing or damaged.
JournalScan scan_journal(std::string_view bytes);
/// Decodes a Records frame (either kind byte), appending to `out`. Throws JournalError on a
/// malformed payload (its crc matched, so this means a bug or a foreign file).
void decode_records(const FrameInfo& frame, std::vector<TaskRecord>& out);
std::uint64_t decode_commit(std::string_view payload);

}  // namespace mpisweep::store
