#pragma once
// One fixed-size /tasks column written a whole chunk at a time from buffers of its own, with
// H5Dwrite_chunk: HDF5 then neither allocates, fills nor caches a chunk per write, which was
// most of what the master spent on the file (bench/README.md, "Session 12").
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

#include "platform/huge_pages.hpp"
#include "store/h5_check.hpp"

namespace mpisweep::store {

class ChunkWriter {
public:
    ChunkWriter() = default;
    /// For `dataset` (1-D, chunked, `memory_type` in memory). A column whose chunks are
    /// filtered or stored in another byte layout is still written through these buffers, by
    /// H5Dwrite of whole chunks.
    ChunkWriter(hid_t dataset, hid_t memory_type, std::uint64_t rows);

    /// Puts `count` values for the rows `ids` (any order; a later value for a row wins) into
    /// the chunk buffers. A buffer needed when all are taken by rows not yet written is
    /// written first.
    void put(const unsigned long long* ids, const void* values, std::size_t count);
    /// Writes every chunk changed since it was last written.
    void write();
    /// Writes the changed chunks that are done filling: not changed since the last call, or
    /// held through kHeldWrites calls already. The others stay in memory, so a chunk whose
    /// rows settle over several flushes is written about once rather than at each (the
    /// settled rows of a flush span several chunks). `tag` names the changes put since the
    /// last call (the store: the journal offset their records start at; tags only grow).
    void write_filled(std::uint64_t tag);
    /// The tag of the oldest change held in memory, if any.
    std::optional<std::uint64_t> oldest_held() const;
    /// How many write_filled() calls a changed chunk may be held through.
    static constexpr std::uint64_t kHeldWrites = 2;
    /// Whether chunks go to the file as they are (H5Dwrite_chunk), not through H5Dwrite.
    bool raw_chunks() const { return direct_; }

private:
    struct Chunk {
        std::uint64_t index = 0;
        std::uint64_t last_use = 0;
        bool dirty = false;
        std::uint64_t dirty_since = 0;  // generation of its first change not written
        std::uint64_t changed_in = 0;   // generation of its last change
        std::uint64_t tag = 0;          // write_filled()'s tag of its first change not written
        std::byte* data = nullptr;      // in buffers_
    };
    Chunk& chunk(std::uint64_t index);
    Chunk& free_slot();
    // How many chunk buffers it may hold: kBufferBytes, at most the column.
    std::size_t max_chunks() const;
    void load(Chunk& chunk) const;
    // The rows of a chunk, for H5Dread and H5Dwrite when chunks cannot go raw.
    struct RowsOfChunk {
        h5::Dataspace file, memory;
    };
    RowsOfChunk rows_of(const Chunk& chunk) const;
    // Every row of a chunk buffer set to the fill value.
    void fill(std::byte* data) const;
    // Whether every row of a chunk buffer holds the fill value.
    bool holds_only_fill(const std::byte* data) const;
    // The chunks the file holds when it is opened (HDF5 1.10 has no cheap look-up of one
    // chunk: H5Dget_chunk_info_by_coord walks the index), then each one written.
    void find_stored_chunks();
    void write(Chunk& chunk);

    hid_t dataset_ = H5I_INVALID_HID;  // owned by the caller
    h5::Datatype memory_type_;
    std::uint64_t rows_ = 0;
    std::uint64_t chunk_rows_ = 1;
    std::size_t value_bytes_ = 1;
    std::size_t chunk_bytes_ = 1;
    bool direct_ = false;          // raw chunk bytes are the memory layout, unfiltered
    std::vector<std::byte> fill_;  // one value
    std::vector<Chunk> chunks_;
    HugePageRegion buffers_;                    // every chunk buffer, allocated at the first
    std::unordered_set<std::uint64_t> stored_;  // with direct_: the chunks the file holds
    std::size_t last_hit_ = 0;
    std::uint64_t uses_ = 0;
    std::uint64_t generation_ = 0;  // write_filled() calls so far
};

}  // namespace mpisweep::store
