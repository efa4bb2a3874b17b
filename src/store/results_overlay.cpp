#include "store/results_overlay.hpp"

#include <unordered_map>

#include "mpisweep/spec.hpp"
#include "store/journal_file.hpp"

namespace mpisweep::store {

namespace {

ValueColumn param_column(const Axis& axis) {
    ColumnType type{ColumnType::Kind::Float, 0};
    if (axis.type() == ValueType::Int) type.kind = ColumnType::Kind::Int;
    if (axis.type() == ValueType::String) type.kind = ColumnType::Kind::String;
    if (axis.type() == ValueType::Bool) type.kind = ColumnType::Kind::Bool;
    return ValueColumn{axis.name(), type, {}, {}, {}, {}};
}

// Appends the params of task `id` (decoded from the grid) to the param columns.
void append_params(SettledTable& rows, const Grid& grid, std::uint64_t id, std::vector<Value>& values) {
    grid.decode(TaskId(id), values);
    for (std::size_t a = 0; a < values.size() && a < rows.params.size(); ++a) {
        ValueColumn& c = rows.params[a];
        const Value& v = values[a];
        switch (c.type.kind) {
            case ColumnType::Kind::Int:
                c.ints.push_back(std::get<std::int64_t>(v));
                break;
            case ColumnType::Kind::Float:
                c.doubles.push_back(v.index() == 0 ? static_cast<double>(std::get<std::int64_t>(v))
                                                   : std::get<double>(v));
                break;
            case ColumnType::Kind::String:
                c.strings.push_back(std::get<std::string>(v));
                break;
            default:
                c.ints.push_back(std::get<bool>(v) ? 1 : 0);
        }
    }
}

// Where records go: the row of a task (appended when new) and the host index of a node.
class Overlay {
public:
    explicit Overlay(ResultsSnapshot& snapshot) : s_(snapshot) {
        for (std::size_t c = 0; c < s_.rows.results.size(); ++c)
            column_of_.emplace(s_.rows.results[c].name, c);
        for (std::size_t i = 0; i < s_.nodes.size(); ++i)
            node_of_.emplace(s_.nodes[i], static_cast<std::int32_t>(i));
    }

    void apply(const TaskRecord& r) {
        SettledTable& rows = s_.rows;
        const std::size_t row = row_of(r.id.value());
        count(rows.status[row], -1);
        rows.status[row] = r.status;
        count(r.status, +1);
        rows.attempts[row] = r.attempts;
        rows.worker[row] = r.worker;
        rows.device[row] = r.device;
        rows.node[row] = node_index(r.node);
        rows.start[row] = r.start;
        rows.wall_s[row] = r.wall_s;
        rows.exit_code[row] = r.exit_code;
        rows.error[row] = r.error;
        for (const auto& [name, value] : r.results) {
            auto [it, added] = column_of_.emplace(name, rows.results.size());
            if (added) add_column(name, value);
            rows.results[it->second].set(row, value);  // a value that does not fit is left out
        }
    }

    void finish() {
        if (appended_) s_.rows.sort();
    }

private:
    std::size_t row_of(std::uint64_t id) {
        SettledTable& rows = s_.rows;
        if (auto it = new_rows_.find(id); it != new_rows_.end()) return it->second;
        const std::size_t found = rows.find(id);
        if (found != SettledTable::npos) return found;
        rows.append_row(id);
        append_params(rows, s_.grid, id, values_);
        appended_ = true;
        return new_rows_[id] = rows.size() - 1;
    }
    void count(TaskStatus status, int delta) {
        if (status == TaskStatus::Done) s_.done += static_cast<std::uint64_t>(delta);
        if (status == TaskStatus::Failed) s_.failed += static_cast<std::uint64_t>(delta);
    }
    std::int32_t node_index(const std::string& host) {
        if (host.empty()) return -1;
        auto [it, added] = node_of_.emplace(host, static_cast<std::int32_t>(s_.nodes.size()));
        if (added) s_.nodes.push_back(host);
        return it->second;
    }
    // A result the file has no column for yet: the column the file would make for it.
    void add_column(const std::string& name, const ResultValue& value) {
        ValueColumn column{name, column_type_of(value), {}, {}, {}, {}};
        for (std::size_t i = 0; i < s_.rows.size(); ++i) column.append_missing();
        s_.rows.results.push_back(std::move(column));
    }

    ResultsSnapshot& s_;
    std::unordered_map<std::string, std::size_t> column_of_;
    std::unordered_map<std::string, std::int32_t> node_of_;
    std::unordered_map<std::uint64_t, std::size_t> new_rows_;
    std::vector<Value> values_;
    bool appended_ = false;
};

}  // namespace

std::uint64_t JournalView::committed_end() const {
    return scan.committed_offset();
}

std::optional<JournalView> read_journal_view(const std::string& results_path) {
    const std::string path = journal_path_of(results_path);
    std::optional<std::string> bytes;
    try {
        bytes = read_whole_file(path);
    } catch (const StoreError& e) {
        throw UnreadableResults(e.what());
    }
    if (!bytes) return std::nullopt;
    JournalView view;
    view.bytes = std::move(*bytes);
    try {
        view.scan = scan_journal(view.bytes);
    } catch (const JournalError& e) {
        throw UnreadableResults(
            "the journal '" + path + "' beside '" + results_path + "' is damaged (" + e.what() +
            "), so results it holds and the file may not cannot be read: move it aside to "
            "read the file alone (its tasks then run again on 'mpisweep run --resume')");
    }
    return view;
}

ResultsSnapshot snapshot_from_journal_header(const std::string& path, const JournalHeader& header) {
    ResultsSnapshot out;
    out.path = path;
    out.command = header.command;
    out.created = header.created;
    out.spec = header.spec;
    out.mpi_size = header.mpi_size;
    out.journal_id = header.file_id;
    try {
        out.grid = parse_grid_json(header.spec);
    } catch (const std::exception& e) {
        throw UnreadableResults("the journal beside '" + path + "' holds no grid this mpisweep reads (" +
                                e.what() + ")");
    }
    out.n_tasks = out.grid.size();
    for (const Axis& axis : out.grid.axes()) out.rows.params.push_back(param_column(axis));
    return out;
}

std::size_t overlay_journal(ResultsSnapshot& snapshot, const JournalView& journal, std::uint64_t from) {
    Overlay overlay(snapshot);
    std::size_t applied = 0;
    std::vector<TaskRecord> records;
    for (const FrameInfo& frame : journal.scan.frames) {
        if (frame.kind != FrameKind::Records || frame.offset < from) continue;
        records.clear();
        try {
            decode_records(frame, records);
        } catch (const JournalError&) {
            break;  // its CRC matched, so not a torn write: read the journal up to it
        }
        for (const TaskRecord& r : records) {
            if (r.id.value() >= snapshot.n_tasks) continue;
            overlay.apply(r);
            ++applied;
        }
    }
    overlay.finish();
    return applied;
}

}  // namespace mpisweep::store
