#include "transport/local_network.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace mpisweep {

namespace {
/// The index of alternative T in a variant.
template <class T, class... Ts>
constexpr std::size_t alternative(const std::variant<Ts...>*) {
    std::size_t i = 0;
    (void)((std::is_same_v<T, Ts> ? false : (++i, true)) && ...);
    return i;
}
}  // namespace

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
        const auto it = find(queue, source);
        if (it == queue.end()) return std::nullopt;
        return Envelope{it->source, static_cast<int>(it->tag), 0};
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

    void progress() override {}
    void flush() override {}
    void wait(int source, double until) override {
        if (!probe(source)) net_.clock_.sleep_until(until);  // nobody else can send meanwhile
    }
    [[noreturn]] void abort(int code) override {
        if (net_.abort_) net_.abort_(code);
        std::_Exit(code);
    }

private:
    static Queue::const_iterator find(const Queue& queue, int source) {
        return std::find_if(queue.begin(), queue.end(),
                            [source](const Letter& l) { return source == kAnySource || l.source == source; });
    }
    template <class T>
    void post(int dest, Tag tag, const T& message) {
        if (!is_master_ && dest != kMasterRank)
            throw std::logic_error("local network: a worker sends only to the master, not to " +
                                   std::to_string(dest));
        // Into a body a receiver gave back: copying into its vectors reuses their capacity
        // (a new one-report ReportBatch per task was ~3,100 of 7,800 instructions per task of
        // a rank that works alone).
        Body body = net_.spare_body(alternative<T>(static_cast<Body*>(nullptr)));
        if (T* same = std::get_if<T>(&body)) {
            *same = message;
        } else {
            body.template emplace<T>(message);
        }
        net_.deliver(!is_master_, is_master_ ? dest : rank_, tag, std::move(body));
    }
    template <class T>
    void take(const Envelope& e, T& out) {
        Queue& queue = net_.queue_of(is_master_, rank_);
        auto it =
            std::find_if(queue.begin(), queue.end(), [&e](const Letter& l) { return l.source == e.source; });
        if (it == queue.end() || static_cast<int>(it->tag) != e.tag)
            throw std::logic_error("local network: receive without a matching probe");
        T* body = std::get_if<T>(&it->body);
        if (body == nullptr) throw std::logic_error("local network: received as the wrong message type");
        std::swap(out, *body);  // the receiver's old vectors go back to the pool, for the next send
        net_.keep_body(std::move(it->body));
        queue.erase(it);
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

LocalNetwork::Body LocalNetwork::spare_body(std::size_t index) {
    for (Body& spare : spare_) {
        if (spare.index() != index) continue;
        Body body = std::move(spare);
        spare = std::move(spare_.back());
        spare_.pop_back();
        return body;
    }
    return {};
}

void LocalNetwork::keep_body(Body&& body) {
    if (body.index() != 0 && spare_.size() < kSpareBodies) spare_.push_back(std::move(body));
}

void LocalNetwork::deliver(bool to_master, int worker, Tag tag, Body body) {
    if (recording_) record_.push_back({clock_.now(), to_master, worker, tag, tasks_named(body)});
    queue_of(to_master, worker).push_back({to_master ? worker : kMasterRank, tag, std::move(body)});
}

}  // namespace mpisweep
