#include "cli/results_file.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>

#include "cli/journal_overlay.hpp"
#include "cli/usage_error.hpp"
#include "store/h5_check.hpp"
#include "store/h5_types.hpp"

namespace mpisweep::cli {

std::string number_text(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc{} ? std::string(buf, end) : std::to_string(d);
}

namespace {

std::string rounded(double d, int digits) {
    if (std::isnan(d)) return "nan";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*g", digits, d);
    return buf;
}

// Read-only access without HDF5's file lock, so a file that a running sweep holds open can
// be looked at (it is flushed after every batch).
h5::PropList read_access() {
    h5::PropList access(H5_CHECK(H5Pcreate, H5P_FILE_ACCESS));
#if H5_VERSION_GE(1, 10, 7)
    H5_CHECK(H5Pset_file_locking, access.get(), false, true);
#endif
    return access;
}

bool is_mpisweep_file(hid_t file) {
    return h5::has_attribute(file, "format") && h5::read_string_attribute(file, "format") == "mpisweep";
}

h5::File open_for_reading(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        throw UsageError("cannot open '" + path +
                         "': no such file; expected a results file written by 'mpisweep run'");
    }
    if (std::filesystem::is_directory(path, ec)) {
        throw UsageError("'" + path + "' is a folder; expected a results file written by 'mpisweep run'");
    }
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        h5::take_error_stack();
        throw UsageError("'" + path +
                         "' is not an HDF5 file; expected a results file written by 'mpisweep run'");
    }
    h5::PropList access = read_access();
    h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, access.get()));
    if (!is_mpisweep_file(file.get())) {
        throw UsageError("'" + path +
                         "' is not an mpisweep results file (no root attribute "
                         "format=\"mpisweep\")");
    }
    return file;
}

std::vector<std::string> read_strings(hid_t dataset, hid_t file_type, std::size_t rows) {
    std::vector<std::string> out(rows);
    if (rows == 0) return out;
    if (H5_CHECK(H5Tis_variable_str, file_type) > 0) {
        h5::Datatype memory = h5::vlen_utf8_string();
        std::vector<char*> buffer(rows, nullptr);
        H5_CHECK(H5Dread, dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
        for (std::size_t i = 0; i < rows; ++i) {
            if (buffer[i]) out[i] = buffer[i];
        }
        h5::Dataspace space(H5_CHECK(H5Dget_space, dataset));
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, buffer.data());
        return out;
    }
    const std::size_t size = H5Tget_size(file_type);
    h5::Datatype memory(H5_CHECK(H5Tcopy, file_type));
    std::vector<char> buffer(rows * size);
    H5_CHECK(H5Dread, dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
    for (std::size_t i = 0; i < rows; ++i) {
        const char* begin = buffer.data() + i * size;
        std::size_t len = 0;
        while (len < size && begin[len] != '\0') ++len;
        out[i] = std::string(begin, len);
    }
    return out;
}

// Enums (bools, the status) are read in their own native type, whose values are the int8
// codes: HDF5 does not convert an enum to a plain integer.
std::vector<std::int64_t> read_enum_codes(hid_t dataset, hid_t file_type, std::size_t rows) {
    h5::Datatype native(H5_CHECK(H5Tget_native_type, file_type, H5T_DIR_ASCEND));
    const std::size_t size = H5Tget_size(native.get());
    if (size != 1) throw std::runtime_error("unexpected enum of " + std::to_string(size) + " bytes");
    std::vector<std::int8_t> codes(rows);
    H5_CHECK(H5Dread, dataset, native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, codes.data());
    return std::vector<std::int64_t>(codes.begin(), codes.end());
}

Column read_column(hid_t location, const std::string& name) {
    h5::Dataset dataset(H5_CHECK(H5Dopen2, location, name.c_str(), H5P_DEFAULT));
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
    const int rank = H5_CHECK(H5Sget_simple_extent_ndims, space.get());
    hsize_t dims[2] = {0, 0};
    if (rank < 1 || rank > 2)
        throw std::runtime_error("dataset '" + name + "' has rank " + std::to_string(rank));
    H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims, nullptr);
    const auto rows = static_cast<std::size_t>(dims[0]);
    h5::Datatype type(H5_CHECK(H5Dget_type, dataset.get()));
    Column column;
    column.name = name;
    switch (H5_CHECK(H5Tget_class, type.get())) {
        case H5T_INTEGER:
            column.kind = Column::Kind::Int;
            column.ints.resize(rows);
            if (rows)
                H5_CHECK(H5Dread, dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         column.ints.data());
            break;
        case H5T_FLOAT:
            column.kind = rank == 2 ? Column::Kind::FloatArray : Column::Kind::Float;
            column.width = rank == 2 ? static_cast<std::size_t>(dims[1]) : 0;
            column.floats.resize(rows * std::max<std::size_t>(column.width, 1));
            if (!column.floats.empty()) {
                H5_CHECK(H5Dread, dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         column.floats.data());
            }
            break;
        case H5T_STRING:
            column.kind = Column::Kind::String;
            column.strings = read_strings(dataset.get(), type.get(), rows);
            break;
        case H5T_ENUM:
            column.kind = Column::Kind::Bool;
            column.ints = read_enum_codes(dataset.get(), type.get(), rows);
            break;
        default:
            throw std::runtime_error("dataset '" + name + "' has a type mpisweep does not write");
    }
    return column;
}

template <class T>
std::vector<T> as_vector(const Column& column) {
    std::vector<T> out;
    if (column.kind == Column::Kind::Float) {
        for (double d : column.floats) out.push_back(static_cast<T>(d));
    } else {
        for (std::int64_t i : column.ints) out.push_back(static_cast<T>(i));
    }
    return out;
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* names) {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
}

// Dataset names of a group, in creation order when the group tracks it.
std::vector<std::string> member_names(hid_t file, const char* group_name) {
    std::vector<std::string> names;
    if (!h5::link_exists(file, group_name)) return names;
    h5::Group group(H5_CHECK(H5Gopen2, file, group_name, H5P_DEFAULT));
    h5::PropList creation(H5_CHECK(H5Gget_create_plist, group.get()));
    unsigned order_flags = 0;
    H5_CHECK(H5Pget_link_creation_order, creation.get(), &order_flags);
    const H5_index_t index = (order_flags & H5P_CRT_ORDER_TRACKED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    hsize_t position = 0;
    H5_CHECK(H5Literate, group.get(), index, H5_ITER_INC, &position, collect_name, &names);
    return names;
}

std::string string_attribute_or_empty(hid_t file, const char* name) {
    return h5::has_attribute(file, name) ? h5::read_string_attribute(file, name) : "";
}

}  // namespace

std::string Column::text(std::size_t row, int digits) const {
    switch (kind) {
        case Kind::Int:
            return std::to_string(ints.at(row));
        case Kind::Bool:
            return ints.at(row) ? "true" : "false";
        case Kind::String:
            return strings.at(row);
        case Kind::Float:
            return digits > 0 ? rounded(floats.at(row), digits) : number_text(floats.at(row));
        case Kind::FloatArray: {
            std::string out = "[";
            for (std::size_t j = 0; j < width; ++j) {
                const double d = floats.at(row * width + j);
                out += (j ? ", " : "") + (digits > 0 ? rounded(d, digits) : number_text(d));
            }
            return out + "]";
        }
    }
    return "";
}

double Column::number(std::size_t row) const {
    if (kind == Kind::Float) return floats.at(row);
    return static_cast<double>(ints.at(row));
}

std::string ResultsFile::node_name(std::size_t row) const {
    const std::int32_t index = node.at(row);
    return index >= 0 && static_cast<std::size_t>(index) < nodes.size()
               ? nodes[static_cast<std::size_t>(index)]
               : "";
}

std::string ResultsFile::params_text(std::size_t row) const {
    std::string out;
    for (const Column& p : params) out += (out.empty() ? "" : ", ") + p.name + "=" + p.text(row);
    return out;
}

const Column* ResultsFile::result(const std::string& name) const {
    for (const Column& c : results) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

const char* status_name(RowStatus status) {
    switch (status) {
        case RowStatus::Pending:
            return "pending";
        case RowStatus::Done:
            return "done";
        case RowStatus::Failed:
            return "failed";
    }
    return "?";
}

namespace {

ResultsFile read_hdf5_file(const std::string& path) {
    h5::File file = open_for_reading(path);
    const hid_t f = file.get();
    ResultsFile out;
    out.path = path;
    out.command = string_attribute_or_empty(f, "command");
    out.created = string_attribute_or_empty(f, "created");
    out.mpisweep_version = string_attribute_or_empty(f, "mpisweep_version");
    out.spec = string_attribute_or_empty(f, "spec");
    out.mpi_size = h5::has_attribute(f, "mpi_size") ? h5::read_int64_attribute(f, "mpi_size") : 0;
    out.n_tasks = h5::read_uint64_attribute(f, "n_tasks");
    out.journal_id = h5::has_attribute(f, "journal_id") ? h5::read_uint64_attribute(f, "journal_id") : 0;

    for (const char* group : {"params", "results"}) {
        auto& columns = std::string(group) == "params" ? out.params : out.results;
        for (const auto& name : member_names(f, group)) {
            columns.push_back(read_column(f, std::string(group) + "/" + name));
            columns.back().name = name;
        }
    }

    const Column status = read_column(f, "tasks/status");
    for (std::int64_t code : status.ints) out.status.push_back(static_cast<RowStatus>(code));
    out.attempts = as_vector<std::int32_t>(read_column(f, "tasks/attempts"));
    out.worker = as_vector<std::int32_t>(read_column(f, "tasks/worker"));
    out.device = as_vector<std::int32_t>(read_column(f, "tasks/device"));
    out.node = as_vector<std::int32_t>(read_column(f, "tasks/node"));
    out.exit_code = as_vector<std::int32_t>(read_column(f, "tasks/exit_code"));
    out.start = read_column(f, "tasks/start").floats;
    out.wall_s = read_column(f, "tasks/wall_s").floats;
    out.error = read_column(f, "tasks/error").strings;
    if (h5::link_exists(f, "nodes")) out.nodes = read_column(f, "nodes").strings;

    const std::size_t n = out.status.size();
    if (n != out.n_tasks) {
        throw UsageError("'" + path + "' is inconsistent: n_tasks is " + std::to_string(out.n_tasks) +
                         " but /tasks/status has " + std::to_string(n) + " rows");
    }
    return out;
}

}  // namespace

ResultsFile read_results_file(const std::string& path) {
    const h5::SilenceErrors quiet;
    // The journal before the file: every record after its last Commit may be in the middle
    // of being written to the file while we read it, so those are laid over what we read.
    std::optional<JournalView> before = read_journal_view(path);
    ResultsFile out;
    std::uint64_t overlay_from = before ? before->committed_end() : 0;
    try {
        out = read_hdf5_file(path);
    } catch (const std::exception&) {
        std::error_code ec;
        if (!before || !before->scan.header.since_creation || !std::filesystem::exists(path, ec)) throw;
        out = results_from_journal_header(path, before->scan.header);
        out.from_journal_only = true;
        overlay_from = 0;
    }
    std::optional<JournalView> after = read_journal_view(path);
    if (before && !after && !out.from_journal_only) {
        // The sweep finished (and removed its journal) while we read: the file is final now.
        return read_results_file(path);
    }
    if (after && (out.from_journal_only || out.journal_id == after->scan.header.file_id)) {
        out.journal_records = overlay_journal(out, *after, overlay_from);
    }
    return out;
}

namespace {

std::string read_root_string(const std::string& path, const char* name) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return "";
    const h5::SilenceErrors quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        h5::take_error_stack();
        return "";
    }
    try {
        h5::PropList access = read_access();
        h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, access.get()));
        if (!is_mpisweep_file(file.get())) return "";
        return string_attribute_or_empty(file.get(), name);
    } catch (const h5::H5Error&) {
        return "";  // resume opens it again and reports what is wrong
    }
}

}  // namespace

std::string read_spec_attribute(const std::string& path) {
    return read_root_string(path, "spec");
}

std::string read_command_attribute(const std::string& path) {
    return read_root_string(path, "command");
}

}  // namespace mpisweep::cli
