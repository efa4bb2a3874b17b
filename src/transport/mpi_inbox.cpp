#include "transport/mpi_inbox.hpp"

#include <algorithm>
#include <string>
#include <thread>

namespace mpisweep {

namespace {
// New frames taken per ready() call at most: enough to start the large receives of a burst,
// few enough that ready() returns soon.
constexpr int kFramesPerCall = 16;
// Buffers of finished large receives kept for the next ones.
constexpr std::size_t kSpareBuffers = 8;
}  // namespace

MpiInbox::MpiInbox(const boost::mpi::communicator& comm, int slots)
    : comm_(comm),
      ring_(static_cast<std::size_t>(std::max(slots, 1)), MPI_REQUEST_NULL),
      ring_buffer_(ring_.size() * kFrameBytes) {
    for (std::size_t i = 0; i < ring_.size(); ++i)
        MPISWEEP_MPI_CHECK(MPI_Recv_init(frame(static_cast<int>(i)), kFrameBytes, MPI_PACKED, MPI_ANY_SOURCE,
                                         kFrameTag, comm_, &ring_[i]));
    MPISWEEP_MPI_CHECK(MPI_Startall(static_cast<int>(ring_.size()), ring_.data()));
}

namespace {
/// Waits a little for a cancelled receive to end: false if it has not (never blocks on a sender).
bool cancelled_or_done(MPI_Request& request) {
    constexpr int kTests = 1000;
    for (int i = 0; i < kTests; ++i) {
        int done = 0;
        if (MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || done) return true;
        std::this_thread::yield();
    }
    return false;
}
}  // namespace

MpiInbox::~MpiInbox() {
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (finalized) return;
    // Never throw, never block on a sender that may be gone. Frames not handed out are
    // dropped: the last message of a worker is Bye, which the master receives.
    const int held = current_ && current_->slot >= 0 ? current_->slot : -1;
    bool still_written = false;
    for (std::size_t i = 0; i < ring_.size(); ++i) {
        if (static_cast<int>(i) != held) {
            MPI_Cancel(&ring_[i]);
            // A receive that matched a frame before the cancel completes with it; one whose
            // frame still moves (an eager limit under a frame's size, a sender that hangs)
            // is let go, and its buffer with it.
            still_written |= !cancelled_or_done(ring_[i]);
        }
        if (ring_[i] != MPI_REQUEST_NULL) MPI_Request_free(&ring_[i]);
    }
    if (still_written) new std::vector<char>(std::move(ring_buffer_));  // MPI may still write into it
    if (current_) arrivals_.push_front(std::move(*current_));
    for (Arrival& a : arrivals_) {
        if (a.complete || a.request == MPI_REQUEST_NULL) continue;
        MPI_Request_free(&a.request);
        // MPI may still write into the buffer: leave it allocated.
        new std::vector<char>(std::move(a.buffer));
    }
}

std::optional<Envelope> MpiInbox::ready(int source) {
    if (holding(source)) return current_->envelope;
    // Asked for another source while holding one (no loop of ours does): keep its order.
    if (current_) {
        copy_out(*current_);
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
    for (int taken = 0; taken < kFramesPerCall; ++taken) {
        std::optional<Arrival> a = next_frame();
        if (!a) return std::nullopt;
        const int from = a->envelope.source;
        const bool wanted = source == kAnySource || from == source;
        const bool behind = std::any_of(arrivals_.begin(), arrivals_.end(),
                                        [from](const Arrival& b) { return b.envelope.source == from; });
        if (a->complete && wanted && !behind) {
            current_ = std::move(a);
            return current_->envelope;
        }
        if (a->slot >= 0) copy_out(*a);  // the ring moves on past it
        arrivals_.push_back(std::move(*a));
    }
    return std::nullopt;
}

std::optional<MpiInbox::Arrival> MpiInbox::next_frame() {
    int flag = 0;
    MPI_Status status;
    MPISWEEP_MPI_CHECK(MPI_Test(&ring_[static_cast<std::size_t>(head_)], &flag, &status));
    if (!flag) return std::nullopt;
    const int slot = head_;
    head_ = (head_ + 1) % static_cast<int>(ring_.size());
    int bytes = 0;
    MPISWEEP_MPI_CHECK(MPI_Get_count(&status, MPI_PACKED, &bytes));
    if (bytes < kFrameHeaderBytes) {
        repost(slot);
        throw std::runtime_error("MPI transport: a frame of " + std::to_string(bytes) + " bytes from rank " +
                                 std::to_string(status.MPI_SOURCE) + " (at least " +
                                 std::to_string(kFrameHeaderBytes) + " expected)");
    }
    const FrameHeader header = read_frame_header(frame(slot));
    Arrival a;
    a.envelope.source = status.MPI_SOURCE;
    a.envelope.tag = header.tag;
    if (header.payload_bytes > 0) {
        repost(slot);
        start_payload(a, header.payload_bytes);
        return a;
    }
    a.envelope.bytes = bytes - kFrameHeaderBytes;
    a.slot = slot;
    a.complete = true;
    return a;
}

void MpiInbox::copy_out(Arrival& a) {
    if (a.slot < 0) return;
    const char* data = payload(a);
    a.buffer.assign(data, data + a.envelope.bytes);
    repost(a.slot);
    a.slot = -1;
}

void MpiInbox::start_payload(Arrival& a, int bytes) {
    a.envelope.bytes = bytes;
    a.buffer = spare_buffer();
    const auto size = static_cast<std::size_t>(bytes);
    if (a.buffer.size() < size) a.buffer.resize(size);  // the size is the capacity: it only grows
    MPISWEEP_MPI_CHECK(
        MPI_Irecv(a.buffer.data(), bytes, MPI_PACKED, a.envelope.source, kPayloadTag, comm_, &a.request));
    arrived(a);
}

std::vector<char> MpiInbox::spare_buffer() {
    if (spare_.empty()) return {};
    std::vector<char> buffer = std::move(spare_.back());
    spare_.pop_back();
    return buffer;
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

void MpiInbox::repost(int slot) {
    MPISWEEP_MPI_CHECK(MPI_Start(&ring_[static_cast<std::size_t>(slot)]));
}

void MpiInbox::done(Arrival& a) {
    if (a.slot >= 0) repost(a.slot);
    if (a.buffer.capacity() > 0 && spare_.size() < kSpareBuffers) spare_.push_back(std::move(a.buffer));
    current_.reset();
}

}  // namespace mpisweep
