#include "store/chunk_writer.hpp"

#include <algorithm>
#include <cstring>

#include "store/h5_chunks.hpp"

namespace mpisweep::store {

namespace {

// At most this much buffered per column, as HDF5's chunk cache for these datasets held: the
// rows in flight on 10^4 workers span tens of chunks. Few are allocated unless needed: a
// buffer written since it was last changed is reused before another is allocated.
constexpr std::size_t kBufferBytes = std::size_t{8} << 20;

}  // namespace

ChunkWriter::ChunkWriter(hid_t dataset, hid_t memory_type, std::uint64_t rows)
    : dataset_(dataset), memory_type_(H5_CHECK(H5Tcopy, memory_type)), rows_(rows) {
    chunk_rows_ = std::max<hsize_t>(1, h5::rows_per_chunk(dataset));
    h5::PropList creation(H5_CHECK(H5Dget_create_plist, dataset));
    value_bytes_ = H5_CHECK(H5Tget_size, memory_type);
    chunk_bytes_ = static_cast<std::size_t>(chunk_rows_) * value_bytes_;
    fill_.resize(value_bytes_);
    H5_CHECK(H5Pget_fill_value, creation.get(), memory_type, fill_.data());
    direct_ = h5::raw_chunks_match(dataset, memory_type);
    if (direct_) find_stored_chunks();
}

void ChunkWriter::find_stored_chunks() {
    for (const h5::RowRange& range : h5::allocated_rows(dataset_))  // none in a new file
        for (std::uint64_t c = range.first / chunk_rows_; c * chunk_rows_ < range.first + range.count; ++c)
            stored_.insert(c);
}

void ChunkWriter::put(const unsigned long long* ids, const void* values, std::size_t count) {
    const auto* bytes = static_cast<const std::byte*>(values);
    std::size_t i = 0;
    while (i < count) {
        const std::uint64_t index = ids[i] / chunk_rows_;
        const std::uint64_t end_of_chunk = (index + 1) * chunk_rows_;
        std::size_t j = i + 1;  // the run of consecutive ids in this chunk
        while (j < count && ids[j] == ids[j - 1] + 1 && ids[j] < end_of_chunk) ++j;
        Chunk& target = chunk(index);
        std::memcpy(target.data + (ids[i] - index * chunk_rows_) * value_bytes_, bytes + i * value_bytes_,
                    (j - i) * value_bytes_);
        if (!target.dirty) target.dirty_since = generation_;
        target.dirty = true;
        target.changed_in = generation_;
        i = j;
    }
}

void ChunkWriter::write() {
    for (Chunk& c : chunks_)
        if (c.dirty) write(c);
}

void ChunkWriter::write_filled(std::uint64_t tag) {
    for (Chunk& c : chunks_) {
        if (!c.dirty) continue;
        if (c.dirty_since == generation_) c.tag = tag;
        if (c.changed_in < generation_ || generation_ - c.dirty_since >= kHeldWrites) write(c);
    }
    ++generation_;
}

std::optional<std::uint64_t> ChunkWriter::oldest_held() const {
    std::optional<std::uint64_t> oldest;
    for (const Chunk& c : chunks_)
        if (c.dirty && (!oldest || c.tag < *oldest)) oldest = c.tag;
    return oldest;
}

ChunkWriter::Chunk& ChunkWriter::chunk(std::uint64_t index) {
    if (last_hit_ < chunks_.size() && chunks_[last_hit_].index == index) return chunks_[last_hit_];
    auto found =
        std::find_if(chunks_.begin(), chunks_.end(), [&](const Chunk& c) { return c.index == index; });
    Chunk* c = found != chunks_.end() ? &*found : nullptr;
    if (c == nullptr) {
        c = &free_slot();
        c->index = index;
        load(*c);
    }
    c->last_use = ++uses_;
    last_hit_ = static_cast<std::size_t>(c - chunks_.data());
    return *c;
}

std::size_t ChunkWriter::max_chunks() const {
    const std::uint64_t in_column = std::max<std::uint64_t>(1, (rows_ + chunk_rows_ - 1) / chunk_rows_);
    return static_cast<std::size_t>(
        std::min<std::uint64_t>(std::max<std::size_t>(1, kBufferBytes / chunk_bytes_), in_column));
}

ChunkWriter::Chunk& ChunkWriter::free_slot() {
    auto older = [](const Chunk& a, const Chunk& b) { return a.last_use < b.last_use; };
    Chunk* reusable = nullptr;
    for (Chunk& c : chunks_)
        if (!c.dirty && (reusable == nullptr || older(c, *reusable))) reusable = &c;
    if (reusable != nullptr) return *reusable;
    if (chunks_.size() < max_chunks()) {
        // One region for all: a buffer then costs a fault per huge page, not per page.
        if (buffers_.data() == nullptr) buffers_ = HugePageRegion(max_chunks() * chunk_bytes_);
        chunks_.emplace_back();
        chunks_.back().data = buffers_.data() + (chunks_.size() - 1) * chunk_bytes_;
        return chunks_.back();
    }
    Chunk& oldest = *std::min_element(chunks_.begin(), chunks_.end(), older);
    write(oldest);
    return oldest;
}

void ChunkWriter::load(Chunk& c) const {
    hsize_t offset[1] = {c.index * chunk_rows_};
    if (direct_ && stored_.count(c.index) > 0) {
        std::uint32_t filters = 0;
        H5_CHECK(H5Dread_chunk, dataset_, H5P_DEFAULT, offset, &filters, c.data);
        return;
    }
    fill(c.data);
    if (direct_) return;  // never written: every row holds the fill value
    const RowsOfChunk rows = rows_of(c);
    H5_CHECK(H5Dread, dataset_, memory_type_.get(), rows.memory.get(), rows.file.get(), H5P_DEFAULT, c.data);
}

ChunkWriter::RowsOfChunk ChunkWriter::rows_of(const Chunk& c) const {
    const hsize_t first[1] = {c.index * chunk_rows_};
    const hsize_t count[1] = {std::min<hsize_t>(chunk_rows_, rows_ - first[0])};  // the last is short
    RowsOfChunk rows{h5::Dataspace(H5_CHECK(H5Dget_space, dataset_)),
                     h5::Dataspace(H5_CHECK(H5Screate_simple, 1, count, nullptr))};
    H5_CHECK(H5Sselect_hyperslab, rows.file.get(), H5S_SELECT_SET, first, nullptr, count, nullptr);
    return rows;
}

void ChunkWriter::fill(std::byte* data) const {
    std::memcpy(data, fill_.data(), value_bytes_);
    for (std::size_t filled = value_bytes_; filled < chunk_bytes_; filled *= 2)
        std::memcpy(data + filled, data, std::min(filled, chunk_bytes_ - filled));
}

bool ChunkWriter::holds_only_fill(const std::byte* data) const {
    // Each value equal to the one before it (one memcmp over the overlap), the first the fill.
    return std::memcmp(data, fill_.data(), value_bytes_) == 0 &&
           std::memcmp(data, data + value_bytes_, chunk_bytes_ - value_bytes_) == 0;
}

void ChunkWriter::write(Chunk& c) {
    hsize_t offset[1] = {c.index * chunk_rows_};
    if (direct_ && stored_.count(c.index) == 0 && holds_only_fill(c.data)) {
        // A chunk the file never held reads as the fill value: no need to write it (a sweep
        // on CPUs whose tasks all exit 0 leaves /tasks/device and /tasks/exit_code unwritten).
        c.dirty = false;
        return;
    }
    if (direct_) {
        H5_CHECK(H5Dwrite_chunk, dataset_, H5P_DEFAULT, 0, offset, chunk_bytes_, c.data);
        stored_.insert(c.index);
    } else {
        const RowsOfChunk rows = rows_of(c);
        H5_CHECK(H5Dwrite, dataset_, memory_type_.get(), rows.memory.get(), rows.file.get(), H5P_DEFAULT,
                 c.data);
    }
    c.dirty = false;
}

}  // namespace mpisweep::store
