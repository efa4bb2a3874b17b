#pragma once
// How MpiTransport's messages travel: every message starts as one frame of at most
// kFrameBytes, sent with kFrameTag, into one of the receiver's pre-posted receives (a ring of
// persistent MPI receives, mpi_inbox.hpp). A frame is a FrameHeader (the message's Tag) and,
// for a small message, its payload. A larger message's frame carries only the header with the
// payload's size, and the payload follows as a second MPI message with kPayloadTag, which the
// receiver then receives from that sender (each sender's payloads match in the order of its
// frames: MPI does not let messages of one sender, tag and communicator overtake each other).
//
// Why: a pre-posted receive is matched and filled by MPI as the message arrives, so taking it
// is one MPI_Test and one MPI_Start; a probe that finds nothing costs as much as one that
// does, and a matched probe adds a receive (MPI_Improbe + MPI_Mrecv, bench/README.md).
#include <cstdint>
#include <cstring>

namespace mpisweep {

/// Bytes of a frame at most (header included): every one-task message fits many times over.
inline constexpr int kFrameBytes = 1024;
/// MPI tags on the sweep's communicator: nothing else sends point-to-point on it.
inline constexpr int kFrameTag = 100;
inline constexpr int kPayloadTag = 101;

struct FrameHeader {
    std::int32_t tag = 0;            ///< the message's Tag
    std::int32_t payload_bytes = 0;  ///< > 0: the payload follows as a kPayloadTag message of this size
};
inline constexpr int kFrameHeaderBytes = static_cast<int>(sizeof(FrameHeader));
static_assert(kFrameHeaderBytes == 8, "the frame header is two 32-bit integers");

inline FrameHeader read_frame_header(const char* frame) {
    FrameHeader h;
    std::memcpy(&h, frame, sizeof h);
    return h;
}
inline void write_frame_header(char* frame, const FrameHeader& h) {
    std::memcpy(frame, &h, sizeof h);
}

}  // namespace mpisweep
