#include "store/result_columns.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "store/h5_chunks.hpp"
#include "store/h5_types.hpp"
#include "store/row_selection.hpp"

namespace mpisweep::store {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* missing_value_note(ColumnType type) {
    switch (type.kind) {
        case ColumnType::Kind::Float:
        case ColumnType::Kind::Array:
            return "NaN";
        case ColumnType::Kind::Int:
            return "0 (use /tasks/status to tell a missing row from a 0)";
        case ColumnType::Kind::String:
            return "empty string";
        case ColumnType::Kind::List:
            return "empty array";
        case ColumnType::Kind::Bool:
            return "false (use /tasks/status to tell a missing row from false)";
    }
    return "";
}

// hvl_t entries pointing into the staged doubles of a List column.
std::vector<hvl_t> list_entries(const StagedValues& s, std::size_t first, std::size_t last) {
    std::vector<hvl_t> entries(last - first);
    for (std::size_t e = first; e < last; ++e) {
        const std::size_t begin = s.begin_of(e);
        entries[e - first].len = s.ends[e] - begin;
        entries[e - first].p = const_cast<double*>(s.doubles.data() + begin);
    }
    return entries;
}

bool is_bool_enum(hid_t type) {
    if (H5_CHECK(H5Tget_class, type) != H5T_ENUM || H5Tget_size(type) != 1) return false;
    if (H5_CHECK(H5Tget_nmembers, type) != 2) return false;
    for (unsigned i = 0; i < 2; ++i) {
        char* name = H5Tget_member_name(type, i);
        const std::string text = name ? name : "";
        H5free_memory(name);
        if (text != (i == 0 ? "FALSE" : "TRUE")) return false;
    }
    return true;
}

}  // namespace

std::optional<ColumnType> result_column_type(hid_t dataset, std::uint64_t n_tasks) {
    h5::Datatype type(H5_CHECK(H5Dget_type, dataset));
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset));
    const int rank = H5_CHECK(H5Sget_simple_extent_ndims, space.get());
    hsize_t dims[2] = {0, 0};
    if (rank != 1 && rank != 2) return std::nullopt;
    H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims, nullptr);
    if (dims[0] != n_tasks) return std::nullopt;
    const H5T_class_t type_class = H5_CHECK(H5Tget_class, type.get());
    if (rank == 2) {
        if (type_class == H5T_FLOAT && dims[1] > 0) return ColumnType{ColumnType::Kind::Array, dims[1]};
        return std::nullopt;
    }
    switch (type_class) {
        case H5T_FLOAT:
            return ColumnType{ColumnType::Kind::Float, 0};
        case H5T_INTEGER:
            return ColumnType{ColumnType::Kind::Int, 0};
        case H5T_STRING:
            return ColumnType{ColumnType::Kind::String, 0};
        case H5T_ENUM:
            if (is_bool_enum(type.get())) return ColumnType{ColumnType::Kind::Bool, 0};
            return std::nullopt;
        case H5T_VLEN: {
            h5::Datatype base(H5_CHECK(H5Tget_super, type.get()));
            if (H5_CHECK(H5Tget_class, base.get()) == H5T_FLOAT) return ColumnType{ColumnType::Kind::List, 0};
            return std::nullopt;
        }
        default:
            return std::nullopt;
    }
}

h5::Dataset create_result_dataset(hid_t group, const ResultColumn& column, std::uint64_t n) {
    const char* name = column.name.c_str();
    h5::Dataset dataset;
    switch (column.type.kind) {
        case ColumnType::Kind::Float:
            dataset = h5::create_rows_dataset(group, name, H5T_IEEE_F64LE, n, 0, 8, H5T_NATIVE_DOUBLE, &kNaN);
            break;
        case ColumnType::Kind::Int: {
            const std::int64_t zero = 0;
            dataset = h5::create_rows_dataset(group, name, H5T_STD_I64LE, n, 0, 8, H5T_NATIVE_INT64, &zero);
            break;
        }
        case ColumnType::Kind::String: {
            h5::Datatype text = h5::vlen_utf8_string();
            dataset = h5::create_rows_dataset(group, name, text.get(), n, 0, 16, text.get(), nullptr);
            break;
        }
        case ColumnType::Kind::Array:
            dataset = h5::create_rows_dataset(group, name, H5T_IEEE_F64LE, n, column.type.width,
                                              8 * column.type.width, H5T_NATIVE_DOUBLE, &kNaN);
            break;
        case ColumnType::Kind::List: {
            h5::Datatype list = h5::vlen_float64();
            dataset = h5::create_rows_dataset(group, name, list.get(), n, 0, 16, list.get(), nullptr);
            break;
        }
        case ColumnType::Kind::Bool: {
            h5::Datatype flag = h5::bool_enum();
            const std::int8_t no = 0;
            dataset = h5::create_rows_dataset(group, name, flag.get(), n, 0, 1, flag.get(), &no);
            break;
        }
    }
    h5::write_string_attribute(dataset.get(), "missing", missing_value_note(column.type));
    return dataset;
}

void write_result_entries(hid_t dataset, const ResultColumn& column, std::size_t first, std::size_t last,
                          const RowId* row_ids, hid_t file_space, hid_t memory_space, hid_t transfer) {
    const StagedValues& s = column.staged;
    h5::Dataspace own_file_space, own_memory_space;
    if (file_space == H5I_INVALID_HID) {
        std::vector<hsize_t> rows(last - first);
        for (std::size_t e = first; e < last; ++e) rows[e - first] = row_ids[s.positions[e]];
        own_file_space = h5::Dataspace(H5_CHECK(H5Dget_space, dataset));
        own_memory_space = h5::select_rows(own_file_space.get(), rows, column.type.width);
        file_space = own_file_space.get();
        memory_space = own_memory_space.get();
    }
    auto write = [&](hid_t memory_type, const void* data) {
        H5_CHECK(H5Dwrite, dataset, memory_type, memory_space, file_space, transfer, data);
    };
    switch (column.type.kind) {
        case ColumnType::Kind::Float:
            return write(H5T_NATIVE_DOUBLE, s.doubles.data() + first);
        case ColumnType::Kind::Array:
            return write(H5T_NATIVE_DOUBLE, s.doubles.data() + first * column.type.width);
        case ColumnType::Kind::Int:
            return write(H5T_NATIVE_INT64, s.ints.data() + first);
        case ColumnType::Kind::Bool: {
            h5::Datatype flag = h5::bool_enum();
            return write(flag.get(), s.bools.data() + first);
        }
        case ColumnType::Kind::String: {
            std::vector<const char*> texts;
            for (std::size_t e = first; e < last; ++e) texts.push_back(s.strings[e].c_str());
            h5::Datatype text = h5::vlen_utf8_string();
            return write(text.get(), texts.data());
        }
        case ColumnType::Kind::List: {
            const std::vector<hvl_t> entries = list_entries(s, first, last);
            h5::Datatype list = h5::vlen_float64();
            return write(list.get(), entries.data());
        }
    }
}

h5::Dataset rewrite_as_list(hid_t group, const std::string& name, h5::Dataset old, std::uint64_t n_tasks) {
    ResultColumn column{name, ColumnType{ColumnType::Kind::List, 0}, {}, false};
    h5::Datatype list = h5::vlen_float64();
    const hsize_t width = [&] {
        h5::Dataspace space(H5_CHECK(H5Dget_space, old.get()));
        hsize_t dims[2] = {0, 0};
        H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims, nullptr);
        return dims[1];
    }();
    // The new dataset is made without a name, filled, then linked in the old one's place.
    h5::PropList creation = h5::rows_dataset_creation(n_tasks, 0, 16, list.get(), nullptr);
    hsize_t dims[1] = {n_tasks};
    h5::Dataspace space(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
    h5::Dataset fresh(H5_CHECK(H5Dcreate_anon, group, list.get(), space.get(), creation.get(), H5P_DEFAULT));
    h5::Dataspace old_space(H5_CHECK(H5Dget_space, old.get()));
    const h5::PropList transfer = h5::converting_transfer();  // one H5Dwrite of lists per block
    for (const h5::RowRange& range : h5::allocated_rows(old.get())) {
        constexpr hsize_t kBlock = 65536;
        for (hsize_t first = range.first; first < range.first + range.count; first += kBlock) {
            const hsize_t rows = std::min(kBlock, range.first + range.count - first);
            std::vector<double> values(rows * width);
            hsize_t start[2] = {first, 0}, count[2] = {rows, width};
            H5_CHECK(H5Sselect_hyperslab, old_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
            h5::Dataspace memory(H5_CHECK(H5Screate_simple, 2, count, nullptr));
            H5_CHECK(H5Dread, old.get(), H5T_NATIVE_DOUBLE, memory.get(), old_space.get(), H5P_DEFAULT,
                     values.data());
            std::vector<hvl_t> entries(rows);
            for (hsize_t r = 0; r < rows; ++r) {
                double* row = values.data() + r * width;
                const bool missing = std::all_of(row, row + width, [](double d) { return std::isnan(d); });
                entries[r].len = missing ? 0 : width;
                entries[r].p = row;
            }
            H5_CHECK(H5Sselect_hyperslab, space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
            h5::Dataspace list_memory(H5_CHECK(H5Screate_simple, 1, count, nullptr));
            H5_CHECK(H5Dwrite, fresh.get(), list.get(), list_memory.get(), space.get(), transfer.get(),
                     entries.data());
        }
    }
    old.reset();
    H5_CHECK(H5Ldelete, group, name.c_str(), H5P_DEFAULT);
    H5_CHECK(H5Olink, fresh.get(), group, name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    h5::write_string_attribute(fresh.get(), "missing", missing_value_note(column.type));
    return fresh;
}

}  // namespace mpisweep::store
