#pragma once
// The closed set of messages between the master (rank 0) and the workers, serialized with
// Boost.Serialization. Every copy of a task sent in a TaskBatch is answered by exactly one
// TaskReport (done, failed or cancelled), which is how the master knows a worker's slots.
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "mpisweep/ids.hpp"
#include "mpisweep/task.hpp"

namespace mpisweep {

enum class Tag : int {
    Tasks = 1,    ///< master -> worker: TaskBatch
    Cancel = 2,   ///< master -> worker: CancelRequest
    Stop = 3,     ///< master -> worker: no payload; finish up and say Bye
    Reports = 4,  ///< worker -> master: ReportBatch
    Bye = 5,      ///< worker -> master: no payload; the worker's last message
};

struct TaskAssignmentMsg {
    TaskId task;
    int attempt = 1;
    template <class Archive>
    void serialize(Archive& ar, unsigned) { ar & task & attempt; }
};

struct TaskBatch {
    std::vector<TaskAssignmentMsg> tasks;
    template <class Archive>
    void serialize(Archive& ar, unsigned) { ar & tasks; }
};

struct CancelRequest {
    std::vector<TaskId> tasks;
    template <class Archive>
    void serialize(Archive& ar, unsigned) { ar & tasks; }
};

enum class Outcome : std::uint8_t { Done = 0, Failed = 1, Cancelled = 2 };

struct TaskReport {
    TaskId task;
    int attempt = 1;
    Outcome outcome = Outcome::Done;
    double start = 0;   ///< unix seconds
    double wall_s = 0;
    int exit_code = 0;
    std::string error;
    TaskResult results;

    template <class Archive>
    void serialize(Archive& ar, unsigned) {
        ar & task & attempt & outcome & start & wall_s & exit_code & error & results;
    }
};

struct ReportBatch {
    std::vector<TaskReport> reports;
    template <class Archive>
    void serialize(Archive& ar, unsigned) { ar & reports; }
};

/// What each worker tells the master once, after binding its device and running setup.
struct WorkerHello {
    std::string host;
    int device = -1;
    int node_devices = 0;  ///< GPUs usable on the worker's node (to explain CPU workers)
    bool ready = true;     ///< false: binding or setup failed, the worker takes no tasks
    std::string error;
    template <class Archive>
    void serialize(Archive& ar, unsigned) { ar & host & device & node_devices & ready & error; }
};

}  // namespace mpisweep

// std::variant is not serializable in Boost 1.74: save the index, then the alternative.
namespace boost::serialization {

template <class Archive>
void save(Archive& ar, const mpisweep::ResultValue& v, unsigned) {
    const auto index = static_cast<std::uint8_t>(v.index());
    ar << index;
    std::visit([&ar](const auto& x) { ar << x; }, v);
}

template <class Archive>
void load(Archive& ar, mpisweep::ResultValue& v, unsigned) {
    std::uint8_t index = 0;
    ar >> index;
    switch (index) {
        case 0: { double x; ar >> x; v = x; break; }
        case 1: { std::int64_t x; ar >> x; v = x; break; }
        case 2: { std::string x; ar >> x; v = std::move(x); break; }
        case 3: { std::vector<double> x; ar >> x; v = std::move(x); break; }
        default: throw std::runtime_error("corrupt ResultValue in a message");
    }
}

template <class Archive>
void serialize(Archive& ar, mpisweep::ResultValue& v, unsigned version) {
    split_free(ar, v, version);
}

}  // namespace boost::serialization
