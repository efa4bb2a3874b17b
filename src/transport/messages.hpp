#pragma once
// The closed set of messages between the master (rank 0) and the workers, serialized with
// Boost.Serialization. Every copy of a task sent in a TaskBatch is answered by exactly one
// report (done, failed or cancelled), which is how the master knows a worker's slots.
//
// Batches are columnar: one std::vector per field, each written as one array (one memcpy in
// the wire archive, one MPI_Pack call in a Boost.MPI packed archive, where a vector of structs
// costs one call per field per element: about 1 us per report, bench/micro_messages.cpp).
// Strings and result values, rare or small, go into side tables. The hot messages (HotMessage
// below) travel in transport/wire_archive.hpp's archive, the others in Boost.MPI's.
#include <array>
#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/level.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/tracking.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "exec/result_view.hpp"
#include "exec/task_report.hpp"
#include "mpisweep/ids.hpp"
#include "mpisweep/task.hpp"
#include "transport/run_column.hpp"
#include "transport/time_columns.hpp"
#include "transport/wire_archive.hpp"

namespace mpisweep {

/// Messages sent once per task or batch: encoded with WireOArchive (see wire_archive.hpp for
/// the measured reason); every other message with Boost.MPI.
template <class T>
struct HotMessage : std::false_type {};

/// Before a loaded length sizes a vector: a no-op for Boost's archives, a bounds check for
/// the wire archive (a corrupt length throws instead of allocating).
template <class Archive>
MPISWEEP_WIRE_INLINE void expect_items(Archive&, std::uint64_t, std::size_t) {}
MPISWEEP_WIRE_INLINE void expect_items(WireIArchive& ar, std::uint64_t n, std::size_t item_bytes) {
    ar.expect_items(n, item_bytes);
}

/// One column of `n` values as a single array (one MPI_Pack call in a packed archive, no
/// per-vector object header); resized first when loading.
template <class Archive, class T>
MPISWEEP_WIRE_INLINE void serialize_column(Archive& ar, std::vector<T>& column, std::uint64_t n) {
    if (Archive::is_loading::value) {
        expect_items(ar, n, sizeof(T));
        column.resize(static_cast<std::size_t>(n));
    }
    if (n > 0) ar& boost::serialization::make_array(column.data(), n);
}

/// Strings one by one (errors and string results: rare).
template <class Archive>
MPISWEEP_WIRE_INLINE void serialize_strings(Archive& ar, std::vector<std::string>& strings, std::uint64_t n) {
    if (Archive::is_loading::value) {
        expect_items(ar, n, sizeof(std::uint64_t));  // each string has its length first
        strings.resize(static_cast<std::size_t>(n));
    }
    for (std::string& text : strings) ar& text;
}

enum class Tag : int {
    Tasks = 1,      ///< master -> worker: TaskBatch
    Cancel = 2,     ///< master -> worker: CancelRequest
    Stop = 3,       ///< master -> worker: no payload; finish up and say Bye
    Reports = 4,    ///< worker -> master: ReportBatch
    Bye = 5,        ///< worker -> master: no payload; the worker's last message
    Interrupt = 6,  ///< worker -> master: InterruptNotice; a signal reached the worker
    Drain = 7,      ///< master -> worker: no payload; the sweep stops early, keep results
    /// worker -> master: no payload; "still here", sent only after a silence (reports and
    /// every other message of a worker count as heartbeats too)
    Heartbeat = 8,
    Gpu = 9,  ///< worker -> master: GpuMemoryReport; GPU memory read on its node
};

/// A worker got a stop signal (the master then drains the whole sweep). Sent once per
/// signal count: again, with `urgent`, for a second signal.
struct InterruptNotice {
    int signal = 0;
    bool urgent = false;
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar& signal& urgent;
    }
};

struct TaskAssignmentMsg {
    TaskId task;
    int attempt = 1;
    /// A GPU sweep: the copy's GPUs (ordinals of the node); empty: on CPU, or a CPU sweep.
    std::vector<int> gpus;
};

/// Copies for one worker, run in this order. In a GPU sweep each copy carries its GPUs (a
/// count per copy and the ordinals in a row); a CPU sweep sends neither column.
struct TaskBatch {
    std::vector<std::uint64_t> ids;
    std::vector<std::int32_t> attempts;
    std::vector<std::uint8_t> gpu_counts;  ///< per copy, or empty (no copy has a GPU)
    std::vector<std::int32_t> gpus;

    void add(TaskId task, int attempt) {
        ids.push_back(task.value());
        attempts.push_back(attempt);
        if (!gpu_counts.empty()) gpu_counts.push_back(0);
    }
    void add(TaskId task, int attempt, const std::vector<int>& copy_gpus) {
        if (copy_gpus.empty()) return add(task, attempt);
        if (copy_gpus.size() > 0xff) throw std::logic_error("more than 255 GPUs for one copy");
        gpu_counts.resize(ids.size(), 0);  // the copies before it ran on CPU
        ids.push_back(task.value());
        attempts.push_back(attempt);
        gpu_counts.push_back(static_cast<std::uint8_t>(copy_gpus.size()));
        gpus.insert(gpus.end(), copy_gpus.begin(), copy_gpus.end());
    }
    std::size_t size() const { return ids.size(); }
    bool empty() const { return ids.empty(); }
    void clear() {  // keeps the capacity: the master refills the same batches
        ids.clear();
        attempts.clear();
        gpu_counts.clear();
        gpus.clear();
    }
    /// Copy `i` without its GPUs (see for_each for those).
    TaskAssignmentMsg at(std::size_t i) const { return {TaskId(ids[i]), attempts[i], {}}; }
    /// Visits each copy in order with its GPUs.
    template <class Visit>
    void for_each(Visit&& visit) const {
        std::size_t g = 0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            TaskAssignmentMsg copy{TaskId(ids[i]), attempts[i], {}};
            if (!gpu_counts.empty()) {
                copy.gpus.assign(gpus.begin() + static_cast<std::ptrdiff_t>(g),
                                 gpus.begin() + static_cast<std::ptrdiff_t>(g + gpu_counts[i]));
                g += gpu_counts[i];
            }
            visit(std::move(copy));
        }
    }

    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        if (ids.size() != attempts.size())
            throw std::logic_error("task batch with columns of unequal length");
        std::uint64_t n = ids.size();
        ar& n;
        serialize_runs(ar, ids, n, std::uint64_t{1});
        serialize_runs(ar, attempts, n, std::int32_t{0});
        // GPUs: one length, then the columns only when a copy has any.
        if (!gpu_counts.empty() && gpu_counts.size() != ids.size()) gpu_counts.resize(ids.size(), 0);
        std::uint64_t g = gpus.size();
        ar& g;
        if (g > 0) {
            serialize_column(ar, gpu_counts, n);
            serialize_column(ar, gpus, g);
            std::uint64_t total = 0;
            for (std::uint8_t c : gpu_counts) total += c;
            if (total != g) throw WireError("task batch: GPU counts do not match the GPUs listed");
        } else if (Archive::is_loading::value) {
            gpu_counts.clear();
            gpus.clear();
        }
    }
};

struct CancelRequest {
    std::vector<std::uint64_t> tasks;
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        std::uint64_t n = tasks.size();
        ar& n;
        serialize_column(ar, tasks, n);
    }
};

/// One report of a batch seen in place: its error and results point into the batch and stay
/// valid until the batch changes.
struct ReportRow {
    std::size_t index = 0;  ///< in the batch
    TaskId task;
    int attempt = 1;
    Outcome outcome = Outcome::Done;
    double start = 0;  ///< unix seconds; NaN: the copy never started
    double wall_s = 0;
    int exit_code = 0;
    const std::string* error = nullptr;  ///< null: none
    const FieldView* fields = nullptr;
    std::size_t n_fields = 0;
};

/// A report batch's start and wall columns: compact (transport/time_columns.hpp) when they
/// have that form, else raw.
template <class Archive>
void serialize_times(Archive& ar, std::vector<double>& starts, std::vector<double>& walls, std::uint64_t n) {
    thread_local std::vector<std::uint8_t> bytes;
    std::uint64_t size = 0;  // 0: raw
    if constexpr (!Archive::is_loading::value) {
        bytes.clear();
        if (n > 0 && encode_times(starts, walls, bytes)) size = bytes.size();
    }
    ar& size;
    if (size == 0) {
        serialize_column(ar, starts, n);
        serialize_column(ar, walls, n);
        return;
    }
    if constexpr (Archive::is_loading::value) {
        expect_items(ar, size, 1);
        bytes.resize(static_cast<std::size_t>(size));
    }
    ar& boost::serialization::make_array(bytes.data(), static_cast<std::size_t>(size));
    if constexpr (Archive::is_loading::value) decode_times(bytes.data(), bytes.size(), n, starts, walls);
}

/// Reports, one column per field; errors and results in side tables. Starts are on the
/// worker's clock, with one offset to unix time for the batch: the wire then carries times a
/// worker's tasks share once (transport/time_columns.hpp).
class ReportBatch {
public:
    /// `report.start` is on the worker's clock (NaN: never started).
    void add(TaskReport&& report);
    /// Unix time minus the worker's clock, for every report of the batch (kept by clear()).
    void set_unix_offset(double offset) { unix_offset_ = offset; }
    double unix_offset() const { return unix_offset_; }
    std::size_t size() const { return ids_.size(); }
    bool empty() const { return ids_.empty(); }
    /// Decodes the reports in the order they were added (each exactly once, in order; starts
    /// on the worker's clock).
    template <class Visit>
    void for_each(Visit&& visit) const;
    /// Visits each report as a ReportRow (start in unix seconds), in order, copying nothing
    /// (the master's path: no TaskReport and no map per task).
    template <class Visit>
    void for_each_row(Visit&& visit) const;
    void clear();
    /// Swaps every column (three pointers each; std::swap would move each vector three times).
    friend void swap(ReportBatch& a, ReportBatch& b) noexcept { a.swap_columns(b); }

    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        // Every length first, as one array; then the columns.
        std::array<std::uint64_t, 8> n = {ids_.size(),       errors_.size(),     field_names_.size(),
                                          field_ids_.size(), doubles_.size(),    ints_.size(),
                                          strings_.size(),   array_sizes_.size()};
        ar& boost::serialization::make_array(n.data(), n.size());
        serialize_runs(ar, ids_, n[0], std::uint64_t{1});
        serialize_runs(ar, attempts_, n[0], std::int32_t{0});
        serialize_runs(ar, outcomes_, n[0], std::uint8_t{0});
        ar& unix_offset_;
        serialize_times(ar, starts_, walls_, n[0]);
        serialize_runs(ar, exit_codes_, n[0], std::int32_t{0});
        serialize_runs(ar, fields_per_row_, n[0], std::uint16_t{0});
        // Errors and results: side tables, all empty in a batch of tasks that returned nothing
        // and did not fail (one test then, not nine empty columns).
        if ((n[1] | n[2] | n[3] | n[4] | n[5] | n[6] | n[7]) != 0) {
            serialize_column(ar, error_rows_, n[1]);
            serialize_strings(ar, errors_, n[1]);
            serialize_strings(ar, field_names_, n[2]);
            serialize_column(ar, field_ids_, n[3]);
            serialize_column(ar, kinds_, n[3]);
            serialize_column(ar, doubles_, n[4]);
            serialize_column(ar, ints_, n[5]);
            serialize_strings(ar, strings_, n[6]);
            serialize_column(ar, array_sizes_, n[7]);
        } else if (Archive::is_loading::value) {
            clear_side_tables();
        }
        if (Archive::is_loading::value) check_shape();  // add() keeps the shape when saving
    }

private:
    void swap_columns(ReportBatch& o) noexcept {
        ids_.swap(o.ids_);
        std::swap(unix_offset_, o.unix_offset_);
        attempts_.swap(o.attempts_);
        outcomes_.swap(o.outcomes_);
        starts_.swap(o.starts_);
        walls_.swap(o.walls_);
        exit_codes_.swap(o.exit_codes_);
        error_rows_.swap(o.error_rows_);
        errors_.swap(o.errors_);
        field_names_.swap(o.field_names_);
        fields_per_row_.swap(o.fields_per_row_);
        field_ids_.swap(o.field_ids_);
        kinds_.swap(o.kinds_);
        doubles_.swap(o.doubles_);
        ints_.swap(o.ints_);
        strings_.swap(o.strings_);
        array_sizes_.swap(o.array_sizes_);
    }
    void check_shape() const;
    void clear_side_tables();
    std::vector<std::uint64_t> ids_;
    std::vector<std::int32_t> attempts_;
    std::vector<std::uint8_t> outcomes_;
    std::vector<double> starts_, walls_;  // starts on the worker's clock
    double unix_offset_ = 0;
    std::vector<std::int32_t> exit_codes_;
    std::vector<std::uint32_t> error_rows_;  // rows with a non-empty error, ascending
    std::vector<std::string> errors_;
    // Results: names once per batch; per row its field count; per field its name and kind
    // (the ResultValue index); values in typed pools, arrays as a size plus doubles.
    std::vector<std::string> field_names_;
    std::vector<std::uint16_t> fields_per_row_;
    std::vector<std::uint16_t> field_ids_;
    std::vector<std::uint8_t> kinds_;
    std::vector<double> doubles_;
    std::vector<std::int64_t> ints_;
    std::vector<std::string> strings_;
    std::vector<std::uint32_t> array_sizes_;
};

inline void ReportBatch::add(TaskReport&& r) {
    ids_.push_back(r.task.value());
    attempts_.push_back(r.attempt);
    outcomes_.push_back(static_cast<std::uint8_t>(r.outcome));
    starts_.push_back(r.start);
    walls_.push_back(r.wall_s);
    exit_codes_.push_back(r.exit_code);
    if (!r.error.empty()) {
        error_rows_.push_back(static_cast<std::uint32_t>(ids_.size() - 1));
        errors_.push_back(std::move(r.error));
    }
    if (r.results.size() > 0xffff) throw std::runtime_error("a task returned more than 65535 result fields");
    fields_per_row_.push_back(static_cast<std::uint16_t>(r.results.size()));
    for (auto& [name, value] : r.results) {
        std::size_t id = 0;
        while (id < field_names_.size() && field_names_[id] != name) ++id;
        if (id == field_names_.size()) field_names_.push_back(name);
        if (id > 0xffff) throw std::runtime_error("more than 65535 result field names in one batch");
        field_ids_.push_back(static_cast<std::uint16_t>(id));
        kinds_.push_back(static_cast<std::uint8_t>(value.index()));
        switch (value.index()) {
            case 0:
                doubles_.push_back(std::get<0>(value));
                break;
            case 1:
                ints_.push_back(std::get<1>(value));
                break;
            case 2:
                strings_.push_back(std::move(std::get<2>(value)));
                break;
            case 3: {
                const std::vector<double>& a = std::get<3>(value);
                array_sizes_.push_back(static_cast<std::uint32_t>(a.size()));
                doubles_.insert(doubles_.end(), a.begin(), a.end());
                break;
            }
            case 4:
                ints_.push_back(std::get<4>(value) ? 1 : 0);  // a bool travels as an int
                break;
        }
    }
}

template <class Visit>
void ReportBatch::for_each(Visit&& visit) const {
    std::size_t error = 0, field = 0, d = 0, i = 0, s = 0, a = 0;
    for (std::size_t row = 0; row < ids_.size(); ++row) {
        TaskReport r;
        r.task = TaskId(ids_[row]);
        r.attempt = attempts_[row];
        r.outcome = static_cast<Outcome>(outcomes_[row]);
        r.start = starts_[row];
        r.wall_s = walls_[row];
        r.exit_code = exit_codes_[row];
        if (error < error_rows_.size() && error_rows_[error] == row) r.error = errors_[error++];
        for (std::uint16_t k = 0; k < fields_per_row_[row]; ++k, ++field) {
            const std::string& name = field_names_[field_ids_[field]];
            switch (kinds_[field]) {
                case 0:
                    r.results.emplace(name, doubles_[d++]);
                    break;
                case 1:
                    r.results.emplace(name, ints_[i++]);
                    break;
                case 2:
                    r.results.emplace(name, strings_[s++]);
                    break;
                case 3: {
                    const std::size_t n = array_sizes_[a++];
                    r.results.emplace(
                        name, std::vector<double>(doubles_.begin() + static_cast<std::ptrdiff_t>(d),
                                                  doubles_.begin() + static_cast<std::ptrdiff_t>(d + n)));
                    d += n;
                    break;
                }
                case 4:
                    r.results.emplace(name, ints_[i++] != 0);
                    break;
            }
        }
        visit(r);
    }
}

template <class Visit>
void ReportBatch::for_each_row(Visit&& visit) const {
    std::vector<FieldView> fields;
    std::size_t error = 0, field = 0, d = 0, i = 0, s = 0, a = 0;
    ReportRow r;
    for (std::size_t row = 0; row < ids_.size(); ++row) {
        r.index = row;
        r.task = TaskId(ids_[row]);
        r.attempt = attempts_[row];
        r.outcome = static_cast<Outcome>(outcomes_[row]);
        r.start = starts_[row] + unix_offset_;
        r.wall_s = walls_[row];
        r.exit_code = exit_codes_[row];
        r.error = error < error_rows_.size() && error_rows_[error] == row ? &errors_[error++] : nullptr;
        r.n_fields = fields_per_row_[row];
        if (r.n_fields > 0) {
            fields.resize(r.n_fields);
            for (FieldView& f : fields) {
                f.name = &field_names_[field_ids_[field]];
                f.value.kind = static_cast<ResultView::Kind>(kinds_[field++]);
                switch (f.value.kind) {
                    case ResultView::Kind::Float:
                        f.value.number = doubles_[d++];
                        break;
                    case ResultView::Kind::Int:
                    case ResultView::Kind::Bool:  // a bool travels as an int
                        f.value.integer = ints_[i++];
                        break;
                    case ResultView::Kind::String:
                        f.value.text = &strings_[s++];
                        break;
                    case ResultView::Kind::Array:
                        f.value.count = array_sizes_[a++];
                        f.value.values = doubles_.data() + d;
                        d += static_cast<std::size_t>(f.value.count);
                        break;
                }
            }
        }
        r.fields = fields.data();
        visit(static_cast<const ReportRow&>(r));
    }
}

inline void ReportBatch::clear() {
    // Keep the capacity: the worker fills one batch after another.
    ids_.clear();
    attempts_.clear();
    outcomes_.clear();
    starts_.clear();
    walls_.clear();
    exit_codes_.clear();
    fields_per_row_.clear();
    clear_side_tables();
}

inline void ReportBatch::clear_side_tables() {
    error_rows_.clear();
    errors_.clear();
    field_names_.clear();
    field_ids_.clear();
    kinds_.clear();
    doubles_.clear();
    ints_.clear();
    strings_.clear();
    array_sizes_.clear();
}

inline void ReportBatch::check_shape() const {
    const std::size_t n = ids_.size();
    bool ok = attempts_.size() == n && outcomes_.size() == n && starts_.size() == n && walls_.size() == n &&
              exit_codes_.size() == n && fields_per_row_.size() == n &&
              error_rows_.size() == errors_.size() && field_ids_.size() == kinds_.size();
    std::size_t fields = 0;
    unsigned outcome_bits = 0;
    for (std::size_t row = 0; ok && row < n; ++row) {
        fields += fields_per_row_[row];
        outcome_bits |= outcomes_[row] > kLastOutcome ? 1U : 0U;
    }
    ok = ok && outcome_bits == 0 && fields == field_ids_.size();
    if (ok && !kinds_.empty()) {  // results: every value in its pool, in order
        std::size_t want_d = 0, want_i = 0, want_s = 0, want_a = 0;
        for (std::size_t k = 0; ok && k < kinds_.size(); ++k) {
            ok = field_ids_[k] < field_names_.size() && kinds_[k] <= 4;
            if (kinds_[k] == 0) ++want_d;
            if (kinds_[k] == 1 || kinds_[k] == 4) ++want_i;
            if (kinds_[k] == 2) ++want_s;
            if (kinds_[k] == 3 && want_a < array_sizes_.size()) want_d += array_sizes_[want_a];
            if (kinds_[k] == 3) ++want_a;
        }
        ok = ok && want_d == doubles_.size() && want_i == ints_.size() && want_s == strings_.size() &&
             want_a == array_sizes_.size();
    } else {
        ok = ok && doubles_.empty() && ints_.empty() && strings_.empty() && array_sizes_.empty();
    }
    for (std::size_t k = 0; ok && k < error_rows_.size(); ++k) {
        ok = error_rows_[k] < n && (k == 0 || error_rows_[k] > error_rows_[k - 1]);
    }
    if (!ok) throw std::runtime_error("corrupt report batch in a message");
}

/// A worker's reading of GPU memory (GpuWatch): the node's free memory (its reader only), and
/// its running or just-ended copy's use. Sent when due; the master's placement learns from it.
struct GpuMemoryReport {
    std::vector<std::uint64_t> free;  ///< each GPU of the node; empty when not the reader
    std::vector<std::uint64_t> ours;  ///< the sweep's share of each GPU; empty when unknown
    enum Copy : std::uint8_t { None = 0, Running = 1, Ended = 2 };
    std::uint8_t copy = None;
    std::uint64_t task = 0;
    std::int32_t attempt = 0;
    std::uint64_t use = 0;  ///< Running: what the copy holds now on one GPU; Ended: its peak
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar& free& ours& copy& task& attempt& use;
    }
};

/// What a worker found at the start: its node's GPUs as it sees them (the job's
/// CUDA_VISIBLE_DEVICES applied), before anything is bound.
struct GpuInventory {
    std::string host;
    std::string backend;  ///< "nvml", "cuda", "fake" or "none"
    std::vector<std::uint64_t> total, free;
    bool per_process = false;  ///< the backend tells each process's GPU memory
    std::string error;         ///< the backend could not be opened (a bad MPISWEEP_FAKE_GPUS)
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar& host& backend& total& free& per_process& error;
    }
};

/// What the master decided for one worker at the start.
struct GpuAssignment {
    bool gpu_sweep = false;  ///< some node has a GPU: copies come with their GPUs
    std::vector<int> bound;  ///< task functions: the worker's GPUs for the whole sweep
    bool reader = false;     ///< this worker reads its node's free memory for the master
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar& gpu_sweep& bound& reader;
    }
};

/// What each worker tells the master once, after binding its device and running setup.
struct WorkerHello {
    std::string host;
    int device = -1;
    int node_devices = 0;  ///< GPUs usable on the worker's node (to explain CPU workers)
    bool ready = true;     ///< false: binding or setup failed, the worker takes no tasks
    std::string error;
    std::string warning;  ///< for rank 0 to pass on to the observer ("" when none)
    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar& host& device& node_devices& ready& error& warning;
    }
};

template <>
struct HotMessage<TaskBatch> : std::true_type {
    static constexpr const char* name = "task batch";  ///< for errors
};
template <>
struct HotMessage<CancelRequest> : std::true_type {
    static constexpr const char* name = "cancel request";  ///< for errors
};
template <>
struct HotMessage<ReportBatch> : std::true_type {
    static constexpr const char* name = "report batch";  ///< for errors
};

/// Writes a hot message into `buffer` from `offset` (the buffer only grows; what is before
/// `offset` is left as it is); returns the offset plus the message's length.
template <class T, class Buffer>
std::size_t wire_encode(const T& message, Buffer& buffer, std::size_t offset = 0) {
    static_assert(HotMessage<T>::value, "only hot messages use the wire archive");
    WireOArchive<Buffer> archive(buffer, offset);
    const_cast<T&>(message).serialize(archive, 0U);  // saving only reads (as in Boost)
    return archive.size();
}

/// Reads a hot message of exactly `size` bytes; throws WireError (or, for fields that do not
/// fit together, std::runtime_error) on a short, long or corrupt one.
template <class T>
void wire_decode(const char* data, std::size_t size, T& message) {
    static_assert(HotMessage<T>::value, "only hot messages use the wire archive");
    WireIArchive archive(data, size, HotMessage<T>::name);
    message.serialize(archive, 0U);
    archive.finish();
}

}  // namespace mpisweep

// Plain data: no class id, version or object tracking in the archive (and none of the
// registry look-ups that cost more than the payload of a one-task message).
BOOST_CLASS_IMPLEMENTATION(mpisweep::TaskBatch, boost::serialization::object_serializable)
BOOST_CLASS_TRACKING(mpisweep::TaskBatch, boost::serialization::track_never)
BOOST_CLASS_IMPLEMENTATION(mpisweep::InterruptNotice, boost::serialization::object_serializable)
BOOST_CLASS_TRACKING(mpisweep::InterruptNotice, boost::serialization::track_never)
BOOST_CLASS_IMPLEMENTATION(mpisweep::CancelRequest, boost::serialization::object_serializable)
BOOST_CLASS_TRACKING(mpisweep::CancelRequest, boost::serialization::track_never)
BOOST_CLASS_IMPLEMENTATION(mpisweep::ReportBatch, boost::serialization::object_serializable)
BOOST_CLASS_TRACKING(mpisweep::ReportBatch, boost::serialization::track_never)
