#pragma once
// The HDF5 datatypes of the results file and small helpers for attributes and datasets
// (all through H5_CHECK).
#include <cstdint>
#include <string>
#include <vector>

#include "store/h5_check.hpp"

namespace mpisweep::h5 {

/// Variable-length UTF-8 string (h5py reads it as str).
Datatype vlen_utf8_string();
/// Variable-length float64 (h5py reads a row as a float64 array of its own length).
Datatype vlen_float64();
/// The h5py bool: an int8 enum {FALSE = 0, TRUE = 1}; h5py reads it as numpy bool.
Datatype bool_enum();
/// /tasks/status: an int8 enum {pending = 0, done = 1, failed = 2}.
Datatype status_enum();

void write_string_attribute(hid_t object, const char* name, const std::string& value);
void write_int32_attribute(hid_t object, const char* name, std::int32_t value);
void write_uint64_attribute(hid_t object, const char* name, std::uint64_t value);

bool has_attribute(hid_t object, const char* name);
/// Reads a string attribute, fixed-length or variable-length.
std::string read_string_attribute(hid_t object, const char* name);
/// Reads an integer attribute of any integer type as int64 (HDF5 converts).
std::int64_t read_int64_attribute(hid_t object, const char* name);
std::uint64_t read_uint64_attribute(hid_t object, const char* name);

bool link_exists(hid_t location, const char* path);
/// A group whose links iterate in creation order (h5py then lists them in that order).
Group create_ordered_group(hid_t parent, const char* name);

/// File access for the writer: HDF5's file lock where the filesystem has one, and no failure
/// where it has none (Lustre without flock): the owner record (file_owner.hpp) is the rule.
PropList writer_file_access();

/// Chunk-cache settings for datasets written in scattered batches: room for several
/// chunks, so a batch that spans a few chunks does not re-read them.
PropList written_dataset_access();

/// Transfer settings for writes that convert (variable-length strings): HDF5 otherwise
/// allocates and zeroes a 1 MiB background buffer per H5Dwrite, 256 fresh pages each time.
PropList converting_transfer();

/// Layout of a dataset of `rows` rows of `row_bytes` bytes: fixed size, chunked (up to
/// 64k rows and about 1 MiB per chunk), with `fill` (in memory type `fill_type`) as the
/// fill value, or none when `fill` is null. Chunks are allocated on first write, so a
/// dataset nobody writes costs no disk space.
PropList rows_dataset_creation(hsize_t rows, hsize_t columns, std::size_t row_bytes, hid_t fill_type,
                               const void* fill);

/// Rows of one chunk for a dataset of `rows` rows of `row_bytes` bytes (>= 1).
hsize_t chunk_rows(hsize_t rows, std::size_t row_bytes);

/// Creates `path` (relative to `location`) of type `file_type` and shape [rows], or
/// [rows, columns] when columns > 0, laid out as rows_dataset_creation says.
Dataset create_rows_dataset(hid_t location, const char* path, hid_t file_type, hsize_t rows, hsize_t columns,
                            std::size_t row_bytes, hid_t fill_type, const void* fill);

}  // namespace mpisweep::h5
