#include "platform/gpu_watch.hpp"

#include <algorithm>

#include "platform/gpu_usage.hpp"

namespace mpisweep {
namespace {

// A copy is read 0.1 s and 0.3 s after its start, then every poll interval: short tasks
// are seen too, long ones cost one reading per interval.
constexpr double kEarlyReadings[] = {0.1, 0.3};

}  // namespace

GpuWatch::GpuWatch(GpuBackend& backend, int gpus, std::vector<long> sweep_roots, long self, bool reader,
                   double poll)
    : backend_(backend),
      gpus_(gpus),
      sweep_roots_(std::move(sweep_roots)),
      self_(self),
      reader_(reader),
      poll_(poll) {
    next_ = reader_ ? 0 : 1e300;
}

void GpuWatch::copy_started(const std::vector<int>& devices, double now) {
    devices_ = devices;
    copy_start_ = now;
    readings_in_copy_ = 0;
    peak_.reset();
    sent_use_ = 0;
    if (!devices_.empty()) next_ = std::min(next_, now + kEarlyReadings[0]);
}

std::optional<Bytes> GpuWatch::copy_ended() {
    copy_start_ = -1;
    devices_.clear();
    if (!reader_) next_ = 1e300;
    return peak_;
}

std::optional<GpuReading> GpuWatch::poll(double now) {
    if (now < next_) return std::nullopt;
    const bool copy = copy_start_ >= 0 && !devices_.empty();
    const GpuSnapshot snap =
        read_gpus(backend_, gpus_, sweep_roots_, copy ? std::vector<long>{self_} : std::vector<long>{});
    GpuReading reading;
    bool news = false;
    if (reader_) {
        reading.free = snap.free;
        reading.ours = snap.ours;
        news = true;
    }
    if (copy && snap.held && !snap.held->empty()) {
        Bytes use = 0;
        for (int d : devices_) {
            if (d >= 0 && d < gpus_) use = std::max(use, (*snap.held)[0][static_cast<std::size_t>(d)]);
        }
        peak_ = std::max(peak_.value_or(0), use);
        reading.copy_use = use;
        news = news || use > sent_use_;
        sent_use_ = std::max(sent_use_, use);
    }
    // The next reading: early ones in a copy, else one poll interval on.
    double next = reader_ ? now + poll_ : 1e300;
    if (copy) {
        ++readings_in_copy_;
        const int early = static_cast<int>(sizeof kEarlyReadings / sizeof kEarlyReadings[0]);
        const double due =
            readings_in_copy_ < early ? copy_start_ + kEarlyReadings[readings_in_copy_] : now + poll_;
        next = std::min(next, std::max(due, now));
    }
    next_ = next;
    if (!news) return std::nullopt;
    return reading;
}

}  // namespace mpisweep
