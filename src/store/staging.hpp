#pragma once
// Ingestion: records checked against the /results columns and staged column by column for
// the next flush, so that a flush writes arrays already in row order. Nothing here touches
// HDF5; store/file_writer.hpp writes what is staged.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "platform/huge_pages.hpp"
#include "store/column_type.hpp"
#include "store/result_store.hpp"
#include "store/same_text.hpp"

namespace mpisweep::store {

/// The host names of /nodes: index = value in /tasks/node. Results come from a few hosts, so
/// most look-ups hit the last one, inline.
class NodeTable {
public:
    /// The index of `host` (-1 for ""), added when new.
    std::int32_t index_of(const std::string& host) {
        if (last_ >= 0 && same_text(names_[static_cast<std::size_t>(last_)], host)) return last_;
        return find(host);
    }
    /// Names read from the file (all written already).
    void load(std::vector<std::string> names);
    const std::vector<std::string>& names() const { return names_; }
    /// Names added since the last mark_written().
    std::size_t written() const { return written_; }
    void mark_written() { written_ = names_.size(); }

private:
    std::int32_t find(const std::string& host);
    std::vector<std::string> names_;
    std::unordered_map<std::string, std::int32_t> index_;
    std::size_t written_ = 0;
    std::int32_t last_ = -1;
};

/// Values of one column staged for the next flush, one entry per staged record that has one.
struct StagedValues {
    std::vector<std::uint32_t> positions;  ///< of those records in the batch, ascending
    std::vector<double> doubles;           ///< Float (ints converted), Array (width each), List
    std::vector<std::size_t> ends;         ///< List: where each entry's doubles end
    std::vector<std::int64_t> ints;
    std::vector<std::int8_t> bools;
    std::vector<std::string> strings;
    void clear() {
        positions.clear();
        doubles.clear();
        ends.clear();
        ints.clear();
        bools.clear();
        strings.clear();
    }
    /// List: where entry `e`'s doubles begin.
    std::size_t begin_of(std::size_t e) const { return e == 0 ? 0 : ends[e - 1]; }
};

/// One /results/<name> column: its type is fixed by the first value; an Array column that
/// sees an array of another length becomes a List (`widened` until the file's dataset is).
struct ResultColumn {
    std::string name;
    ColumnType type;
    StagedValues staged;
    bool widened = false;
};

/// A row of the file (a task id) as HDF5 selects it: hsize_t, checked in file_writer.cpp.
using RowId = unsigned long long;

/// The /tasks fields of the staged records, column by column in arrival order: written as
/// they are when the ids ascend (the usual case); otherwise Staging::sort() orders them
/// first. Each column holds at least n entries, sized ahead, so that adding a record is one
/// capacity check and plain stores.
struct TaskRows {
    std::size_t n = 0;
    // Up to flush_rows long, touched afresh by each run: huge pages (platform/huge_pages.hpp).
    HugePageVector<RowId> ids;
    HugePageVector<std::int8_t> status;
    HugePageVector<std::int32_t> attempts, worker, device, node, exit_code;
    HugePageVector<double> start, wall_s;
    std::vector<std::pair<std::size_t, std::string>> errors;  ///< (position, message) of failures
    bool ascending = true;  ///< ids strictly increasing: in row order, no id twice

    std::size_t size() const { return n; }
    bool empty() const { return n == 0; }
    /// The position of a new record, room made for it.
    std::size_t add_row() {
        if (n == ids.size()) resize_columns(std::max<std::size_t>(1024, 2 * n));
        return n++;
    }
    void resize_columns(std::size_t rows);
    void clear() {
        n = 0;
        errors.clear();
        ascending = true;
    }
};

/// The records of the next flush, and the result columns they go to.
class Staging {
public:
    /// Checks results against the columns without changing anything: throws StoreError for
    /// a bad field name or a value that does not fit its column (an array of another length
    /// fits: the column becomes variable-length when it is staged). Keeps the views (and the
    /// column of each) for stage().
    void validate(const FieldView* fields, std::size_t n_fields) {
        if (n_fields == 0) {
            field_count_ = 0;  // the usual row of an empty task: nothing to look at
            return;
        }
        validate_fields(fields, n_fields);
    }
    /// Stages a row whose results validate() accepted just before (the views must still
    /// point at them); creates the columns of new fields.
    void stage(const RowView& row);
    /// Puts the rows in id order, keeping only the last record of an id (its results too).
    void sort();
    /// Whether some staged row has a result value.
    bool has_staged_results() const {
        for (const ResultColumn& column : columns)
            if (!column.staged.positions.empty()) return true;
        return false;
    }
    /// Empties the rows and every column's staged values (the columns stay).
    void clear();

    /// A column found in the file on resume.
    void add_column(std::string name, ColumnType type);

    TaskRows rows;
    std::vector<ResultColumn> columns;
    NodeTable nodes;
    /// Bytes of result values staged (8 a number, a string's or an array's own): with wide
    /// results a flush comes before the rows count does.
    std::size_t value_bytes = 0;

private:
    // One result of the record being added: validate() fills these, stage() reads them, so
    // the record's map is walked once. `column` (kNewColumn: none yet) stays as the hint for
    // the next record, which usually has the same fields: a name compare then replaces a
    // hash look-up.
    struct Field {
        FieldView view;
        std::size_t column;
    };
    static constexpr std::size_t kNewColumn = std::numeric_limits<std::size_t>::max();
    void validate_fields(const FieldView* fields, std::size_t n_fields);
    void stage_value(std::size_t position, Field& field);
    static void widen(ResultColumn& column);

    std::unordered_map<std::string, std::size_t> column_index_;
    std::vector<Field> fields_;
    std::size_t field_count_ = 0;
    TaskRows sort_scratch_;  // sort()'s output columns, swapped with rows
};

}  // namespace mpisweep::store
