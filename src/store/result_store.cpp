// ResultStore: opening and creating the file, buffering records and writing them in
// batches (one H5Dwrite per dataset per flush). Every batch goes to the journal beside the
// file first (store/journal_codec.hpp): a kill in the middle of an HDF5 write is repaired
// on resume by rebuilding the file from the journal.
#include "store/result_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <numeric>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

#include "store/column_type.hpp"
#include "store/file_layout.hpp"
#include "store/h5_types.hpp"
#include "store/journal_file.hpp"
#include "store/pending_file.hpp"
#include "store/row_selection.hpp"
#include "store/spec_diff.hpp"

namespace mpisweep {

namespace {

using Clock = std::chrono::steady_clock;
using store::ColumnType;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows of /tasks/status read per H5Dread on resume.
constexpr hsize_t kStatusBlockRows = hsize_t{1} << 20;

bool path_exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

h5::Dataspace whole_rows_space(std::uint64_t rows) {
    hsize_t dims[1] = {rows};
    return h5::Dataspace(H5_CHECK(H5Screate_simple, 1, dims, nullptr));
}

// Reads the [first, first + count) rows of a 1-D dataset into `out`.
void read_rows(hid_t dataset, hid_t memory_type, hsize_t first, hsize_t count, void* out) {
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, dataset));
    hsize_t start[1] = {first};
    hsize_t counts[1] = {count};
    H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr);
    h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, counts, nullptr));
    H5_CHECK(H5Dread, dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, out);
}

// Reads every string of a 1-D vlen string dataset.
std::vector<std::string> read_all_strings(hid_t dataset) {
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset));
    hssize_t count = H5_CHECK(H5Sget_simple_extent_npoints, space.get());
    std::vector<char*> raw(static_cast<std::size_t>(count), nullptr);
    std::vector<std::string> strings;
    if (count == 0) return strings;
    h5::Datatype text = h5::vlen_utf8_string();
    H5_CHECK(H5Dread, dataset, text.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
    for (char* s : raw) strings.emplace_back(s ? s : "");
    (void)H5Dvlen_reclaim(text.get(), space.get(), H5P_DEFAULT, raw.data());
    return strings;
}

const char* missing_value_note(ColumnType type) {
    switch (type.kind) {
        case ColumnType::Kind::Float:
        case ColumnType::Kind::Array:
            return "NaN";
        case ColumnType::Kind::Int:
            return "0 (use /tasks/status to tell a missing row from a 0)";
        case ColumnType::Kind::String:
            return "empty string";
    }
    return "";
}

// A results file that exists but cannot be read as one: a journal may repair it.
class UnreadableFile : public StoreError {
public:
    using StoreError::StoreError;
};

// a == b for the short strings of every record (host, field names): no call to memcmp.
inline bool same_text(const std::string& a, const std::string& b) {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    const char* p = a.data();
    const char* q = b.data();
    if (n >= 8 && n <= 16) {
        std::uint64_t x[2], y[2];  // the first 8 bytes and the last 8 (they may overlap)
        std::memcpy(&x[0], p, 8);
        std::memcpy(&x[1], p + n - 8, 8);
        std::memcpy(&y[0], q, 8);
        std::memcpy(&y[1], q + n - 8, 8);
        return x[0] == y[0] && x[1] == y[1];
    }
    if (n >= 4 && n < 8) {
        std::uint32_t x[2], y[2];
        std::memcpy(&x[0], p, 4);
        std::memcpy(&x[1], p + n - 4, 4);
        std::memcpy(&y[0], q, 4);
        std::memcpy(&y[1], q + n - 4, 4);
        return x[0] == y[0] && x[1] == y[1];
    }
    if (n < 4) return n == 0 || (p[0] == q[0] && p[n / 2] == q[n / 2] && p[n - 1] == q[n - 1]);
    return std::memcmp(p, q, n) == 0;
}

store::FileIdentity identity_of(const store::JournalHeader& header) {
    return store::FileIdentity{header.file_id, header.created, header.mpi_size, header.command};
}

}  // namespace

struct ResultStore::Impl {
    // Values of one column buffered for the next flush, one per buffered record that has one.
    struct Staged {
        std::vector<std::uint32_t> positions;  // of those records in the batch, ascending
        std::vector<double> doubles;           // Float (ints converted) and Array (width each)
        std::vector<std::int64_t> ints;
        std::vector<std::string> strings;
        void clear() {
            positions.clear();
            doubles.clear();
            ints.clear();
            strings.clear();
        }
    };

    // One /results/<name> column: its type is fixed by the first value; the dataset is
    // created by the first flush that has a value for it.
    struct Column {
        std::string name;
        ColumnType type;
        h5::Dataset dataset;
        Staged staged;
    };

    // The records buffered for the next flush, column by column in arrival order: written
    // as they are when the ids ascend (the usual case); otherwise sort_batch() orders them
    // first. Each column holds at least n entries, sized ahead, so that adding a record is
    // one capacity check and plain stores.
    struct Batch {
        std::size_t n = 0;
        std::vector<hsize_t> ids;
        std::vector<std::int8_t> status;
        std::vector<std::int32_t> attempts, worker, device, node, exit_code;
        std::vector<double> start, wall_s;
        std::vector<std::pair<std::size_t, std::string>> errors;  // (position, message) of failures
        bool ascending = true;  // ids strictly increasing: in row order, no id twice
        std::size_t size() const { return n; }
        bool empty() const { return n == 0; }
        // The position of a new record, room made for it.
        std::size_t add_row() {
            if (n == ids.size()) resize_columns(std::max<std::size_t>(1024, 2 * n));
            return n++;
        }
        void resize_columns(std::size_t rows) {
            ids.resize(rows);
            status.resize(rows);
            attempts.resize(rows);
            worker.resize(rows);
            device.resize(rows);
            node.resize(rows);
            exit_code.resize(rows);
            start.resize(rows);
            wall_s.resize(rows);
        }
        void clear() {
            n = 0;
            errors.clear();
            ascending = true;
        }
    };

    // One result of the record being added: validate() fills these, stage() reads them, so
    // the record's map is walked once. `column` (kNewColumn: none yet) stays as the hint
    // for the next record, which usually has the same fields: a name compare then replaces
    // a hash look-up.
    struct Field {
        const std::string* name;
        ResultValue* value;
        std::size_t column;
    };

    std::string path;
    StoreOptions options;
    std::uint64_t n_tasks = 0;
    bool closed = false;

    // Declared before the datasets: members are destroyed in reverse order, so the datasets
    // close before the file.
    h5::File file;
    h5::Group results_group;
    h5::Dataset nodes_dataset;
    store::TaskDatasets tasks;
    h5::Datatype status_type = h5::status_enum();
    h5::Datatype string_type = h5::vlen_utf8_string();

    std::vector<Column> columns;
    std::unordered_map<std::string, std::size_t> column_index;

    std::vector<std::string> nodes;  // index = value in /tasks/node
    std::unordered_map<std::string, std::int32_t> node_index;
    std::size_t nodes_in_file = 0;
    std::int32_t last_node = -1;  // results come from a few hosts: most look-ups hit this one

    // Resume: attempts of the rows that were failed when the file was opened (only those
    // run again), and the rows whose /tasks/error holds a message.
    std::unordered_map<std::uint64_t, std::int32_t> prior_attempts;
    std::unordered_set<std::uint64_t> rows_with_error;
    std::uint64_t rows_done_at_open = 0;
    std::uint64_t rows_failed_at_open = 0;

    // The journal; closed (false) while replaying it into a rebuilt file.
    store::JournalWriter journal;
    store::RecordsFrame frame;  // the buffered records, encoded as they arrive
    std::string commit_frame;   // encoding buffer, reused

    // /params rows not yet written: written before any row of /tasks that needs them, in
    // short slices between flushes (about a tenth of the time), and all at close.
    store::ParamWriter params;
    Clock::time_point next_params_slice{};

    Batch batch;
    static constexpr std::size_t kNewColumn = std::numeric_limits<std::size_t>::max();
    std::vector<Field> fields;
    std::size_t field_count = 0;
    Clock::time_point oldest_buffered{};

    void open(const std::string& file_path);
    void start_params(const Grid& grid) {
        if (!store::params_written_at_creation(grid)) params = store::ParamWriter(file.get(), grid);
    }
    void write_params_slice();
    void load_results_columns();
    void load_nodes();
    void load_failed_rows();

    void check_open() const {
        if (closed) throw StoreError("results file '" + path + "' is already closed");
    }
    void validate(TaskRecord& record);
    // The index of `host` in /nodes (-1 for none). Results come from a few hosts: most
    // look-ups hit the last one, inline; the rest go through node_index.
    std::int32_t node_of(const std::string& host) {
        if (last_node >= 0 && same_text(nodes[static_cast<std::size_t>(last_node)], host)) return last_node;
        return find_node(host);
    }
    std::int32_t find_node(const std::string& host);
    void stage(TaskRecord& record);
    void add(TaskRecord& record) {
        validate(record);
        stage(record);
    }
    void sort_batch();
    void journal_records();
    void journal_commit();
    bool every_task_done();
    void write_buffer();
    void write_rows();

    /// Opens `options.path` as it is. Throws UnreadableFile when it cannot be read (maybe
    /// torn by a kill), StoreError when it is another grid's file or not an mpisweep file.
    static std::unique_ptr<Impl> open_existing(const Grid& grid, const StoreOptions& options);
    static void rebuild_from_journal(const Grid& grid, const StoreOptions& options,
                                     const store::JournalScan& scan);
    void write_nodes();
    void write_task_columns(hid_t file_space, hid_t memory_space);
    void write_errors();
    void write_results(hid_t task_file_space, hid_t task_memory_space);
    void create_column_dataset(Column& column);
    void finish();
};

// ---- opening -----------------------------------------------------------------------------

void ResultStore::Impl::open(const std::string& file_path) {
    file = h5::File(H5_CHECK(H5Fopen, file_path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    results_group = h5::Group(H5_CHECK(H5Gopen2, file.get(), "results", H5P_DEFAULT));
    nodes_dataset = h5::Dataset(H5_CHECK(H5Dopen2, file.get(), "nodes", H5P_DEFAULT));
    tasks = store::open_task_datasets(file.get());
}

void ResultStore::Impl::load_results_columns() {
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
    };
    hsize_t index = 0;
    H5_CHECK(H5Literate, results_group.get(), H5_INDEX_NAME, H5_ITER_NATIVE, &index, collect, &names);
    h5::PropList access = h5::written_dataset_access();
    for (const auto& name : names) {
        h5::Dataset dataset(H5_CHECK(H5Dopen2, results_group.get(), name.c_str(), access.get()));
        h5::Datatype type(H5_CHECK(H5Dget_type, dataset.get()));
        h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
        int rank = H5_CHECK(H5Sget_simple_extent_ndims, space.get());
        hsize_t dims[2] = {0, 0};
        if (rank == 1 || rank == 2) H5_CHECK(H5Sget_simple_extent_dims, space.get(), dims, nullptr);
        H5T_class_t type_class = H5_CHECK(H5Tget_class, type.get());
        std::optional<ColumnType> column_type;
        if (dims[0] == n_tasks) {
            if (rank == 1 && type_class == H5T_FLOAT) column_type = ColumnType{ColumnType::Kind::Float, 0};
            if (rank == 1 && type_class == H5T_INTEGER) column_type = ColumnType{ColumnType::Kind::Int, 0};
            if (rank == 1 && type_class == H5T_STRING) column_type = ColumnType{ColumnType::Kind::String, 0};
            if (rank == 2 && type_class == H5T_FLOAT && dims[1] > 0)
                column_type = ColumnType{ColumnType::Kind::Array, dims[1]};
        }
        if (!column_type)
            throw StoreError("cannot resume from '" + path + "': /results/" + name +
                             " is not a column this mpisweep writes ([" + std::to_string(n_tasks) +
                             "] float64, int64 or string, or [" + std::to_string(n_tasks) + ", k] float64)");
        column_index.emplace(name, columns.size());
        columns.push_back(Column{name, *column_type, std::move(dataset), {}});
    }
}

void ResultStore::Impl::load_nodes() {
    nodes = read_all_strings(nodes_dataset.get());
    nodes_in_file = nodes.size();
    for (std::size_t i = 0; i < nodes.size(); ++i) node_index.emplace(nodes[i], static_cast<std::int32_t>(i));
}

void ResultStore::Impl::load_failed_rows() {
    std::vector<std::int8_t> statuses;
    std::vector<hsize_t> failed;
    for (hsize_t first = 0; first < n_tasks; first += kStatusBlockRows) {
        hsize_t count = std::min<hsize_t>(kStatusBlockRows, n_tasks - first);
        statuses.resize(count);
        read_rows(tasks.status.get(), status_type.get(), first, count, statuses.data());
        for (hsize_t i = 0; i < count; ++i) {
            if (statuses[i] == static_cast<std::int8_t>(TaskStatus::Failed)) failed.push_back(first + i);
            if (statuses[i] == static_cast<std::int8_t>(TaskStatus::Done)) ++rows_done_at_open;
        }
    }
    rows_failed_at_open = failed.size();
    if (failed.empty()) return;
    // Failures are few: read their attempts with one point selection.
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, tasks.attempts.get()));
    h5::Dataspace memory_space = h5::select_rows(file_space.get(), failed, 0);
    std::vector<std::int32_t> attempts(failed.size());
    H5_CHECK(H5Dread, tasks.attempts.get(), H5T_NATIVE_INT32, memory_space.get(), file_space.get(),
             H5P_DEFAULT, attempts.data());
    for (std::size_t i = 0; i < failed.size(); ++i) {
        prior_attempts.emplace(failed[i], attempts[i]);
        rows_with_error.insert(failed[i]);
    }
}

// ---- recording ---------------------------------------------------------------------------

// Checks `record` against the columns without changing them; `fields` then holds its
// results and the column of each (kNewColumn for one that stage() creates).
void ResultStore::Impl::validate(TaskRecord& record) {
    check_open();
    if (record.id.value() >= n_tasks)
        throw StoreError("task id " + std::to_string(record.id.value()) + " is out of range: '" + path +
                         "' holds tasks 0.." + std::to_string(n_tasks - 1));
    if (record.status == TaskStatus::Pending)
        throw StoreError("task " + std::to_string(record.id.value()) +
                         ": a record must be done or failed, not pending");
    field_count = 0;
    if (fields.size() < record.results.size())
        fields.resize(record.results.size(), Field{nullptr, nullptr, kNewColumn});
    Field* field = fields.data();
    for (auto& [name, value] : record.results) {
        field->name = &name;
        field->value = &value;
        std::size_t c = field->column;
        ++field;
        // The usual case: the previous record's column for this field, and a value that fits.
        // (Its name was checked when the column was made.)
        if (c < columns.size() && same_text(columns[c].name, name) &&
            store::value_fits(value, columns[c].type))
            continue;
        if (c >= columns.size() || !same_text(columns[c].name, name)) {
            store::check_field_name(name, "result field");
            const auto it = column_index.find(name);
            c = it == column_index.end() ? kNewColumn : it->second;
        }
        const ColumnType type = store::column_type_of(value);
        if (type.kind == ColumnType::Kind::Array && type.width == 0)
            throw StoreError("result field '" + name + "' is an empty array: expected at least one value");
        if (c != kNewColumn) {
            const ColumnType column = columns[c].type;
            if (!store::fits(type, column))
                throw StoreError("result field '" + name + "' is " + store::describe(type) +
                                 ", but column /results/" + name + " holds " + store::describe(column) +
                                 " (fixed by its first value)");
        }
        (field - 1)->column = c;
    }
    field_count = record.results.size();
}

std::int32_t ResultStore::Impl::find_node(const std::string& host) {
    if (host.empty()) return -1;
    // Look up first: emplace would build (allocate) a node per record only to drop it.
    if (const auto it = node_index.find(host); it != node_index.end()) return last_node = it->second;
    const auto index = static_cast<std::int32_t>(nodes.size());
    node_index.emplace(host, index);
    nodes.push_back(host);
    return last_node = index;
}

// Buffers a record that validate() accepted just before (its `fields`): encoded into the
// journal frame, then its fields appended to the batch (strings moved out of it).
void ResultStore::Impl::stage(TaskRecord& record) {
    if (journal) frame.add(record);
    const hsize_t id = record.id.value();
    const std::size_t position = batch.add_row();
    if (position == 0)
        oldest_buffered = Clock::now();
    else if (id <= batch.ids[position - 1])
        batch.ascending = false;
    batch.ids[position] = id;
    batch.status[position] = static_cast<std::int8_t>(record.status);
    batch.attempts[position] = record.attempts;
    batch.worker[position] = record.worker;
    batch.device[position] = record.device;
    batch.node[position] = node_of(record.node);
    batch.start[position] = record.start;
    batch.wall_s[position] = record.wall_s;
    batch.exit_code[position] = record.exit_code;
    if (record.status == TaskStatus::Failed) batch.errors.emplace_back(position, std::move(record.error));
    for (std::size_t k = 0; k < field_count; ++k) {
        Field& field = fields[k];
        ResultValue& value = *field.value;
        std::size_t& c = field.column;
        if (c == kNewColumn) {
            c = columns.size();
            column_index.emplace(*field.name, c);
            columns.push_back(Column{*field.name, store::column_type_of(value), {}, {}});
        }
        Column& column = columns[c];
        Staged& staged = column.staged;
        staged.positions.push_back(static_cast<std::uint32_t>(position));
        switch (value.index()) {
            case 0:
                staged.doubles.push_back(std::get<double>(value));
                break;
            case 1: {
                const auto integer = std::get<std::int64_t>(value);
                if (column.type.kind == ColumnType::Kind::Float)
                    staged.doubles.push_back(static_cast<double>(integer));
                else
                    staged.ints.push_back(integer);
                break;
            }
            case 2:
                staged.strings.push_back(std::move(std::get<std::string>(value)));
                break;
            default: {
                const auto& array = std::get<std::vector<double>>(value);
                staged.doubles.insert(staged.doubles.end(), array.begin(), array.end());
            }
        }
    }
}

// Puts the batch in row order, keeping only the last record of an id (the later one wins,
// its results included: an earlier record's results for that id are dropped with it).
void ResultStore::Impl::sort_batch() {
    const std::size_t n = batch.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return batch.ids[a] < batch.ids[b]; });
    std::vector<std::size_t> kept;
    kept.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (i + 1 == n || batch.ids[order[i + 1]] != batch.ids[order[i]]) kept.push_back(order[i]);
    constexpr std::size_t kDropped = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> rank(n, kDropped);  // new position of each old one
    for (std::size_t j = 0; j < kept.size(); ++j) rank[kept[j]] = j;

    Batch sorted;
    sorted.resize_columns(kept.size());
    sorted.n = kept.size();
    for (std::size_t j = 0; j < kept.size(); ++j) {
        const std::size_t b = kept[j];
        sorted.ids[j] = batch.ids[b];
        sorted.status[j] = batch.status[b];
        sorted.attempts[j] = batch.attempts[b];
        sorted.worker[j] = batch.worker[b];
        sorted.device[j] = batch.device[b];
        sorted.node[j] = batch.node[b];
        sorted.start[j] = batch.start[b];
        sorted.wall_s[j] = batch.wall_s[b];
        sorted.exit_code[j] = batch.exit_code[b];
    }
    for (auto& [position, message] : batch.errors)
        if (rank[position] != kDropped) sorted.errors.emplace_back(rank[position], std::move(message));
    std::sort(sorted.errors.begin(), sorted.errors.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    batch = std::move(sorted);

    for (Column& column : columns) {
        Staged& old = column.staged;
        if (old.positions.empty()) continue;
        const std::size_t width = column.type.kind == ColumnType::Kind::Array ? column.type.width : 1;
        std::vector<std::size_t> entries;  // into old, of kept records, in row order
        for (std::size_t e = 0; e < old.positions.size(); ++e)
            if (rank[old.positions[e]] != kDropped) entries.push_back(e);
        std::sort(entries.begin(), entries.end(), [&](std::size_t a, std::size_t b) {
            return rank[old.positions[a]] < rank[old.positions[b]];
        });
        Staged fresh;
        for (std::size_t e : entries) {
            fresh.positions.push_back(static_cast<std::uint32_t>(rank[old.positions[e]]));
            switch (column.type.kind) {
                case ColumnType::Kind::Int:
                    fresh.ints.push_back(old.ints[e]);
                    break;
                case ColumnType::Kind::String:
                    fresh.strings.push_back(std::move(old.strings[e]));
                    break;
                default:
                    fresh.doubles.insert(fresh.doubles.end(),
                                         old.doubles.begin() + static_cast<std::ptrdiff_t>(e * width),
                                         old.doubles.begin() + static_cast<std::ptrdiff_t>((e + 1) * width));
            }
        }
        old = std::move(fresh);
    }
}

// ---- writing -----------------------------------------------------------------------------

// The journal first: once this returns, the buffered records are settled (a kill from here
// on finds them in the journal), and a Records frame with no Commit after it says an HDF5
// write was under way.
void ResultStore::Impl::journal_records() {
    journal.append(frame.seal());
    frame.clear();
}

// After H5Fflush (or H5Fclose) returned: the file holds every record before this point.
void ResultStore::Impl::journal_commit() {
    commit_frame.clear();
    store::append_commit_frame(journal.size(), commit_frame);
    journal.append(commit_frame);
}

void ResultStore::Impl::write_buffer() {
    if (batch.empty()) return;
    if (journal) journal_records();
    write_rows();
    H5_CHECK(H5Fflush, file.get(), H5F_SCOPE_GLOBAL);
    if (journal) journal_commit();
}

bool ResultStore::Impl::every_task_done() {
    std::vector<std::int8_t> statuses;
    for (hsize_t first = 0; first < n_tasks; first += kStatusBlockRows) {
        hsize_t count = std::min<hsize_t>(kStatusBlockRows, n_tasks - first);
        statuses.resize(count);
        read_rows(tasks.status.get(), status_type.get(), first, count, statuses.data());
        for (std::int8_t s : statuses)
            if (s != static_cast<std::int8_t>(TaskStatus::Done)) return false;
    }
    return true;
}

// Writes the buffered rows (no flush).
void ResultStore::Impl::write_rows() {
    if (batch.empty()) return;
    if (!batch.ascending) sort_batch();
    params.write_through(batch.ids[batch.n - 1] + 1);  // a row in the file has its params
    write_nodes();
    // One selection serves every /tasks column and every scalar /results column that each
    // record has: they all have N rows.
    h5::Dataspace file_space = whole_rows_space(n_tasks);
    h5::Dataspace memory_space = h5::select_rows(file_space.get(), batch.ids.data(), batch.n, 0);
    write_task_columns(file_space.get(), memory_space.get());
    write_errors();
    write_results(file_space.get(), memory_space.get());
    batch.clear();
    for (Column& column : columns) column.staged.clear();
}

void ResultStore::Impl::write_nodes() {
    if (nodes.size() == nodes_in_file) return;
    hsize_t new_size[1] = {nodes.size()};
    H5_CHECK(H5Dset_extent, nodes_dataset.get(), new_size);
    h5::Dataspace file_space(H5_CHECK(H5Dget_space, nodes_dataset.get()));
    hsize_t start[1] = {nodes_in_file};
    hsize_t count[1] = {nodes.size() - nodes_in_file};
    H5_CHECK(H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    h5::Dataspace memory_space(H5_CHECK(H5Screate_simple, 1, count, nullptr));
    std::vector<const char*> names;
    for (std::size_t i = nodes_in_file; i < nodes.size(); ++i) names.push_back(nodes[i].c_str());
    H5_CHECK(H5Dwrite, nodes_dataset.get(), string_type.get(), memory_space.get(), file_space.get(),
             H5P_DEFAULT, names.data());
    nodes_in_file = nodes.size();
}

void ResultStore::Impl::write_task_columns(hid_t file_space, hid_t memory_space) {
    auto write = [&](const h5::Dataset& dataset, hid_t type, const void* data) {
        H5_CHECK(H5Dwrite, dataset.get(), type, memory_space, file_space, H5P_DEFAULT, data);
    };
    write(tasks.status, status_type.get(), batch.status.data());
    write(tasks.attempts, H5T_NATIVE_INT32,
          batch.attempts.data());  // absolute: record() added those in the file
    write(tasks.worker, H5T_NATIVE_INT32, batch.worker.data());
    write(tasks.device, H5T_NATIVE_INT32, batch.device.data());
    write(tasks.node, H5T_NATIVE_INT32, batch.node.data());
    write(tasks.start, H5T_NATIVE_DOUBLE, batch.start.data());
    write(tasks.wall_s, H5T_NATIVE_DOUBLE, batch.wall_s.data());
    write(tasks.exit_code, H5T_NATIVE_INT32, batch.exit_code.data());
}

void ResultStore::Impl::write_errors() {
    // Only failures carry a message; a done row is written ("") only to clear an old one.
    if (batch.errors.empty() && rows_with_error.empty()) return;
    std::vector<hsize_t> rows;
    std::vector<const char*> messages;
    auto failure = batch.errors.begin();
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const hsize_t id = batch.ids[i];
        if (failure != batch.errors.end() && failure->first == i) {
            rows.push_back(id);
            messages.push_back(failure->second.c_str());
            ++failure;
        } else if (rows_with_error.count(id) > 0) {
            rows.push_back(id);
            messages.push_back("");
        }
    }
    if (rows.empty()) return;
    h5::Dataspace file_space = whole_rows_space(n_tasks);
    h5::Dataspace memory_space = h5::select_rows(file_space.get(), rows, 0);
    H5_CHECK(H5Dwrite, tasks.error.get(), string_type.get(), memory_space.get(), file_space.get(),
             H5P_DEFAULT, messages.data());
    for (std::size_t i = 0; i < batch.size(); ++i) {  // only once written: a failed write is retried whole
        if (batch.status[i] == static_cast<std::int8_t>(TaskStatus::Failed))
            rows_with_error.insert(batch.ids[i]);
        else
            rows_with_error.erase(batch.ids[i]);
    }
}

void ResultStore::Impl::create_column_dataset(Column& column) {
    const std::string& name = column.name;
    switch (column.type.kind) {
        case ColumnType::Kind::Float:
            column.dataset = h5::create_rows_dataset(results_group.get(), name.c_str(), H5T_IEEE_F64LE,
                                                     n_tasks, 0, 8, H5T_NATIVE_DOUBLE, &kNaN);
            break;
        case ColumnType::Kind::Int: {
            const std::int64_t zero = 0;
            column.dataset = h5::create_rows_dataset(results_group.get(), name.c_str(), H5T_STD_I64LE,
                                                     n_tasks, 0, 8, H5T_NATIVE_INT64, &zero);
            break;
        }
        case ColumnType::Kind::String:
            column.dataset = h5::create_rows_dataset(results_group.get(), name.c_str(), string_type.get(),
                                                     n_tasks, 0, 16, string_type.get(), nullptr);
            break;
        case ColumnType::Kind::Array:
            column.dataset =
                h5::create_rows_dataset(results_group.get(), name.c_str(), H5T_IEEE_F64LE, n_tasks,
                                        column.type.width, 8 * column.type.width, H5T_NATIVE_DOUBLE, &kNaN);
            break;
    }
    h5::write_string_attribute(column.dataset.get(), "missing", missing_value_note(column.type));
}

void ResultStore::Impl::write_results(hid_t task_file_space, hid_t task_memory_space) {
    std::vector<hsize_t> rows;
    std::vector<const char*> strings;
    for (Column& column : columns) {
        const Staged& s = column.staged;
        if (s.positions.empty()) continue;
        if (!column.dataset) create_column_dataset(column);
        h5::Dataspace own_file_space, own_memory_space;
        hid_t file_space = task_file_space;
        hid_t memory_space = task_memory_space;
        if (column.type.width > 0 || s.positions.size() != batch.size()) {  // not the /tasks rows
            rows.resize(s.positions.size());
            for (std::size_t e = 0; e < rows.size(); ++e) rows[e] = batch.ids[s.positions[e]];
            own_file_space = h5::Dataspace(H5_CHECK(H5Dget_space, column.dataset.get()));
            own_memory_space = h5::select_rows(own_file_space.get(), rows, column.type.width);
            file_space = own_file_space.get();
            memory_space = own_memory_space.get();
        }
        hid_t memory_type = H5T_NATIVE_DOUBLE;
        const void* data = s.doubles.data();
        if (column.type.kind == ColumnType::Kind::Int) {
            memory_type = H5T_NATIVE_INT64;
            data = s.ints.data();
        } else if (column.type.kind == ColumnType::Kind::String) {
            strings.clear();
            for (const std::string& text : s.strings) strings.push_back(text.c_str());
            memory_type = string_type.get();
            data = strings.data();
        }
        H5_CHECK(H5Dwrite, column.dataset.get(), memory_type, memory_space, file_space, H5P_DEFAULT, data);
    }
}

void ResultStore::Impl::finish() {
    if (closed) return;
    // H5Fclose writes to the file too: a Records frame (empty when nothing is buffered) marks
    // the close as a write under way until its Commit.
    if (journal) journal_records();
    write_rows();
    params.write_through(n_tasks);
    const bool final_file = journal && every_task_done();
    closed = true;
    // Datasets and groups first: the file closes for real only once nothing in it is open.
    params = {};
    columns.clear();
    tasks = {};
    nodes_dataset.reset();
    results_group.reset();
    file.close();
    if (!journal) return;
    journal_commit();
    journal.close();
    // Every task done: nothing will write the file again, so it needs no journal.
    if (final_file) store::remove_journal_file(journal.path());
}

void ResultStore::Impl::write_params_slice() {
    if (params.done()) return;
    const Clock::time_point now = Clock::now();
    if (now < next_params_slice) return;
    params.write_block();
    next_params_slice = Clock::now() + 9 * (Clock::now() - now);
}

// ---- public interface --------------------------------------------------------------------

ResultStore::ResultStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultStore::ResultStore(ResultStore&&) noexcept = default;
ResultStore& ResultStore::operator=(ResultStore&& other) noexcept {
    if (this != &other) {
        ResultStore old(std::move(*this));  // flushes and closes what this held
        impl_ = std::move(other.impl_);
    }
    return *this;
}

ResultStore::~ResultStore() {
    if (!impl_ || impl_->closed) return;
    try {
        impl_->finish();
    } catch (const std::exception& e) {
        std::cerr << "mpisweep: could not finish writing '" << impl_->path << "': " << e.what() << '\n';
    } catch (...) {
        std::cerr << "mpisweep: could not finish writing '" << impl_->path << "'\n";
    }
}

ResultStore ResultStore::create(const Grid& grid, const StoreOptions& options) {
    h5::silence_automatic_error_printing();
    const std::string& path = options.path;
    if (path.empty()) throw StoreError("results file: expected a path, got ''");
    if (grid.size() == 0) throw StoreError("cannot create '" + path + "': the grid has no tasks");
    if (is_directory(path)) throw StoreError("results file '" + path + "' is a folder: expected a file path");
    if (path_exists(path) && !options.overwrite)
        throw StoreError("results file '" + path +
                         "' already exists: use --resume to continue it or --force to replace it");
    store::JournalHeader header;
    header.n_tasks = grid.size();
    header.file_id = store::new_journal_id();
    header.since_creation = true;
    header.mpi_size = options.mpi_size;
    header.created = store::utc_timestamp();
    header.spec = grid.to_json();
    header.command = options.command;
    {
        store::PendingFile pending(path);
        try {
            store::write_new_file(pending.path(), grid, identity_of(header));
        } catch (const h5::H5Error& e) {
            throw StoreError("cannot create results file '" + path + "': " + e.what());
        }
        pending.commit();
    }
    // After the file: a kill in between leaves an old journal whose id does not match the
    // new file (ignored and replaced on resume) or none (the file has no rows yet).
    const std::string journal_path = store::journal_path_of(path);
    store::create_journal_file(journal_path, header);
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    impl->n_tasks = grid.size();
    impl->open(path);
    impl->start_params(grid);
    impl->journal = store::JournalWriter(journal_path, store::encode_header(header).size());
    return ResultStore(std::move(impl));
}

namespace {

std::string not_resumable(const std::string& path, const std::string& why) {
    return "cannot resume from '" + path + "': " + why;
}

// The journal beside `path`, if there is one that can be read. A damaged header means the
// file is not ours to use: say so and carry on without it.
std::optional<store::JournalScan> scan_existing_journal(const std::string& journal_path,
                                                        std::optional<std::string>& bytes) {
    bytes = store::read_whole_file(journal_path);
    if (!bytes) return std::nullopt;
    try {
        return store::scan_journal(*bytes);
    } catch (const store::JournalError& e) {
        std::cerr << "mpisweep: ignoring '" << journal_path << "' (" << e.what()
                  << "); a new journal replaces it\n";
        return std::nullopt;
    }
}

}  // namespace

// Writes a fresh file from `grid` beside `path`, replays every record of the journal into it
// in order, and renames it onto `path`: the torn file's settled rows all come back.
void ResultStore::Impl::rebuild_from_journal(const Grid& grid, const StoreOptions& options,
                                             const store::JournalScan& scan) {
    store::PendingFile pending(options.path);
    store::write_new_file(pending.path(), grid, identity_of(scan.header));
    Impl replay;
    replay.path = pending.path();
    replay.options = options;
    replay.n_tasks = grid.size();
    replay.open(pending.path());
    replay.start_params(grid);
    std::vector<TaskRecord> records;
    constexpr std::size_t kReplayRows = 65536;
    for (const store::FrameInfo& frame : scan.frames) {
        if (frame.kind != store::FrameKind::Records) continue;
        records.clear();
        store::decode_records(frame.payload, records);
        for (TaskRecord& record : records) replay.add(record);
        if (replay.batch.size() >= kReplayRows) replay.write_rows();
    }
    replay.finish();
    pending.commit();
}

ResultStore ResultStore::open_for_resume(const Grid& grid, const StoreOptions& options) {
    h5::silence_automatic_error_printing();
    const std::string& path = options.path;
    if (!path_exists(path))
        throw StoreError("cannot resume from '" + path +
                         "': no such file (leave out --resume to start a new sweep)");
    const std::string journal_path = store::journal_path_of(path);
    std::optional<std::string> journal_bytes;
    std::optional<store::JournalScan> scan = scan_existing_journal(journal_path, journal_bytes);
    if (scan) {
        std::string difference = store::describe_spec_difference(scan->header.spec, grid.to_json());
        if (difference.empty() && scan->header.n_tasks != grid.size())
            difference = "it holds " + std::to_string(scan->header.n_tasks) + " tasks, this grid has " +
                         std::to_string(grid.size());
        if (!difference.empty())
            throw StoreError(not_resumable(path, "its journal '" + journal_path +
                                                     "' was made by a different grid: " + difference +
                                                     " (give the same parameters to resume, or --force "
                                                     "to start over)"));
    }

    // The file as it is; an error here may be a torn file that the journal repairs.
    std::unique_ptr<Impl> impl;
    std::string open_error;
    std::uint64_t file_journal_id = 0;
    try {
        impl = Impl::open_existing(grid, options);
        file_journal_id = store::read_journal_id(impl->file.get());
    } catch (const UnreadableFile& e) {
        if (!scan) throw;
        open_error = e.what();
    }
    if (impl && scan && file_journal_id != scan->header.file_id) {
        // The journal of another file at this path (a --force run killed between its two
        // renames): it says nothing about this file.
        std::cerr << "mpisweep: '" << journal_path << "' belongs to another results file; replacing it\n";
        scan.reset();
    }

    if (scan && (!impl || !scan->settled_in_file())) {
        if (!scan->header.since_creation) {
            if (!impl)
                throw StoreError(not_resumable(path, open_error + "; its journal '" + journal_path +
                                                         "' started after rows were already written, so "
                                                         "the file cannot be rebuilt from it"));
            // The journal covers this file's rows written since it started: replay it on top.
            for (const store::FrameInfo& frame : scan->frames) {
                if (frame.kind != store::FrameKind::Records) continue;
                std::vector<TaskRecord> records;
                store::decode_records(frame.payload, records);
                for (TaskRecord& record : records) impl->add(record);
            }
            impl->write_rows();
            H5_CHECK(H5Fflush, impl->file.get(), H5F_SCOPE_GLOBAL);
        } else {
            const bool was_open = impl != nullptr;
            impl.reset();  // closes the torn file before it is replaced
            std::cerr << "mpisweep: '" << path << "' "
                      << (was_open ? "was killed in the middle of a write"
                                   : "cannot be read (" + open_error + ")")
                      << "; rebuilding it from its journal '" << journal_path << "'\n";
            try {
                Impl::rebuild_from_journal(grid, options, *scan);
            } catch (const StoreError&) {
                throw;
            } catch (const std::exception& e) {
                throw StoreError(
                    not_resumable(path, std::string("rebuilding it from its journal failed: ") + e.what()));
            }
            impl = Impl::open_existing(grid, options);
        }
        impl->journal = store::JournalWriter(journal_path, scan->valid_end);
        impl->journal_commit();
        return ResultStore(std::move(impl));
    }
    if (scan) {
        impl->journal = store::JournalWriter(journal_path, scan->valid_end);
        return ResultStore(std::move(impl));
    }

    // No journal (a file from before journals, or one created but killed before its journal
    // was): start one. It can rebuild the file only if no row was written before it.
    if (!impl) throw StoreError(open_error);
    store::JournalHeader header;
    header.n_tasks = grid.size();
    header.file_id = store::new_journal_id();
    const std::uint64_t settled = impl->rows_done_at_open + impl->rows_failed_at_open;
    header.since_creation = settled == 0;
    hid_t file = impl->file.get();
    header.mpi_size = h5::has_attribute(file, "mpi_size")
                          ? static_cast<std::int32_t>(h5::read_int64_attribute(file, "mpi_size"))
                          : options.mpi_size;
    header.created = h5::has_attribute(file, "created") ? h5::read_string_attribute(file, "created")
                                                        : store::utc_timestamp();
    header.spec = grid.to_json();
    header.command =
        h5::has_attribute(file, "command") ? h5::read_string_attribute(file, "command") : options.command;
    store::write_journal_id(file, header.file_id);
    H5_CHECK(H5Fflush, file, H5F_SCOPE_GLOBAL);
    store::create_journal_file(journal_path, header);
    if (settled > 0 && impl->rows_done_at_open < impl->n_tasks)
        std::cerr << "mpisweep: '" << path << "' has no journal (made by an older mpisweep); a new one is "
                  << "started, but if this run is killed in the middle of a write, the " << settled
                  << " rows written before cannot be rebuilt\n";
    impl->journal = store::JournalWriter(journal_path, store::encode_header(header).size());
    return ResultStore(std::move(impl));
}

std::unique_ptr<ResultStore::Impl> ResultStore::Impl::open_existing(const Grid& grid,
                                                                    const StoreOptions& options) {
    const std::string& path = options.path;
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        (void)h5::take_error_stack();
        throw UnreadableFile("'" + path + "' is not an mpisweep results file (not an HDF5 file)");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    impl->n_tasks = grid.size();
    try {
        impl->file = h5::File(H5_CHECK(H5Fopen, path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    } catch (const h5::H5Error& e) {
        throw UnreadableFile("cannot open results file '" + path + "' for writing: " + e.what());
    }
    // Another grid or not an mpisweep file: the file speaks for itself, nothing is touched.
    store::check_same_sweep(impl->file.get(), grid, path);
    try {
        impl->open(path);
        impl->load_results_columns();
        impl->load_nodes();
        impl->load_failed_rows();
        impl->start_params(grid);
    } catch (const std::exception& e) {
        throw UnreadableFile("cannot resume from '" + path +
                             "': it is not a complete mpisweep results file (" + e.what() + ")");
    }
    return impl;
}

std::vector<TaskStatus> ResultStore::statuses() const {
    if (!impl_) throw StoreError("results store was moved from");
    impl_->check_open();
    std::vector<TaskStatus> statuses(impl_->n_tasks, TaskStatus::Pending);
    static_assert(sizeof(TaskStatus) == sizeof(std::int8_t));
    for (hsize_t first = 0; first < impl_->n_tasks; first += kStatusBlockRows) {
        hsize_t count = std::min<hsize_t>(kStatusBlockRows, impl_->n_tasks - first);
        read_rows(impl_->tasks.status.get(), impl_->status_type.get(), first, count, statuses.data() + first);
    }
    const Impl::Batch& batch = impl_->batch;
    for (std::size_t i = 0; i < batch.size(); ++i)
        statuses[batch.ids[i]] = static_cast<TaskStatus>(batch.status[i]);
    return statuses;
}

std::uint64_t ResultStore::size() const {
    return impl_ ? impl_->n_tasks : 0;
}

void ResultStore::record(TaskRecord record) {
    if (!impl_) throw StoreError("results store was moved from");
    Impl& s = *impl_;
    s.validate(record);
    // Absolute attempts: the journal's records then replay the same whatever the file holds.
    if (!s.prior_attempts.empty()) {
        auto prior = s.prior_attempts.find(record.id.value());
        if (prior != s.prior_attempts.end()) record.attempts += prior->second;
    }
    s.stage(record);
    if (s.batch.size() >= std::max<std::size_t>(1, s.options.flush_rows)) s.write_buffer();
}

void ResultStore::maybe_flush() {
    if (!impl_ || impl_->closed) return;
    impl_->write_params_slice();
    if (impl_->batch.empty()) return;
    if (Clock::now() - impl_->oldest_buffered >= impl_->options.flush_interval) impl_->write_buffer();
}

void ResultStore::flush() {
    if (!impl_) throw StoreError("results store was moved from");
    impl_->check_open();
    impl_->write_buffer();
}

void ResultStore::close() {
    if (!impl_) return;
    impl_->finish();
}

const std::string& ResultStore::path() const {
    static const std::string none;
    return impl_ ? impl_->path : none;
}

}  // namespace mpisweep
