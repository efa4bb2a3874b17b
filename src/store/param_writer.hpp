#pragma once
// /params rows written a chunk at a time, computed from the grid: before the first row of
// /tasks in that chunk is written, so the file holds the params of every settled row, and
// nothing for the chunks no task of which settled (docs/hdf5-layout.md, "/params").
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "mpisweep/grid.hpp"
#include "store/h5_check.hpp"

namespace mpisweep::store {

/// Rows per chunk of every /params dataset of a grid of `n` tasks.
std::uint64_t param_chunk_rows(std::uint64_t n);

/// The in-memory type of an axis's values, also its type in the file.
h5::Datatype param_type_of(ValueType type);

/// Writes the /params chunks that rows need. Rewriting a chunk is harmless (the values come
/// from the grid), so a writer on a resumed file starts with none written.
class ParamWriter {
public:
    ParamWriter();
    ParamWriter(hid_t file, const Grid& grid);
    ~ParamWriter();
    ParamWriter(ParamWriter&&) noexcept;
    ParamWriter& operator=(ParamWriter&&) noexcept;

    /// Writes every chunk that holds one of `rows` (ascending) and is not written yet.
    void write_chunks_of(const unsigned long long* rows, std::size_t count);
    /// Writes every chunk (the whole grid).
    void write_all();

private:
    struct Column;
    void write_chunk(std::uint64_t chunk);
    Grid grid_;
    std::uint64_t n_ = 0;
    std::uint64_t chunk_rows_ = 1;
    std::unordered_set<std::uint64_t> written_;
    std::uint64_t last_written_ = ~std::uint64_t{0};
    std::vector<std::unique_ptr<Column>> columns_;
    h5::PropList transfer_;  // h5::converting_transfer(): string axes convert
};

}  // namespace mpisweep::store
