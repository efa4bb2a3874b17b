#include "transport/time_columns.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "transport/wire_archive.hpp"

// Layout: the first start (8 bytes, a double: the base), then the exceptions' count and byte
// length (varints) and the exceptions, then one varint per row: the change of its wall time
// in nanoseconds from the row before (zigzag). Starts are nanoseconds from the base; a row
// starts where the started row before it ended unless it is an exception: (row, gap from
// there) or (row, never started). Exception rows are stored as the distance from the one
// before.
namespace mpisweep {

namespace {

// Larger times (18 years in nanoseconds) go raw: zigzag, shifted gaps stay within 64 bits.
constexpr double kMostNanoseconds = static_cast<double>(std::int64_t{1} << 59);
constexpr std::uint64_t kNeverStarted = 1;

std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}

// Whole nanoseconds of `seconds`, or false when out of range or not a number.
bool nanoseconds(double seconds, std::int64_t& out) {
    const double ns = seconds * 1e9;
    if (!(std::fabs(ns) < kMostNanoseconds)) return false;
    out = std::llrint(ns);
    return true;
}

[[noreturn]] void malformed(const std::string& what) {
    throw WireError("report batch: start and wall times: " + what);
}

class VarintReader {
public:
    VarintReader(const std::uint8_t* at, const std::uint8_t* end) : at_(at), end_(end) {}
    std::uint64_t next() {
        std::uint64_t v = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (at_ == end_) malformed("a number past the end");
            if (shift > 63) malformed("a number of more than 64 bits");
            const std::uint8_t byte = *at_++;
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return v;
        }
    }
    bool at_end() const { return at_ == end_; }
    const std::uint8_t* position() const { return at_; }
    std::size_t remaining() const { return static_cast<std::size_t>(end_ - at_); }

private:
    const std::uint8_t* at_;
    const std::uint8_t* end_;
};

}  // namespace

bool encode_times(const std::vector<double>& starts, const std::vector<double>& walls,
                  std::vector<std::uint8_t>& out) {
    double base = 0;
    for (double s : starts)
        if (!std::isnan(s)) {
            base = s;
            break;
        }
    thread_local std::vector<std::uint8_t> exceptions, wall_bytes;
    exceptions.clear();
    wall_bytes.clear();
    std::uint64_t count = 0;
    std::size_t last_exception = 0;
    auto exception = [&](std::size_t row, std::uint64_t code) {
        put_varint(exceptions, count == 0 ? row : row - last_exception - 1);
        put_varint(exceptions, code);
        last_exception = row;
        ++count;
    };
    std::int64_t cursor = 0, last_wall = 0;
    for (std::size_t row = 0; row < starts.size(); ++row) {
        std::int64_t wall = 0;
        if (!nanoseconds(walls[row], wall)) return false;
        put_varint(wall_bytes, zigzag(wall - last_wall));
        last_wall = wall;
        if (std::isnan(starts[row])) {
            exception(row, kNeverStarted);
            continue;
        }
        std::int64_t start = 0;
        if (!nanoseconds(starts[row] - base, start)) return false;
        if (start != cursor) exception(row, zigzag(start - cursor) << 1);
        cursor = start + wall;
    }
    const std::size_t at = out.size();
    out.resize(at + sizeof base);
    std::memcpy(out.data() + at, &base, sizeof base);
    put_varint(out, count);
    put_varint(out, exceptions.size());
    out.insert(out.end(), exceptions.begin(), exceptions.end());
    out.insert(out.end(), wall_bytes.begin(), wall_bytes.end());
    return true;
}

void decode_times(const std::uint8_t* bytes, std::size_t size, std::size_t n, std::vector<double>& starts,
                  std::vector<double>& walls) {
    double base = 0;
    if (size < sizeof base) malformed("shorter than its first start");
    std::memcpy(&base, bytes, sizeof base);
    VarintReader header(bytes + sizeof base, bytes + size);
    std::uint64_t left = header.next();  // exceptions
    const std::uint64_t exception_bytes = header.next();
    if (exception_bytes > header.remaining()) malformed("exceptions past the end");
    VarintReader exceptions(header.position(), header.position() + exception_bytes);
    VarintReader wall_bytes(header.position() + exception_bytes, bytes + size);
    if (left > n) malformed(std::to_string(left) + " exceptions in " + std::to_string(n) + " rows");
    std::uint64_t next_exception = left > 0 ? exceptions.next() : n;
    starts.resize(n);
    walls.resize(n);
    // Unsigned: a corrupt input wraps around instead of overflowing.
    std::uint64_t cursor = 0, wall = 0;
    for (std::size_t row = 0; row < n; ++row) {
        wall += static_cast<std::uint64_t>(unzigzag(wall_bytes.next()));
        walls[row] = static_cast<double>(static_cast<std::int64_t>(wall)) / 1e9;
        if (row == next_exception) {
            const std::uint64_t code = exceptions.next();
            --left;
            next_exception = left > 0 ? row + 1 + exceptions.next() : n;
            if (next_exception > n) malformed("an exception past the last row");
            if (code == kNeverStarted) {
                starts[row] = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            if ((code & 1) != 0) malformed("an exception of unknown kind");
            cursor += static_cast<std::uint64_t>(unzigzag(code >> 1));
        }
        starts[row] = base + static_cast<double>(static_cast<std::int64_t>(cursor)) / 1e9;
        cursor += wall;
    }
    if (next_exception < n || left > 0 || !exceptions.at_end()) malformed("exceptions past the last row");
    if (!wall_bytes.at_end()) malformed("bytes left over after the last row");
}

}  // namespace mpisweep
