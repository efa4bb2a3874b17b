#include "transport/mpi_inbox.hpp"

#include <algorithm>
#include <string>

namespace mpisweep {

namespace {
// New messages matched per ready() call at most: enough to start the large receives of a
// burst, few enough that ready() returns soon.
constexpr int kMatchesPerCall = 16;
// Buffers of finished large receives kept for the next ones.
constexpr std::size_t kSpareBuffers = 8;
}  // namespace

MpiInbox::~MpiInbox() {
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (finalized) return;
    // Only when a rank ends abnormally (the last message of a worker is Bye, which the master
    // receives): never throw, never block on a sender that may be gone.
    if (current_) arrivals_.push_front(std::move(*current_));
    for (Arrival& a : arrivals_) {
        if (a.message != MPI_MESSAGE_NULL) {
            receive_small(a);  // its data is here: this does not block
        } else if (!a.complete && a.request != MPI_REQUEST_NULL) {
            MPI_Request_free(&a.request);
            // MPI may still write into the buffer: leave it allocated.
            new std::vector<char>(std::move(a.buffer));
        }
    }
}

std::optional<Envelope> MpiInbox::ready(int source) {
    if (holding(source)) return current_->envelope;
    // Asked for another source while holding one (no loop of ours does): keep its order.
    if (current_) {
        arrivals_.push_front(std::move(*current_));
        current_.reset();
    }
    for (std::size_t i = 0; i < arrivals_.size(); ++i) {
        Arrival& a = arrivals_[i];
        if (source != kAnySource && a.envelope.source != source) continue;
        if (!first_of_source(i) || !arrived(a)) continue;
        current_ = std::move(a);
        arrivals_.erase(arrivals_.begin() + static_cast<std::ptrdiff_t>(i));
        return current_->envelope;
    }
    for (int matched = 0; matched < kMatchesPerCall; ++matched) {
        std::optional<Arrival> a = match(source);
        if (!a) return std::nullopt;
        const int from = a->envelope.source;
        const bool behind = std::any_of(arrivals_.begin(), arrivals_.end(),
                                        [from](const Arrival& b) { return b.envelope.source == from; });
        if (a->complete && !behind) {
            current_ = std::move(a);
            return current_->envelope;
        }
        arrivals_.push_back(std::move(*a));
        if (source != kAnySource) return std::nullopt;  // the rest of this source is behind it
    }
    return std::nullopt;
}

std::optional<MpiInbox::Arrival> MpiInbox::match(int source) {
    int flag = 0;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    MPISWEEP_MPI_CHECK(MPI_Improbe(source == kAnySource ? MPI_ANY_SOURCE : source, MPI_ANY_TAG, comm_, &flag,
                                   &message, &status));
    if (!flag) return std::nullopt;
    Arrival a;
    a.envelope.source = status.MPI_SOURCE;
    a.envelope.tag = status.MPI_TAG;
    MPISWEEP_MPI_CHECK(MPI_Get_count(&status, MPI_PACKED, &a.envelope.bytes));
    if (a.envelope.bytes <= kSmallBytes) {
        a.message = message;
        a.complete = true;
        return a;
    }
    if (!spare_.empty()) {
        a.buffer = std::move(spare_.back());
        spare_.pop_back();
    }
    const auto bytes = static_cast<std::size_t>(a.envelope.bytes);
    if (a.buffer.size() < bytes) a.buffer.resize(bytes);  // the size is the capacity: it only grows
    MPISWEEP_MPI_CHECK(MPI_Imrecv(a.buffer.data(), a.envelope.bytes, MPI_PACKED, &message, &a.request));
    arrived(a);
    return a;
}

bool MpiInbox::arrived(Arrival& a) {
    if (!a.complete) {
        int flag = 0;
        MPISWEEP_MPI_CHECK(MPI_Test(&a.request, &flag, MPI_STATUS_IGNORE));
        a.complete = flag != 0;
        completed_ += a.complete ? 1 : 0;
    }
    return a.complete;
}

bool MpiInbox::first_of_source(std::size_t index) const {
    const int source = arrivals_[index].envelope.source;
    for (std::size_t i = 0; i < index; ++i)
        if (arrivals_[i].envelope.source == source) return false;
    return true;
}

MpiInbox::Arrival& MpiInbox::take(const Envelope& e) {
    if (!current_ || current_->envelope.source != e.source || current_->envelope.tag != e.tag)
        throw std::logic_error("MPI transport: receive without a matching probe (rank " +
                               std::to_string(e.source) + ", tag " + std::to_string(e.tag) + ")");
    return *current_;
}

const char* MpiInbox::receive_small(Arrival& a) {
    MPISWEEP_MPI_CHECK(MPI_Mrecv(small_.data(), a.envelope.bytes, MPI_PACKED, &a.message, MPI_STATUS_IGNORE));
    return small_.data();
}

void MpiInbox::done(Arrival& a) {
    if (a.buffer.capacity() > 0 && spare_.size() < kSpareBuffers) spare_.push_back(std::move(a.buffer));
    current_.reset();
}

}  // namespace mpisweep
