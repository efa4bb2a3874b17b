#include "store/h5_types.hpp"

#include <algorithm>

namespace mpisweep::h5 {

Datatype vlen_utf8_string() {
    Datatype type(H5_CHECK(H5Tcopy, H5T_C_S1));
    H5_CHECK(H5Tset_size, type.get(), H5T_VARIABLE);
    H5_CHECK(H5Tset_cset, type.get(), H5T_CSET_UTF8);
    return type;
}

Datatype vlen_float64() {
    return Datatype(H5_CHECK(H5Tvlen_create, H5T_NATIVE_DOUBLE));
}

namespace {

Datatype int8_enum(std::initializer_list<std::pair<const char*, std::int8_t>> members) {
    Datatype type(H5_CHECK(H5Tenum_create, H5T_NATIVE_INT8));
    for (const auto& [name, value] : members) H5_CHECK(H5Tenum_insert, type.get(), name, &value);
    return type;
}

Dataspace scalar_space() {
    return Dataspace(H5_CHECK(H5Screate, H5S_SCALAR));
}

// Replaces any attribute of that name.
void write_attribute(hid_t object, const char* name, hid_t file_type, hid_t memory_type, const void* value) {
    if (has_attribute(object, name)) H5_CHECK(H5Adelete, object, name);
    Dataspace space = scalar_space();
    Attribute attribute(H5_CHECK(H5Acreate2, object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    H5_CHECK(H5Awrite, attribute.get(), memory_type, value);
}

// Opens attribute `name` of `object` and checks its class; a wrong class is a file made
// by something else, reported as such.
Attribute open_attribute(hid_t object, const char* name, H5T_class_t expected, const char* what) {
    Attribute attribute(H5_CHECK(H5Aopen, object, name, H5P_DEFAULT));
    Datatype stored(H5_CHECK(H5Aget_type, attribute.get()));
    if (H5_CHECK(H5Tget_class, stored.get()) != expected)
        throw std::runtime_error(std::string("attribute '") + name + "' is not " + what);
    return attribute;
}

}  // namespace

Datatype bool_enum() {
    return int8_enum({{"FALSE", 0}, {"TRUE", 1}});
}

Datatype status_enum() {
    return int8_enum({{"pending", 0}, {"done", 1}, {"failed", 2}});
}

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
    Datatype type = vlen_utf8_string();
    const char* text = value.c_str();
    write_attribute(object, name, type.get(), type.get(), &text);
}

void write_int32_attribute(hid_t object, const char* name, std::int32_t value) {
    write_attribute(object, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

void write_uint64_attribute(hid_t object, const char* name, std::uint64_t value) {
    write_attribute(object, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

bool has_attribute(hid_t object, const char* name) {
    return H5_CHECK(H5Aexists, object, name) > 0;
}

std::string read_string_attribute(hid_t object, const char* name) {
    Attribute attribute = open_attribute(object, name, H5T_STRING, "a string");
    Datatype stored(H5_CHECK(H5Aget_type, attribute.get()));
    if (H5_CHECK(H5Tis_variable_str, stored.get()) > 0) {
        Datatype memory = vlen_utf8_string();
        char* text = nullptr;
        H5_CHECK(H5Aread, attribute.get(), memory.get(), &text);
        std::string value = text ? text : "";
        H5free_memory(text);
        return value;
    }
    std::size_t size = H5Tget_size(stored.get());
    std::string value(size, '\0');
    H5_CHECK(H5Aread, attribute.get(), stored.get(), value.data());
    value.resize(std::min(value.find('\0'), value.size()));
    return value;
}

std::int64_t read_int64_attribute(hid_t object, const char* name) {
    Attribute attribute = open_attribute(object, name, H5T_INTEGER, "an integer");
    std::int64_t value = 0;
    H5_CHECK(H5Aread, attribute.get(), H5T_NATIVE_INT64, &value);
    return value;
}

std::uint64_t read_uint64_attribute(hid_t object, const char* name) {
    Attribute attribute = open_attribute(object, name, H5T_INTEGER, "an integer");
    std::uint64_t value = 0;
    H5_CHECK(H5Aread, attribute.get(), H5T_NATIVE_UINT64, &value);
    return value;
}

bool link_exists(hid_t location, const char* path) {
    return H5_CHECK(H5Lexists, location, path, H5P_DEFAULT) > 0;
}

Group create_ordered_group(hid_t parent, const char* name) {
    PropList creation(H5_CHECK(H5Pcreate, H5P_GROUP_CREATE));
    H5_CHECK(H5Pset_link_creation_order, creation.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    return Group(H5_CHECK(H5Gcreate2, parent, name, H5P_DEFAULT, creation.get(), H5P_DEFAULT));
}

PropList writer_file_access() {
    PropList access(H5_CHECK(H5Pcreate, H5P_FILE_ACCESS));
    H5_CHECK(H5Pset_file_locking, access.get(), true, /*ignore_when_disabled=*/true);
    return access;
}

PropList written_dataset_access() {
    PropList access(H5_CHECK(H5Pcreate, H5P_DATASET_ACCESS));
    // 8 MiB and a prime number of slots; w0 = 1 evicts fully written chunks first.
    H5_CHECK(H5Pset_chunk_cache, access.get(), 1009, std::size_t{8} << 20, 1.0);
    return access;
}

PropList converting_transfer() {
    PropList transfer(H5_CHECK(H5Pcreate, H5P_DATASET_XFER));
    // 64 KiB: 4,096 strings a pass, and buffers malloc takes from memory it already has.
    H5_CHECK(H5Pset_buffer, transfer.get(), std::size_t{64} << 10, nullptr, nullptr);
    return transfer;
}

hsize_t chunk_rows(hsize_t rows, std::size_t row_bytes) {
    constexpr hsize_t max_rows = 65536;
    constexpr std::size_t target_bytes = std::size_t{1} << 20;
    hsize_t by_bytes = std::max<hsize_t>(1, target_bytes / std::max<std::size_t>(1, row_bytes));
    return std::max<hsize_t>(1, std::min({rows, max_rows, by_bytes}));
}

PropList rows_dataset_creation(hsize_t rows, hsize_t columns, std::size_t row_bytes, hid_t fill_type,
                               const void* fill) {
    PropList creation(H5_CHECK(H5Pcreate, H5P_DATASET_CREATE));
    hsize_t chunk[2] = {chunk_rows(rows, row_bytes), columns};
    H5_CHECK(H5Pset_chunk, creation.get(), columns > 0 ? 2 : 1, chunk);
    if (fill) H5_CHECK(H5Pset_fill_value, creation.get(), fill_type, fill);
    // Chunks are allocated when first written (the default for chunked data, stated here
    // because the scaling of creation depends on it).
    H5_CHECK(H5Pset_alloc_time, creation.get(), H5D_ALLOC_TIME_INCR);
    return creation;
}

Dataset create_rows_dataset(hid_t location, const char* path, hid_t file_type, hsize_t rows, hsize_t columns,
                            std::size_t row_bytes, hid_t fill_type, const void* fill) {
    hsize_t dims[2] = {rows, columns};
    Dataspace space(H5_CHECK(H5Screate_simple, columns > 0 ? 2 : 1, dims, nullptr));
    PropList creation = rows_dataset_creation(rows, columns, row_bytes, fill_type, fill);
    PropList access = written_dataset_access();
    return Dataset(H5_CHECK(H5Dcreate2, location, path, file_type, space.get(), H5P_DEFAULT, creation.get(),
                            access.get()));
}

}  // namespace mpisweep::h5
