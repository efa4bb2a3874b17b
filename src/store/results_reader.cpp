// read_results: the file, then its journal laid over it (results_overlay.cpp).
#include "store/results_reader.hpp"

#include <optional>
#include <sys/stat.h>

#include "mpisweep/spec.hpp"
#include "store/file_layout.hpp"
#include "store/h5_types.hpp"
#include "store/results_file_rows.hpp"
#include "store/results_overlay.hpp"

#ifndef MPISWEEP_VERSION
#define MPISWEEP_VERSION "0.1.0"
#endif

namespace mpisweep::store {

namespace {

// Read-only access without HDF5's file lock, so that the file of a running sweep (flushed
// after every batch) can be looked at.
h5::PropList read_access() {
    h5::PropList access(H5_CHECK(H5Pcreate, H5P_FILE_ACCESS));
#if H5_VERSION_GE(1, 10, 7)
    H5_CHECK(H5Pset_file_locking, access.get(), false, true);
#endif
    return access;
}

std::string string_attribute_or_empty(hid_t file, const char* name) {
    return h5::has_attribute(file, name) ? h5::read_string_attribute(file, name) : "";
}

std::string required_string(hid_t file, const char* name) {
    if (!h5::has_attribute(file, name)) throw DamagedFile(std::string("it has no root attribute ") + name);
    return h5::read_string_attribute(file, name);
}

// The root attributes and the grid; throws UnreadableResults for a foreign file or format.
ResultsSnapshot read_attributes(hid_t file, const std::string& path) {
    ResultsSnapshot out;
    out.path = path;
    if (h5::has_attribute(file, "format") && !h5::has_attribute(file, "format_version"))
        throw DamagedFile("it has no root attribute format_version");
    out.format_version = check_format(file, path);
    if (!h5::has_attribute(file, "n_tasks")) throw DamagedFile("it has no root attribute n_tasks");
    out.n_tasks = h5::read_uint64_attribute(file, "n_tasks");
    out.spec = required_string(file, "spec");
    try {
        out.grid = parse_grid_json(out.spec);
    } catch (const std::exception& e) {
        throw DamagedFile(std::string("its root attribute spec is not a grid (") + e.what() + ")");
    }
    if (out.grid.size() != out.n_tasks)
        throw DamagedFile("its root attribute n_tasks is " + std::to_string(out.n_tasks) +
                          " but its grid has " + std::to_string(out.grid.size()) + " points");
    out.command = string_attribute_or_empty(file, "command");
    out.created = string_attribute_or_empty(file, "created");
    out.mpisweep_version = string_attribute_or_empty(file, "mpisweep_version");
    out.mpi_size = h5::has_attribute(file, "mpi_size") ? h5::read_int64_attribute(file, "mpi_size") : 0;
    out.journal_id = read_journal_id(file);
    return out;
}

// The file alone. Throws DamagedFile when it cannot be read (the journal may stand in),
// UnreadableResults when it is not an mpisweep file or of a format this mpisweep cannot read.
ResultsSnapshot read_file(const std::string& path) {
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        (void)h5::take_error_stack();
        throw DamagedFile("it is not an HDF5 file", /*foreign=*/true);
    }
    h5::File file;
    try {
        h5::PropList access = read_access();
        file = h5::File(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, access.get()));
    } catch (const h5::H5Error& e) {
        throw DamagedFile("HDF5 cannot open it: " + short_reason(e));
    }
    try {
        ResultsSnapshot out = read_attributes(file.get(), path);
        read_settled_rows(file.get(), out);
        return out;
    } catch (const DamagedFile&) {
        throw;
    } catch (const h5::H5Error& e) {
        throw DamagedFile("HDF5 cannot read it: " + short_reason(e));
    } catch (const StoreError& e) {
        throw UnreadableResults(e.what());
    }
}

std::string damaged_message(const std::string& path, const DamagedFile& problem,
                            const std::optional<JournalView>& journal) {
    if (problem.foreign() && !journal)
        return "'" + path + "' is not an HDF5 file; expected a results file written by 'mpisweep run'";
    std::string out = "'" + path + "' is damaged (" + problem.what() + ") and ";
    if (journal)
        return out +
               "its journal cannot stand in (it was started after rows were written): restore the file "
               "from a copy, or start over with 'mpisweep run --force'";
    return out +
           "there is no journal beside it to rebuild it from: restore it from a copy, or start over with "
           "'mpisweep run --force'";
}

ResultsSnapshot read_once(const std::string& path, int tries_left) {
    // The journal before the file: every record after its last Commit may be in the middle of
    // being written to the file while we read it, so those are laid over what we read.
    const std::optional<JournalView> before = read_journal_view(path);
    ResultsSnapshot out;
    std::uint64_t overlay_from = before ? before->committed_end() : 0;
    try {
        out = read_file(path);
    } catch (const DamagedFile& problem) {
        if (!before || !before->scan.header.since_creation)
            throw UnreadableResults(damaged_message(path, problem, before));
        out = snapshot_from_journal_header(path, before->scan.header);
        out.from_journal_only = true;
        out.file_problem = problem.what();
        overlay_from = 0;
    }
    const std::optional<JournalView> after = read_journal_view(path);
    // The sweep finished (and removed its journal) while we read: the file is final now.
    if (before && !after && !out.from_journal_only && tries_left > 0) return read_once(path, tries_left - 1);
    if (after && (out.from_journal_only || out.journal_id == after->scan.header.file_id))
        out.journal_records = overlay_journal(out, *after, overlay_from);
    return out;
}

}  // namespace

std::string ResultsSnapshot::node_name(std::size_t row) const {
    const std::int32_t index = rows.node.at(row);
    return index >= 0 && static_cast<std::size_t>(index) < nodes.size()
               ? nodes[static_cast<std::size_t>(index)]
               : "";
}

ResultsSnapshot read_results(const std::string& path) {
    const h5::SilenceErrors quiet;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        throw UnreadableResults("cannot open '" + path +
                                "': no such file; expected a results file written by 'mpisweep run'");
    if (S_ISDIR(info.st_mode))
        throw UnreadableResults("'" + path +
                                "' is a folder; expected a results file written by 'mpisweep run'");
    return read_once(path, 3);
}

std::string read_root_attribute(const std::string& path, const char* name) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return "";
    const h5::SilenceErrors quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        (void)h5::take_error_stack();
        return "";
    }
    try {
        h5::PropList access = read_access();
        h5::File file(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDONLY, access.get()));
        if (!h5::has_attribute(file.get(), "format") ||
            h5::read_string_attribute(file.get(), "format") != kFormatName)
            return "";
        return string_attribute_or_empty(file.get(), name);
    } catch (const std::exception&) {
        return "";  // resume opens it again and reports what is wrong
    }
}

}  // namespace mpisweep::store
