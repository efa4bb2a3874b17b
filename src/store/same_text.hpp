#pragma once
// A compare of the short strings every record carries (host, field names), for the hot
// paths of the store: staging and the journal's encoder.
#include <cstdint>
#include <cstring>
#include <string>

namespace mpisweep::store {

/// a == b for the short strings of every record (host, field names): no call to memcmp.
inline bool same_text(const std::string& a, const std::string& b) {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    const char* p = a.data();
    const char* q = b.data();
    if (n >= 8 && n <= 16) {
        std::uint64_t x[2], y[2];  // the first 8 bytes and the last 8 (they may overlap)
        std::memcpy(&x[0], p, 8);
        std::memcpy(&x[1], p + n - 8, 8);
        std::memcpy(&y[0], q, 8);
        std::memcpy(&y[1], q + n - 8, 8);
        return x[0] == y[0] && x[1] == y[1];
    }
    if (n >= 4 && n < 8) {
        std::uint32_t x[2], y[2];
        std::memcpy(&x[0], p, 4);
        std::memcpy(&x[1], p + n - 4, 4);
        std::memcpy(&y[0], q, 4);
        std::memcpy(&y[1], q + n - 4, 4);
        return x[0] == y[0] && x[1] == y[1];
    }
    if (n < 4) return n == 0 || (p[0] == q[0] && p[n / 2] == q[n / 2] && p[n - 1] == q[n - 1]);
    return std::memcmp(p, q, n) == 0;
}

}  // namespace mpisweep::store
