#pragma once
// A network inside one process: a master endpoint and worker endpoints, each message copied
// into the receiver's queue (first in, first out, as MPI keeps the order of one sender).
// run() uses it when rank 0 works alone (its master and its worker take turns on one
// thread); unit tests run a master and several workers over it on a fake clock, stepping
// each in the order they choose, and read back the record of every message it carried.
#include <cstdint>
#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include "transport/transport.hpp"

namespace mpisweep {

/// One message as the record keeps it.
struct SentMessage {
    double at = 0;  ///< on the network's clock
    bool to_master = false;
    int worker = 0;  ///< the worker that sent it or receives it
    Tag tag = Tag::Stop;
    std::vector<std::uint64_t> tasks;  ///< the task ids it names (tasks, cancels, reports), in order
};

class LocalNetwork {
public:
    /// Workers `worker_ranks` (rank 0 too for a rank that works alone). `record`: keep a
    /// SentMessage for every message.
    LocalNetwork(const Clock& clock, const std::vector<int>& worker_ranks, bool record = false);
    ~LocalNetwork();
    LocalNetwork(const LocalNetwork&) = delete;
    LocalNetwork& operator=(const LocalNetwork&) = delete;

    Transport& master();
    Transport& worker(int rank);
    /// What abort() does (default: std::_Exit with the code).
    void on_abort(std::function<void(int code)> handler);
    /// Called when a worker lets its sends move on (progress, settle): a test advances its
    /// clock there, as an MPI call that yields the core takes time.
    void on_worker_progress(std::function<void(int rank)> hook);

    const std::vector<SentMessage>& record() const { return record_; }
    /// Messages waiting for the master, or for `rank`.
    std::size_t waiting_for_master() const;
    std::size_t waiting_for_worker(int rank) const;

    class Endpoint;

private:
    using Body =
        std::variant<std::monostate, TaskBatch, CancelRequest, ReportBatch, InterruptNotice, GpuMemoryReport>;
    struct Letter {
        int source = 0;
        Tag tag = Tag::Stop;
        Body body;
    };
    /// First in, first out, in slots that keep their letters when taken: the next message of
    /// the same type is copied into the vectors of one received before (their capacity kept),
    /// with no allocation and no move of a whole message (a new one-report ReportBatch per
    /// task was ~3,100 of 7,800 instructions per task of a rank that works alone).
    class Queue {
    public:
        /// A slot at the back for a new letter; its body is what the slot held last.
        Letter& push();
        std::size_t size() const { return size_; }
        Letter& at(std::size_t i) { return slots_[(head_ + i) % slots_.size()]; }
        const Letter& at(std::size_t i) const { return slots_[(head_ + i) % slots_.size()]; }
        /// The position of the first letter from `source` (kAnySource: any), or size().
        std::size_t find(int source) const;
        /// Takes the letter at `i` out of the queue (its slot keeps the body).
        void erase(std::size_t i);

    private:
        std::vector<Letter> slots_;
        std::size_t head_ = 0, size_ = 0;
    };
    /// Writes `message` into a new letter at the back of the queue of the receiver.
    template <class T>
    void deliver(bool to_master, int worker, Tag tag, const T& message);
    Queue& queue_of(bool master, int worker);
    const Queue& queue_of(bool master, int worker) const;

    const Clock& clock_;
    bool recording_;
    std::vector<SentMessage> record_;
    std::function<void(int)> abort_;
    std::function<void(int)> worker_progress_;
    std::vector<int> ranks_;     ///< worker ranks, index i <-> endpoints_[i + 1]
    std::vector<Queue> queues_;  ///< [0] the master's, [i + 1] worker ranks_[i]'s
    std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace mpisweep
