#include "store/param_writer.hpp"

#include <algorithm>

#include "platform/huge_pages.hpp"
#include "store/h5_chunks.hpp"
#include "store/h5_types.hpp"

namespace mpisweep::store {

namespace {

// Axes up to this size keep their values in a table: the fastest-varying axis is then
// copied a run at a time instead of decoded a row at a time.
constexpr std::uint64_t kParamTableMax = 65536;

// One /params/<axis> dataset and its buffer for a block of rows. Task ids are mixed-radix
// numbers (grid.hpp): the axis holds value (id / stride) % radix, so a block is runs of
// `stride` equal values, filled by run.
struct ParamColumn {
    const Axis* axis;
    std::uint64_t stride = 1;
    std::uint64_t radix = 1;
    h5::Datatype type;  // file and memory type (native on this machine)
    h5::Dataset dataset;
    bool raw = false;  // numbers in unfiltered chunks: whole chunks go as they are
    HugePageVector<std::int64_t> ints;
    HugePageVector<double> doubles;
    std::vector<std::int8_t> bools;
    std::vector<std::string> strings;
    std::vector<const char*> pointers;
    // The axis's values in the buffer's element type (numeric axes up to kParamTableMax).
    std::vector<std::int64_t> int_table;
    std::vector<double> double_table;
    std::vector<std::int8_t> bool_table;
    // An int range too long for a table: value i is start + i * step (in uint64, as Axis does).
    bool int_range = false;
    std::uint64_t range_start = 0, range_step = 0;

    void resize(std::size_t rows) {
        switch (axis->type()) {
            case ValueType::Int:
                ints.resize(rows);
                break;
            case ValueType::Float:
                doubles.resize(rows);
                break;
            case ValueType::Bool:
                bools.resize(rows);
                break;
            case ValueType::String:
                strings.resize(rows);
                pointers.resize(rows);
                break;
        }
    }

    const void* data() {
        switch (axis->type()) {
            case ValueType::Int:
                return ints.data();
            case ValueType::Float:
                return doubles.data();
            case ValueType::Bool:
                return bools.data();
            case ValueType::String:
                for (std::size_t i = 0; i < strings.size(); ++i) pointers[i] = strings[i].c_str();
                return pointers.data();
        }
        return nullptr;
    }

    static double as_double(const Value& value) {
        return value.index() == 0 ? static_cast<double>(std::get<std::int64_t>(value))
                                  : std::get<double>(value);
    }

    void make_table() {
        if (axis->size() > kParamTableMax) {
            if (axis->kind() == Axis::Kind::Range && axis->type() == ValueType::Int) {
                int_range = true;
                range_start = static_cast<std::uint64_t>(std::get<std::int64_t>(axis->at(0)));
                range_step = static_cast<std::uint64_t>(std::get<std::int64_t>(axis->at(1))) - range_start;
            }
            return;
        }
        for (std::uint64_t i = 0; i < axis->size(); ++i) {
            const Value value = axis->at(i);
            switch (axis->type()) {
                case ValueType::Int:
                    int_table.push_back(std::get<std::int64_t>(value));
                    break;
                case ValueType::Float:
                    double_table.push_back(as_double(value));
                    break;
                case ValueType::Bool:
                    bool_table.push_back(std::get<bool>(value) ? 1 : 0);
                    break;
                case ValueType::String:
                    return;
            }
        }
    }

    // Rows [row, row + n) of the buffer all hold value `index` of the axis.
    void fill(std::size_t row, std::size_t n, std::uint64_t index) {
        switch (axis->type()) {
            case ValueType::Int:
                std::fill_n(ints.begin() + static_cast<std::ptrdiff_t>(row), n,
                            int_table.empty() ? std::get<std::int64_t>(axis->at(index)) : int_table[index]);
                break;
            case ValueType::Float:
                std::fill_n(doubles.begin() + static_cast<std::ptrdiff_t>(row), n,
                            double_table.empty() ? as_double(axis->at(index)) : double_table[index]);
                break;
            case ValueType::Bool:
                std::fill_n(bools.begin() + static_cast<std::ptrdiff_t>(row), n,
                            bool_table.empty() ? std::int8_t{std::get<bool>(axis->at(index)) ? std::int8_t{1}
                                                                                             : std::int8_t{0}}
                                               : bool_table[index]);
                break;
            case ValueType::String:
                std::fill_n(strings.begin() + static_cast<std::ptrdiff_t>(row), n,
                            std::get<std::string>(axis->at(index)));
                break;
        }
    }

    // Rows [row, row + n) hold values index, index + 1, ... of a tabled axis of stride 1.
    bool copy_from_table(std::size_t row, std::size_t n, std::uint64_t index) {
        if (int_range) {
            std::uint64_t value = range_start + index * range_step;
            for (std::size_t k = 0; k < n; ++k, value += range_step)
                ints[row + k] = static_cast<std::int64_t>(value);
            return true;
        }
        auto copy = [&](const auto& table, auto& out) {
            if (table.empty()) return false;
            std::copy_n(table.begin() + static_cast<std::ptrdiff_t>(index), n,
                        out.begin() + static_cast<std::ptrdiff_t>(row));
            return true;
        };
        switch (axis->type()) {
            case ValueType::Int:
                return copy(int_table, ints);
            case ValueType::Float:
                return copy(double_table, doubles);
            case ValueType::Bool:
                return copy(bool_table, bools);
            case ValueType::String:
                return false;
        }
        return false;
    }

    // Rows first .. first + rows - 1 of the grid into the buffer (sized for them).
    void fill_block(std::uint64_t first, std::size_t rows) {
        std::uint64_t index = first / stride % radix;
        std::uint64_t left = stride - first % stride;  // rows until the value changes
        std::size_t row = 0;
        while (row < rows) {
            std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, rows - row));
            if (stride == 1) {
                n = static_cast<std::size_t>(std::min<std::uint64_t>(radix - index, rows - row));
                if (!copy_from_table(row, n, index)) {
                    n = 1;
                    fill(row, 1, index);
                }
                index += n;
            } else {
                fill(row, n, index);
                ++index;
            }
            row += n;
            left = stride;
            if (index == radix) index = 0;
        }
    }
};

}  // namespace

std::uint64_t param_chunk_rows(std::uint64_t n) {
    return std::max<std::uint64_t>(1, std::min<std::uint64_t>(n, 65536));
}

h5::Datatype param_type_of(ValueType type) {
    switch (type) {
        case ValueType::Int:
            return h5::Datatype(H5_CHECK(H5Tcopy, H5T_NATIVE_INT64));
        case ValueType::Float:
            return h5::Datatype(H5_CHECK(H5Tcopy, H5T_NATIVE_DOUBLE));
        case ValueType::String:
            return h5::vlen_utf8_string();
        case ValueType::Bool:
            return h5::bool_enum();
    }
    return {};
}

struct ParamWriter::Column {
    ParamColumn data;
};

ParamWriter::ParamWriter() = default;
ParamWriter::~ParamWriter() = default;
ParamWriter::ParamWriter(ParamWriter&&) noexcept = default;
ParamWriter& ParamWriter::operator=(ParamWriter&&) noexcept = default;

ParamWriter::ParamWriter(hid_t file, const Grid& grid)
    : grid_(grid),
      n_(grid.size()),
      chunk_rows_(param_chunk_rows(grid.size())),
      transfer_(h5::converting_transfer()) {
    // The digits of a task id (grid.hpp): one per axis, except that a zip group is one digit
    // at its first axis; the last digit varies fastest.
    const std::vector<Axis>& axes = grid_.axes();
    std::vector<std::size_t> digit_of(axes.size(), axes.size());
    std::vector<std::uint64_t> radix;
    const auto groups = grid_.zip_groups();
    for (std::size_t i = 0; i < axes.size(); ++i) {
        if (digit_of[i] != axes.size()) continue;  // a later member of a zip group
        digit_of[i] = radix.size();
        for (const auto& group : groups)
            if (group.front() == i)
                for (std::size_t k : group) digit_of[k] = radix.size();
        radix.push_back(axes[i].size());
    }
    std::vector<std::uint64_t> stride(radix.size(), 1);
    for (std::size_t d = radix.size(); d-- > 1;) stride[d - 1] = stride[d] * radix[d];
    for (std::size_t i = 0; i < axes.size(); ++i) {
        const Axis& axis = axes[i];
        auto column = std::make_unique<Column>();
        ParamColumn& c = column->data;
        c.axis = &axis;
        c.stride = stride[digit_of[i]];
        c.radix = radix[digit_of[i]];
        c.make_table();
        c.type = param_type_of(axis.type());
        const std::string path = "params/" + axis.name();
        c.dataset = h5::Dataset(H5_CHECK(H5Dopen2, file, path.c_str(), H5P_DEFAULT));
        c.raw = axis.type() != ValueType::String && h5::raw_chunks_match(c.dataset.get(), c.type.get());
        columns_.push_back(std::move(column));
    }
}

void ParamWriter::write_chunks_of(const unsigned long long* rows, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t chunk = rows[i] / chunk_rows_;
        if (chunk == last_written_) continue;
        if (written_.insert(chunk).second) write_chunk(chunk);
        last_written_ = chunk;
    }
}

void ParamWriter::write_all() {
    for (std::uint64_t chunk = 0; chunk * chunk_rows_ < n_; ++chunk)
        if (written_.insert(chunk).second) write_chunk(chunk);
}

void ParamWriter::write_chunk(std::uint64_t chunk) {
    const std::uint64_t first = chunk * chunk_rows_;
    const std::uint64_t rows = std::min(chunk_rows_, n_ - first);
    bool any_converted = false;
    for (auto& column : columns_) {
        ParamColumn& c = column->data;
        c.resize(static_cast<std::size_t>(rows));
        c.fill_block(first, static_cast<std::size_t>(rows));
        if (!c.raw) {
            any_converted = true;
            continue;
        }
        // A raw chunk goes whole: the grid's last one is short, its rows past the end zero.
        c.resize(static_cast<std::size_t>(chunk_rows_));
        hsize_t offset[1] = {first};
        const std::size_t bytes = static_cast<std::size_t>(chunk_rows_) * H5_CHECK(H5Tget_size, c.type.get());
        H5_CHECK(H5Dwrite_chunk, c.dataset.get(), H5P_DEFAULT, 0, offset, bytes, c.data());
    }
    if (!any_converted) return;
    hsize_t dims[1] = {n_};
    h5::Dataspace file_space(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
    hsize_t start[1] = {first};
    hsize_t count[1] = {rows};
    H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, count, nullptr));
    for (auto& column : columns_) {
        ParamColumn& c = column->data;
        if (c.raw) continue;
        H5_CHECK(H5Dwrite, c.dataset.get(), c.type.get(), memory_space.get(), file_space.get(),
                 transfer_.get(), c.data());
    }
}

}  // namespace mpisweep::store
