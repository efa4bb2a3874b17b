#include "store/results_file_rows.hpp"

#include <algorithm>
#include <vector>

#include "store/h5_types.hpp"
#include "store/result_columns.hpp"
#include "store/status_walk.hpp"

namespace mpisweep::store {

namespace {

// The settled rows of one block of rows: [first, first + count), picks relative to first.
struct Block {
    hsize_t first = 0;
    hsize_t count = 0;
    std::vector<std::size_t> picks;
};

// Selects the block's rows (all columns of a 2-D dataset) in the dataset's own space.
struct Selection {
    h5::Dataspace file, memory;
    Selection(hid_t dataset, const Block& block, hsize_t width = 0) {
        file = h5::Dataspace(H5_CHECK(H5Dget_space, dataset));
        hsize_t start[2] = {block.first, 0}, count[2] = {block.count, width};
        H5_CHECK(H5Sselect_hyperslab, file.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
        memory = h5::Dataspace(H5_CHECK(H5Screate_simple, width > 0 ? 2 : 1, count, nullptr));
    }
};

template <class T>
void read_picked(hid_t dataset, hid_t memory_type, const Block& block, std::vector<T>& out,
                 hsize_t width = 1) {
    std::vector<T> buffer(block.count * width);
    Selection s(dataset, block, width > 1 ? width : 0);
    H5_CHECK(H5Dread, dataset, memory_type, s.memory.get(), s.file.get(), H5P_DEFAULT, buffer.data());
    for (std::size_t p : block.picks)
        out.insert(out.end(), buffer.begin() + static_cast<std::ptrdiff_t>(p * width),
                   buffer.begin() + static_cast<std::ptrdiff_t>((p + 1) * width));
}

void read_picked_strings(hid_t dataset, const Block& block, std::vector<std::string>& out) {
    h5::Datatype stored(H5_CHECK(H5Dget_type, dataset));
    Selection s(dataset, block);
    if (H5_CHECK(H5Tis_variable_str, stored.get()) <= 0) {  // fixed-length (not written by mpisweep)
        const std::size_t size = H5Tget_size(stored.get());
        std::vector<char> buffer(block.count * size);
        H5_CHECK(H5Dread, dataset, stored.get(), s.memory.get(), s.file.get(), H5P_DEFAULT, buffer.data());
        for (std::size_t p : block.picks) {
            const char* at = buffer.data() + p * size;
            out.emplace_back(at, std::find(at, at + size, '\0'));
        }
        return;
    }
    h5::Datatype text = h5::vlen_utf8_string();
    std::vector<char*> buffer(block.count, nullptr);
    H5_CHECK(H5Dread, dataset, text.get(), s.memory.get(), s.file.get(), H5P_DEFAULT, buffer.data());
    for (std::size_t p : block.picks) out.emplace_back(buffer[p] ? buffer[p] : "");
    (void)H5Dvlen_reclaim(text.get(), s.memory.get(), H5P_DEFAULT, buffer.data());
}

void read_picked_lists(hid_t dataset, const Block& block, std::vector<std::vector<double>>& out) {
    h5::Datatype list = h5::vlen_float64();
    Selection s(dataset, block);
    std::vector<hvl_t> buffer(block.count, hvl_t{0, nullptr});
    H5_CHECK(H5Dread, dataset, list.get(), s.memory.get(), s.file.get(), H5P_DEFAULT, buffer.data());
    for (std::size_t p : block.picks) {
        const auto* values = static_cast<const double*>(buffer[p].p);
        out.emplace_back(values, values + buffer[p].len);
    }
    (void)H5Dvlen_reclaim(list.get(), s.memory.get(), H5P_DEFAULT, buffer.data());
}

// An enum (bool, status) in its own native type: its values are the int8 codes (HDF5 does
// not convert an enum to a plain integer).
void read_picked_enum(hid_t dataset, const Block& block, std::vector<std::int64_t>& out) {
    h5::Datatype stored(H5_CHECK(H5Dget_type, dataset));
    h5::Datatype native(H5_CHECK(H5Tget_native_type, stored.get(), H5T_DIR_ASCEND));
    if (H5Tget_size(native.get()) != 1) throw DamagedFile("an enum dataset is not of 1 byte");
    std::vector<std::int8_t> codes;
    read_picked(dataset, native.get(), block, codes);
    out.insert(out.end(), codes.begin(), codes.end());
}

void read_column(hid_t dataset, const Block& block, ValueColumn& column) {
    switch (column.type.kind) {
        case ColumnType::Kind::Float:
            return read_picked(dataset, H5T_NATIVE_DOUBLE, block, column.doubles);
        case ColumnType::Kind::Array:
            return read_picked(dataset, H5T_NATIVE_DOUBLE, block, column.doubles, column.type.width);
        case ColumnType::Kind::Int:
            return read_picked(dataset, H5T_NATIVE_INT64, block, column.ints);
        case ColumnType::Kind::Bool:
            return read_picked_enum(dataset, block, column.ints);
        case ColumnType::Kind::String:
            return read_picked_strings(dataset, block, column.strings);
        case ColumnType::Kind::List:
            return read_picked_lists(dataset, block, column.lists);
    }
}

h5::Dataset open_dataset(hid_t file, const std::string& path) {
    if (!h5::link_exists(file, path.c_str())) throw DamagedFile("it has no dataset /" + path);
    return h5::Dataset(H5_CHECK(H5Dopen2, file, path.c_str(), H5P_DEFAULT));
}

std::vector<std::string> member_names(hid_t file, const char* group_name) {
    std::vector<std::string> names;
    h5::Group group(H5_CHECK(H5Gopen2, file, group_name, H5P_DEFAULT));
    h5::PropList creation(H5_CHECK(H5Gget_create_plist, group.get()));
    unsigned order_flags = 0;
    H5_CHECK(H5Pget_link_creation_order, creation.get(), &order_flags);
    const H5_index_t index = (order_flags & H5P_CRT_ORDER_TRACKED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
    };
    hsize_t position = 0;
    H5_CHECK(H5Literate, group.get(), index, H5_ITER_INC, &position, collect, &names);
    return names;
}

ColumnType param_column_type(ValueType type) {
    switch (type) {
        case ValueType::Int:
            return {ColumnType::Kind::Int, 0};
        case ValueType::Float:
            return {ColumnType::Kind::Float, 0};
        case ValueType::String:
            return {ColumnType::Kind::String, 0};
        case ValueType::Bool:
            return {ColumnType::Kind::Bool, 0};
    }
    return {};
}

// Every column of the file, opened, with the table's columns made for them.
struct Sources {
    h5::Dataset attempts, worker, device, node, exit_code, start, wall_s, error;
    std::vector<h5::Dataset> params, results;
};

Sources open_sources(hid_t file, ResultsSnapshot& out) {
    Sources s{open_dataset(file, "tasks/attempts"),
              open_dataset(file, "tasks/worker"),
              open_dataset(file, "tasks/device"),
              open_dataset(file, "tasks/node"),
              open_dataset(file, "tasks/exit_code"),
              open_dataset(file, "tasks/start"),
              open_dataset(file, "tasks/wall_s"),
              open_dataset(file, "tasks/error"),
              {},
              {}};
    for (const Axis& axis : out.grid.axes()) {
        s.params.push_back(open_dataset(file, "params/" + axis.name()));
        out.rows.params.push_back(ValueColumn{axis.name(), param_column_type(axis.type()), {}, {}, {}, {}});
    }
    if (!h5::link_exists(file, "results")) throw DamagedFile("it has no group /results");
    for (const std::string& name : member_names(file, "results")) {
        h5::Dataset dataset = open_dataset(file, "results/" + name);
        const std::optional<ColumnType> type = result_column_type(dataset.get(), out.n_tasks);
        if (!type) throw DamagedFile("/results/" + name + " is not a column mpisweep writes");
        out.rows.results.push_back(ValueColumn{name, *type, {}, {}, {}, {}});
        s.results.push_back(std::move(dataset));
    }
    return s;
}

void read_block(Sources& s, const Block& block, SettledTable& rows) {
    read_picked(s.attempts.get(), H5T_NATIVE_INT32, block, rows.attempts);
    read_picked(s.worker.get(), H5T_NATIVE_INT32, block, rows.worker);
    read_picked(s.device.get(), H5T_NATIVE_INT32, block, rows.device);
    read_picked(s.node.get(), H5T_NATIVE_INT32, block, rows.node);
    read_picked(s.exit_code.get(), H5T_NATIVE_INT32, block, rows.exit_code);
    read_picked(s.start.get(), H5T_NATIVE_DOUBLE, block, rows.start);
    read_picked(s.wall_s.get(), H5T_NATIVE_DOUBLE, block, rows.wall_s);
    read_picked_strings(s.error.get(), block, rows.error);
    for (std::size_t c = 0; c < s.params.size(); ++c) read_column(s.params[c].get(), block, rows.params[c]);
    for (std::size_t c = 0; c < s.results.size(); ++c)
        read_column(s.results[c].get(), block, rows.results[c]);
}

std::vector<std::string> read_nodes(hid_t file) {
    std::vector<std::string> nodes;
    if (!h5::link_exists(file, "nodes")) return nodes;
    h5::Dataset dataset(H5_CHECK(H5Dopen2, file, "nodes", H5P_DEFAULT));
    h5::Dataspace space(H5_CHECK(H5Dget_space, dataset.get()));
    Block all;
    all.count = static_cast<hsize_t>(H5_CHECK(H5Sget_simple_extent_npoints, space.get()));
    for (std::size_t i = 0; i < all.count; ++i) all.picks.push_back(i);
    if (all.count > 0) read_picked_strings(dataset.get(), all, nodes);
    return nodes;
}

}  // namespace

std::string short_reason(const h5::H5Error& error) {
    const std::string& stack = error.stack();
    const std::size_t last = stack.rfind("; ");
    std::string innermost = last == std::string::npos ? stack : stack.substr(last + 2);
    const std::size_t call = innermost.find("(): ");
    if (call != std::string::npos) innermost = innermost.substr(call + 4);
    return error.routine() + (innermost.empty() ? " failed" : ": " + innermost);
}

void read_settled_rows(hid_t file, ResultsSnapshot& out) {
    h5::Dataset status = open_dataset(file, "tasks/status");
    Sources sources = open_sources(file, out);
    out.nodes = read_nodes(file);
    SettledTable& rows = out.rows;
    Block block;
    walk_statuses(status.get(), [&](std::uint64_t first, const std::int8_t* codes, std::size_t count) {
        block.first = first;
        block.count = count;
        block.picks.clear();
        for (std::size_t i = 0; i < count; ++i) {
            if (codes[i] == static_cast<std::int8_t>(TaskStatus::Pending)) continue;
            if (codes[i] != static_cast<std::int8_t>(TaskStatus::Done) &&
                codes[i] != static_cast<std::int8_t>(TaskStatus::Failed))
                throw DamagedFile("/tasks/status of task " + std::to_string(first + i) + " is " +
                                  std::to_string(codes[i]) + ", not 0, 1 or 2");
            block.picks.push_back(i);
            rows.ids.push_back(first + i);
            rows.status.push_back(static_cast<TaskStatus>(codes[i]));
            (codes[i] == static_cast<std::int8_t>(TaskStatus::Done) ? out.done : out.failed) += 1;
        }
        if (!block.picks.empty()) read_block(sources, block, rows);
    });
}

}  // namespace mpisweep::store
