#pragma once
// The start and wall-time columns of a report batch on the wire, in one or two bytes a row
// instead of sixteen. A worker runs tiny tasks back to back: each starts where the one before
// it ended (one clock reading per task), so with times in whole nanoseconds a start is implied
// by the row before it and only the change of wall time travels (one byte for tasks of like
// length). A report of a thousand tiny tasks then fits Open MPI's shared-memory "fast box"
// (4 KiB), which completes the send at once; a larger one waits for rank 0 to take it, and
// every test of it that finds it unfinished yields the core (bench/README.md, "Session 15").
//
// Times travel in whole nanoseconds, the resolution of the clock they were read from. A value
// with no such form (an infinite or NaN wall time, more than ~70 years) sends the columns raw.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mpisweep {

/// Appends the compact form of `starts` (seconds on the worker's clock; NaN: the copy never
/// started) and `walls` (seconds; same length) to `out`. Returns false, `out` as it was, when
/// some value has no compact form.
bool encode_times(const std::vector<double>& starts, const std::vector<double>& walls,
                  std::vector<std::uint8_t>& out);

/// Decodes `n` rows from the `size` bytes at `bytes` (encode_times's output, nothing after
/// it) into `starts` and `walls`. Throws WireError when the bytes are not that.
void decode_times(const std::uint8_t* bytes, std::size_t size, std::size_t n, std::vector<double>& starts,
                  std::vector<double>& walls);

}  // namespace mpisweep
