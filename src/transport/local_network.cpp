#include "transport/local_network.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace mpisweep {

/// One end of the network: the master's (sends go to workers) or a worker's (sends go to the
/// master).
class LocalNetwork::Endpoint final : public Transport {
public:
    Endpoint(LocalNetwork& net, bool is_master, int rank) : net_(net), is_master_(is_master), rank_(rank) {}

    const Clock& clock() const override { return net_.clock_; }

    void send(int dest, const TaskBatch& batch) override { post(dest, Tag::Tasks, batch); }
    void send(int dest, const CancelRequest& request) override { post(dest, Tag::Cancel, request); }
    void send(int dest, const ReportBatch& reports) override { post(dest, Tag::Reports, reports); }
    void send(int dest, const InterruptNotice& notice) override { post(dest, Tag::Interrupt, notice); }
    void send(int dest, const GpuMemoryReport& report) override { post(dest, Tag::Gpu, report); }
    void send(int dest, Tag tag) override { post(dest, tag, std::monostate{}); }

    std::optional<Envelope> probe(int source) override {
        const Queue& queue = net_.queue_of(is_master_, rank_);
        const std::size_t i = queue.find(source);
        if (i == queue.size()) return std::nullopt;
        return Envelope{queue.at(i).source, static_cast<int>(queue.at(i).tag), 0};
    }
    void receive(const Envelope& e, TaskBatch& batch) override { take(e, batch); }
    void receive(const Envelope& e, CancelRequest& request) override { take(e, request); }
    void receive(const Envelope& e, ReportBatch& reports) override { take(e, reports); }
    void receive(const Envelope& e, InterruptNotice& notice) override { take(e, notice); }
    void receive(const Envelope& e, GpuMemoryReport& report) override { take(e, report); }
    void receive(const Envelope& e) override {
        std::monostate none;
        take(e, none);
    }

    void progress() override { progressed(); }
    void flush() override {}
    bool settle(double) override {  // delivered when sent
        progressed();
        return true;
    }
    void wait(int source, double until) override {
        if (!probe(source)) net_.clock_.sleep_until(until);  // nobody else can send meanwhile
    }
    [[noreturn]] void abort(int code) override {
        if (net_.abort_) net_.abort_(code);
        std::_Exit(code);
    }

private:
    void progressed() {
        if (!is_master_ && net_.worker_progress_) net_.worker_progress_(rank_);
    }
    template <class T>
    void post(int dest, Tag tag, const T& message) {
        if (!is_master_ && dest != kMasterRank)
            throw std::logic_error("local network: a worker sends only to the master, not to " +
                                   std::to_string(dest));
        net_.deliver(!is_master_, is_master_ ? dest : rank_, tag, message);
    }
    template <class T>
    void take(const Envelope& e, T& out) {
        Queue& queue = net_.queue_of(is_master_, rank_);
        const std::size_t i = queue.find(e.source);
        if (i == queue.size() || static_cast<int>(queue.at(i).tag) != e.tag)
            throw std::logic_error("local network: receive without a matching probe");
        T* body = std::get_if<T>(&queue.at(i).body);
        if (body == nullptr) throw std::logic_error("local network: received as the wrong message type");
        using std::swap;
        swap(out, *body);  // the receiver's old vectors stay in the slot for the next send
        queue.erase(i);
    }

    LocalNetwork& net_;
    bool is_master_;
    int rank_;
};

LocalNetwork::LocalNetwork(const Clock& clock, const std::vector<int>& worker_ranks, bool record)
    : clock_(clock), recording_(record), ranks_(worker_ranks), queues_(worker_ranks.size() + 1) {
    endpoints_.push_back(std::make_unique<Endpoint>(*this, true, kMasterRank));
    for (int rank : ranks_) endpoints_.push_back(std::make_unique<Endpoint>(*this, false, rank));
}

LocalNetwork::~LocalNetwork() = default;

Transport& LocalNetwork::master() {
    return *endpoints_[0];
}

Transport& LocalNetwork::worker(int rank) {
    const auto it = std::find(ranks_.begin(), ranks_.end(), rank);
    if (it == ranks_.end()) throw std::out_of_range("local network: no worker rank " + std::to_string(rank));
    return *endpoints_[static_cast<std::size_t>(it - ranks_.begin()) + 1];
}

void LocalNetwork::on_abort(std::function<void(int)> handler) {
    abort_ = std::move(handler);
}

void LocalNetwork::on_worker_progress(std::function<void(int rank)> hook) {
    worker_progress_ = std::move(hook);
}

LocalNetwork::Queue& LocalNetwork::queue_of(bool master, int worker) {
    if (master) return queues_[0];
    const auto it = std::find(ranks_.begin(), ranks_.end(), worker);
    if (it == ranks_.end())
        throw std::out_of_range("local network: no worker rank " + std::to_string(worker));
    return queues_[static_cast<std::size_t>(it - ranks_.begin()) + 1];
}

const LocalNetwork::Queue& LocalNetwork::queue_of(bool master, int worker) const {
    return const_cast<LocalNetwork*>(this)->queue_of(master, worker);
}

std::size_t LocalNetwork::waiting_for_master() const {
    return queue_of(true, 0).size();
}
std::size_t LocalNetwork::waiting_for_worker(int rank) const {
    return queue_of(false, rank).size();
}

namespace {

template <class Body>
std::vector<std::uint64_t> tasks_named(const Body& body) {
    if (const auto* batch = std::get_if<TaskBatch>(&body)) return batch->ids;
    if (const auto* request = std::get_if<CancelRequest>(&body)) return request->tasks;
    std::vector<std::uint64_t> ids;
    if (const auto* reports = std::get_if<ReportBatch>(&body))
        reports->for_each([&ids](const TaskReport& r) { ids.push_back(r.task.value()); });
    return ids;
}

}  // namespace

template <class T>
void LocalNetwork::deliver(bool to_master, int worker, Tag tag, const T& message) {
    Letter& letter = queue_of(to_master, worker).push();
    letter.source = to_master ? worker : kMasterRank;
    letter.tag = tag;
    if (T* same = std::get_if<T>(&letter.body)) {
        *same = message;  // copy-assigned: the vectors keep their capacity
    } else {
        letter.body.template emplace<T>(message);
    }
    if (recording_) record_.push_back({clock_.now(), to_master, worker, tag, tasks_named(letter.body)});
}

LocalNetwork::Letter& LocalNetwork::Queue::push() {
    if (size_ == slots_.size()) {  // full: grow, the letters in order from slot 0
        std::vector<Letter> grown(std::max<std::size_t>(4, 2 * slots_.size()));
        for (std::size_t i = 0; i < size_; ++i) grown[i] = std::move(at(i));
        slots_ = std::move(grown);
        head_ = 0;
    }
    return at(size_++);
}

std::size_t LocalNetwork::Queue::find(int source) const {
    std::size_t i = 0;
    while (i < size_ && source != kAnySource && at(i).source != source) ++i;
    return i;
}

void LocalNetwork::Queue::erase(std::size_t i) {
    // Bubble the taken letter to the front (rare: receivers mostly take the first), then
    // drop the front.
    for (; i > 0; --i) std::swap(at(i), at(i - 1));
    head_ = (head_ + 1) % slots_.size();
    --size_;
}

}  // namespace mpisweep
