#include "store/staging.hpp"

#include <algorithm>

#include "grid/utf8.hpp"

namespace mpisweep::store {

void NodeTable::load(std::vector<std::string> names) {
    names_ = std::move(names);
    index_.clear();
    for (std::size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<std::int32_t>(i));
    written_ = names_.size();
    last_ = -1;
}

std::int32_t NodeTable::find(const std::string& host) {
    if (host.empty()) return -1;
    // Look up first: emplace would build (allocate) a node per record only to drop it.
    if (const auto it = index_.find(host); it != index_.end()) return last_ = it->second;
    const auto index = static_cast<std::int32_t>(names_.size());
    index_.emplace(host, index);
    names_.push_back(host);
    return last_ = index;
}

void TaskRows::resize_columns(std::size_t rows) {
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

void Staging::add_column(std::string name, ColumnType type) {
    column_index_.emplace(name, columns.size());
    columns.push_back(ResultColumn{std::move(name), type, {}});
}

namespace {

// HDF5 strings are UTF-8 and end at the first NUL: a result string that is not UTF-8 or
// holds a NUL would come back cut or unreadable, so the record is refused (a failed attempt).
void check_result_text(const std::string& name, const std::string& text) {
    if (const std::size_t nul = text.find('\0'); nul != std::string::npos)
        throw StoreError("result field '" + name + "' holds a NUL byte at offset " + std::to_string(nul) +
                         ": the file's strings end at NUL and it would be cut; return text without NUL "
                         "(or the bytes as an array of numbers)");
    if (const auto bad = detail::first_invalid_utf8(text))
        throw StoreError(
            "result field '" + name + "' is not valid UTF-8 (" + detail::describe_invalid_utf8(text, *bad) +
            "): the file's strings are UTF-8; return text (or the bytes as an array of numbers)");
}

}  // namespace

void Staging::validate_fields(const FieldView* given, std::size_t n_fields) {
    field_count_ = 0;
    if (fields_.size() < n_fields) fields_.resize(n_fields, Field{FieldView{}, kNewColumn});
    Field* field = fields_.data();
    for (std::size_t k = 0; k < n_fields; ++k) {
        const std::string& name = *given[k].name;
        const ResultView& value = given[k].value;
        field->view = given[k];
        std::size_t c = field->column;
        ++field;
        if (value.kind == ResultView::Kind::String) check_result_text(name, *value.text);
        // The usual case: the previous record's column for this field, and a value that fits.
        // (Its name was checked when the column was made.)
        if (c < columns.size() && same_text(columns[c].name, name) && value_fits(value, columns[c].type))
            continue;
        if (c >= columns.size() || !same_text(columns[c].name, name)) {
            check_field_name(name, "result field");
            const auto it = column_index_.find(name);
            c = it == column_index_.end() ? kNewColumn : it->second;
        }
        const ColumnType type = column_type_of(value);
        if (c != kNewColumn) {
            const ColumnType column = columns[c].type;
            if (!fits(type, column) && !widens(type, column))
                throw StoreError("result field '" + name + "' is " + describe(type) +
                                 ", but column /results/" + name + " holds " + describe(column) +
                                 " (fixed by its first value)");
        }
        (field - 1)->column = c;
    }
    field_count_ = n_fields;
}

void Staging::stage(const RowView& row) {
    const std::uint64_t id = row.id.value();
    const std::size_t position = rows.add_row();
    if (position > 0 && id <= rows.ids[position - 1]) rows.ascending = false;
    rows.ids[position] = id;
    rows.status[position] = static_cast<std::int8_t>(row.status);
    rows.attempts[position] = row.attempts;
    rows.worker[position] = row.worker;
    rows.device[position] = row.device;
    rows.node[position] = row.node != nullptr ? nodes.index_of(*row.node) : -1;
    rows.start[position] = row.start;
    rows.wall_s[position] = row.wall_s;
    rows.exit_code[position] = row.exit_code;
    if (row.status == TaskStatus::Failed)
        rows.errors.emplace_back(position, row.error != nullptr ? *row.error : std::string());
    for (std::size_t k = 0; k < field_count_; ++k) stage_value(position, fields_[k]);
}

void Staging::stage_value(std::size_t position, Field& field) {
    const ResultView& value = field.view.value;
    std::size_t& c = field.column;
    if (c == kNewColumn) {
        c = columns.size();
        add_column(*field.view.name, column_type_of(value));
    }
    ResultColumn& column = columns[c];
    StagedValues& staged = column.staged;
    staged.positions.push_back(static_cast<std::uint32_t>(position));
    switch (value.kind) {
        case ResultView::Kind::Float:
            staged.doubles.push_back(value.number);
            break;
        case ResultView::Kind::Int:
            if (column.type.kind == ColumnType::Kind::Float)
                staged.doubles.push_back(static_cast<double>(value.integer));
            else
                staged.ints.push_back(value.integer);
            break;
        case ResultView::Kind::String:
            staged.strings.push_back(*value.text);
            value_bytes += value.text->size();
            break;
        case ResultView::Kind::Bool:
            staged.bools.push_back(value.integer != 0 ? 1 : 0);
            break;
        default:
            if (column.type.kind == ColumnType::Kind::Array && value.count != column.type.width)
                widen(column);
            staged.doubles.insert(staged.doubles.end(), value.values, value.values + value.count);
            if (column.type.kind == ColumnType::Kind::List) staged.ends.push_back(staged.doubles.size());
            value_bytes += value.count * sizeof(double);
            return;
    }
    value_bytes += sizeof(double);
}

// The column's arrays so far were all of its width; from now on they may be of any length.
void Staging::widen(ResultColumn& column) {
    const std::size_t width = column.type.width;
    StagedValues& staged = column.staged;
    staged.ends.clear();
    for (std::size_t e = 1; e <= staged.positions.size() - 1; ++e) staged.ends.push_back(e * width);
    column.type = ColumnType{ColumnType::Kind::List, 0};
    column.widened = true;
}

namespace {

constexpr std::size_t kDropped = std::numeric_limits<std::size_t>::max();

// The staged values of one column, reordered: `rank` gives each old record position its new
// one (kDropped for a record replaced by a later one of its id).
StagedValues reorder(StagedValues& old, const std::vector<std::size_t>& rank, ColumnType type) {
    std::vector<std::size_t> entries;  // into old, of kept records, in row order
    for (std::size_t e = 0; e < old.positions.size(); ++e)
        if (rank[old.positions[e]] != kDropped) entries.push_back(e);
    std::sort(entries.begin(), entries.end(),
              [&](std::size_t a, std::size_t b) { return rank[old.positions[a]] < rank[old.positions[b]]; });
    StagedValues fresh;
    auto copy_doubles = [&](std::size_t begin, std::size_t end) {
        fresh.doubles.insert(fresh.doubles.end(), old.doubles.begin() + static_cast<std::ptrdiff_t>(begin),
                             old.doubles.begin() + static_cast<std::ptrdiff_t>(end));
    };
    for (std::size_t e : entries) {
        fresh.positions.push_back(static_cast<std::uint32_t>(rank[old.positions[e]]));
        switch (type.kind) {
            case ColumnType::Kind::Int:
                fresh.ints.push_back(old.ints[e]);
                break;
            case ColumnType::Kind::Bool:
                fresh.bools.push_back(old.bools[e]);
                break;
            case ColumnType::Kind::String:
                fresh.strings.push_back(std::move(old.strings[e]));
                break;
            case ColumnType::Kind::List:
                copy_doubles(old.begin_of(e), old.ends[e]);
                fresh.ends.push_back(fresh.doubles.size());
                break;
            case ColumnType::Kind::Array:
                copy_doubles(e * type.width, (e + 1) * type.width);
                break;
            case ColumnType::Kind::Float:
                copy_doubles(e, e + 1);
        }
    }
    return fresh;
}

// Rows [begin, end) of the staging, in the order they are to be written.
struct Span {
    std::size_t begin, end;
};

// The rows in id order as spans, when the runs of consecutive ids as they arrived (a report
// batch holds one or a few) do not overlap: sorted by their first id they are then the
// order, found in O(runs log runs). Empty when two overlap (an id recorded twice).
std::vector<Span> runs_in_id_order(const TaskRows& rows) {
    struct IdRun {
        RowId first, last;
        Span rows;
    };
    std::vector<IdRun> runs;
    std::size_t begin = 0;
    for (std::size_t i = 1; i <= rows.n; ++i) {
        if (i < rows.n && rows.ids[i] == rows.ids[i - 1] + 1) continue;
        runs.push_back(IdRun{rows.ids[begin], rows.ids[i - 1], Span{begin, i}});
        begin = i;
    }
    std::sort(runs.begin(), runs.end(), [](const IdRun& a, const IdRun& b) { return a.first < b.first; });
    std::vector<Span> spans;
    spans.reserve(runs.size());
    for (std::size_t k = 0; k < runs.size(); ++k) {
        if (k > 0 && runs[k].first <= runs[k - 1].last) return {};
        spans.push_back(runs[k].rows);
    }
    return spans;
}

// The general case (ids repeated, a copy recorded twice): the rows sorted by (id, arrival),
// the last record of each id kept, neighbours in the staging joined into one span.
std::vector<Span> kept_in_id_order(const TaskRows& rows) {
    std::vector<std::pair<RowId, std::size_t>> keyed(rows.n);
    for (std::size_t i = 0; i < rows.n; ++i) keyed[i] = {rows.ids[i], i};
    std::sort(keyed.begin(), keyed.end());  // by id, then arrival: the last of an id is last
    std::vector<Span> spans;
    for (std::size_t i = 0; i < rows.n; ++i) {
        if (i + 1 < rows.n && keyed[i + 1].first == keyed[i].first) continue;
        const std::size_t b = keyed[i].second;
        if (!spans.empty() && spans.back().end == b)
            ++spans.back().end;
        else
            spans.push_back(Span{b, b + 1});
    }
    return spans;
}

template <class T>
void copy_run(const HugePageVector<T>& from, HugePageVector<T>& to, std::size_t begin, std::size_t end,
              std::size_t at) {
    std::copy(from.begin() + static_cast<std::ptrdiff_t>(begin),
              from.begin() + static_cast<std::ptrdiff_t>(end), to.begin() + static_cast<std::ptrdiff_t>(at));
}

// Copies rows [begin, end) of `from` to positions from `at` of `to`.
void copy_rows(const TaskRows& from, TaskRows& to, std::size_t begin, std::size_t end, std::size_t at) {
    copy_run(from.ids, to.ids, begin, end, at);
    copy_run(from.status, to.status, begin, end, at);
    copy_run(from.attempts, to.attempts, begin, end, at);
    copy_run(from.worker, to.worker, begin, end, at);
    copy_run(from.device, to.device, begin, end, at);
    copy_run(from.node, to.node, begin, end, at);
    copy_run(from.start, to.start, begin, end, at);
    copy_run(from.wall_s, to.wall_s, begin, end, at);
    copy_run(from.exit_code, to.exit_code, begin, end, at);
}

}  // namespace

void Staging::sort() {
    const std::size_t n = rows.size();
    // The new position of each old one (kDropped: replaced by a later record of its id),
    // for the errors and the result columns; the /tasks columns are copied by runs.
    std::vector<std::size_t> rank;
    const bool ranks_needed = !rows.errors.empty() || has_staged_results();
    if (ranks_needed) rank.assign(n, kDropped);
    // The sorted rows go to a second set of columns kept between flushes: no allocation and
    // no zeroing of fresh memory per flush.
    TaskRows& sorted = sort_scratch_;
    sorted.clear();
    if (sorted.ids.size() < n) sorted.resize_columns(n);
    std::vector<Span> spans = runs_in_id_order(rows);
    if (spans.empty()) spans = kept_in_id_order(rows);
    for (const Span& span : spans) {
        copy_rows(rows, sorted, span.begin, span.end, sorted.n);
        if (ranks_needed)
            for (std::size_t b = span.begin; b < span.end; ++b) rank[b] = sorted.n + (b - span.begin);
        sorted.n += span.end - span.begin;
    }
    for (auto& [position, message] : rows.errors)
        if (rank[position] != kDropped) sorted.errors.emplace_back(rank[position], std::move(message));
    std::sort(sorted.errors.begin(), sorted.errors.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::swap(rows, sorted);
    for (ResultColumn& column : columns)
        if (!column.staged.positions.empty()) column.staged = reorder(column.staged, rank, column.type);
}

void Staging::clear() {
    rows.clear();
    value_bytes = 0;
    for (ResultColumn& column : columns) column.staged.clear();
}

}  // namespace mpisweep::store
