#include "cli/journal_overlay.hpp"

#include <cmath>
#include <limits>
#include <unordered_map>

#include "mpisweep/spec.hpp"
#include "store/journal_file.hpp"

namespace mpisweep::cli {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Column empty_result_column(const std::string& name, const ResultValue& value, std::size_t rows) {
    Column column;
    column.name = name;
    switch (value.index()) {
        case 0:
            column.kind = Column::Kind::Float;
            column.floats.assign(rows, kNaN);
            break;
        case 1:
            column.kind = Column::Kind::Int;
            column.ints.assign(rows, 0);
            break;
        case 2:
            column.kind = Column::Kind::String;
            column.strings.assign(rows, "");
            break;
        default:
            column.kind = Column::Kind::FloatArray;
            column.width = std::get<std::vector<double>>(value).size();
            column.floats.assign(rows * column.width, kNaN);
    }
    return column;
}

void set_value(Column& column, std::size_t row, const ResultValue& value) {
    switch (value.index()) {
        case 0:
            if (column.kind == Column::Kind::Float) column.floats.at(row) = std::get<double>(value);
            break;
        case 1:
            if (column.kind == Column::Kind::Int) column.ints.at(row) = std::get<std::int64_t>(value);
            if (column.kind == Column::Kind::Float)
                column.floats.at(row) = static_cast<double>(std::get<std::int64_t>(value));
            break;
        case 2:
            if (column.kind == Column::Kind::String) column.strings.at(row) = std::get<std::string>(value);
            break;
        default: {
            const auto& array = std::get<std::vector<double>>(value);
            if (column.kind == Column::Kind::FloatArray && array.size() == column.width)
                for (std::size_t j = 0; j < array.size(); ++j)
                    column.floats.at(row * column.width + j) = array[j];
        }
    }
}

}  // namespace

std::uint64_t JournalView::committed_end() const {
    return scan.last_commit ? scan.frames[*scan.last_commit].end : 0;
}

std::optional<JournalView> read_journal_view(const std::string& results_path) {
    try {
        std::optional<std::string> bytes = store::read_whole_file(store::journal_path_of(results_path));
        if (!bytes) return std::nullopt;
        JournalView view;
        view.bytes = std::move(*bytes);
        view.scan = store::scan_journal(view.bytes);
        return view;
    } catch (const std::exception&) {
        return std::nullopt;  // unreadable: the file alone is what there is
    }
}

ResultsFile results_from_journal_header(const std::string& path, const store::JournalHeader& header) {
    const Grid grid = parse_grid_json(header.spec);
    const auto n = static_cast<std::size_t>(grid.size());
    ResultsFile out;
    out.path = path;
    out.command = header.command;
    out.created = header.created;
    out.spec = header.spec;
    out.mpi_size = header.mpi_size;
    out.n_tasks = grid.size();
    out.journal_id = header.file_id;
    for (const Axis& axis : grid.axes()) {
        Column column;
        column.name = axis.name();
        switch (axis.type()) {
            case ValueType::Int:
                column.kind = Column::Kind::Int;
                column.ints.resize(n);
                break;
            case ValueType::Float:
                column.kind = Column::Kind::Float;
                column.floats.resize(n);
                break;
            case ValueType::String:
                column.kind = Column::Kind::String;
                column.strings.resize(n);
                break;
            case ValueType::Bool:
                column.kind = Column::Kind::Bool;
                column.ints.resize(n);
                break;
        }
        out.params.push_back(std::move(column));
    }
    std::vector<Value> values;
    for (std::size_t row = 0; row < n; ++row) {
        grid.decode(TaskId(row), values);
        for (std::size_t a = 0; a < values.size(); ++a) {
            Column& c = out.params[a];
            const Value& v = values[a];
            switch (c.kind) {
                case Column::Kind::Int:
                    c.ints[row] = std::get<std::int64_t>(v);
                    break;
                case Column::Kind::Float:
                    c.floats[row] =
                        v.index() == 0 ? static_cast<double>(std::get<std::int64_t>(v)) : std::get<double>(v);
                    break;
                case Column::Kind::String:
                    c.strings[row] = std::get<std::string>(v);
                    break;
                case Column::Kind::Bool:
                    c.ints[row] = std::get<bool>(v) ? 1 : 0;
                    break;
                case Column::Kind::FloatArray:
                    break;
            }
        }
    }
    out.status.assign(n, RowStatus::Pending);
    out.attempts.assign(n, 0);
    out.worker.assign(n, -1);
    out.device.assign(n, -1);
    out.node.assign(n, -1);
    out.exit_code.assign(n, 0);
    out.start.assign(n, kNaN);
    out.wall_s.assign(n, kNaN);
    out.error.assign(n, "");
    return out;
}

std::size_t overlay_journal(ResultsFile& file, const JournalView& journal, std::uint64_t from) {
    std::unordered_map<std::string, std::size_t> column_of;
    for (std::size_t c = 0; c < file.results.size(); ++c) column_of.emplace(file.results[c].name, c);
    std::unordered_map<std::string, std::int32_t> node_of;
    for (std::size_t i = 0; i < file.nodes.size(); ++i)
        node_of.emplace(file.nodes[i], static_cast<std::int32_t>(i));
    const std::size_t n = file.status.size();
    std::size_t applied = 0;
    std::vector<TaskRecord> records;
    for (const store::FrameInfo& frame : journal.scan.frames) {
        if (frame.kind != store::FrameKind::Records || frame.offset < from) continue;
        records.clear();
        store::decode_records(frame.payload, records);
        for (const TaskRecord& r : records) {
            const auto row = static_cast<std::size_t>(r.id.value());
            if (row >= n) continue;
            file.status[row] = static_cast<RowStatus>(r.status);
            file.attempts[row] = r.attempts;
            file.worker[row] = r.worker;
            file.device[row] = r.device;
            file.start[row] = r.start;
            file.wall_s[row] = r.wall_s;
            file.exit_code[row] = r.exit_code;
            file.error[row] = r.error;
            if (r.node.empty()) {
                file.node[row] = -1;
            } else {
                auto [it, added] = node_of.emplace(r.node, static_cast<std::int32_t>(file.nodes.size()));
                if (added) file.nodes.push_back(r.node);
                file.node[row] = it->second;
            }
            for (const auto& [name, value] : r.results) {
                auto [it, added] = column_of.emplace(name, file.results.size());
                if (added) file.results.push_back(empty_result_column(name, value, n));
                set_value(file.results[it->second], row, value);
            }
            ++applied;
        }
    }
    return applied;
}

}  // namespace mpisweep::cli
