#include "store/live_view.hpp"

#include <nlohmann/json.hpp>

namespace mpisweep::store {
namespace {

using Json = nlohmann::json;

Json copy_json(const LiveCopy& c) {
    return {{"task", c.task}, {"attempt", c.attempt}, {"worker", c.worker},
            {"host", c.host}, {"device", c.device},   {"speculative", c.speculative},
            {"sent", c.sent}, {"started", c.started}};
}

LiveCopy copy_from(const Json& j) {
    LiveCopy c;
    c.task = j.at("task").get<std::uint64_t>();
    c.attempt = j.at("attempt").get<int>();
    c.worker = j.at("worker").get<int>();
    c.host = j.at("host").get<std::string>();
    c.device = j.at("device").get<int>();
    c.speculative = j.at("speculative").get<bool>();
    c.sent = j.at("sent").get<double>();
    c.started = j.at("started").get<double>();
    return c;
}

}  // namespace

bool LiveCopy::operator==(const LiveCopy& o) const {
    return task == o.task && attempt == o.attempt && worker == o.worker && host == o.host &&
           device == o.device && speculative == o.speculative && sent == o.sent && started == o.started;
}

bool LiveWorker::operator==(const LiveWorker& o) const {
    return rank == o.rank && host == o.host && state == o.state && since == o.since && why == o.why;
}

bool LiveSnapshot::same_as(const LiveSnapshot& o) const {
    return interval == o.interval && run == o.run && total == o.total && done == o.done &&
           failed == o.failed && workers == o.workers && copies == o.copies && queued == o.queued &&
           stopped_workers == o.stopped_workers;
}

std::string live_to_json(const LiveSnapshot& s) {
    Json copies = Json::array();
    for (const LiveCopy& c : s.copies) copies.push_back(copy_json(c));
    Json workers = Json::array();
    for (const LiveWorker& w : s.stopped_workers) {
        workers.push_back(
            {{"rank", w.rank}, {"host", w.host}, {"state", w.state}, {"since", w.since}, {"why", w.why}});
    }
    const Json body = {{"written", s.written},      {"interval", s.interval}, {"run", s.run},
                       {"total", s.total},          {"done", s.done},         {"failed", s.failed},
                       {"workers", s.workers},      {"copies", copies},       {"queued", s.queued},
                       {"stopped_workers", workers}};
    return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<LiveSnapshot> live_from_json(const std::string& text) {
    const Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    try {
        LiveSnapshot s;
        s.written = j.at("written").get<double>();
        s.interval = j.at("interval").get<double>();
        s.run = j.at("run").get<std::string>();
        s.total = j.at("total").get<std::uint64_t>();
        s.done = j.at("done").get<std::uint64_t>();
        s.failed = j.at("failed").get<std::uint64_t>();
        s.workers = j.at("workers").get<int>();
        for (const Json& c : j.at("copies")) s.copies.push_back(copy_from(c));
        // Absent from the records of older versions, which listed queued copies as well.
        s.queued = j.value("queued", std::uint64_t{0});
        for (const Json& w : j.at("stopped_workers")) {
            s.stopped_workers.push_back({w.at("rank").get<int>(), w.at("host").get<std::string>(),
                                         w.at("state").get<std::string>(), w.at("since").get<double>(),
                                         w.at("why").get<std::string>()});
        }
        return s;
    } catch (const Json::exception&) {
        return std::nullopt;
    }
}

}  // namespace mpisweep::store
