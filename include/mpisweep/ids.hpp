#pragma once
// Strong id types: a TaskId cannot be passed where a WorkerId is expected.
#include <cstdint>
#include <functional>
#include <ostream>

namespace mpisweep {

template <class Tag, class Rep>
class StrongId {
public:
    using rep_type = Rep;
    constexpr StrongId() = default;
    constexpr explicit StrongId(Rep value) : value_(value) {}
    constexpr Rep value() const { return value_; }

    friend constexpr bool operator==(StrongId a, StrongId b) { return a.value_ == b.value_; }
    friend constexpr bool operator!=(StrongId a, StrongId b) { return a.value_ != b.value_; }
    friend constexpr bool operator<(StrongId a, StrongId b) { return a.value_ < b.value_; }
    friend constexpr bool operator>(StrongId a, StrongId b) { return a.value_ > b.value_; }
    friend constexpr bool operator<=(StrongId a, StrongId b) { return a.value_ <= b.value_; }
    friend constexpr bool operator>=(StrongId a, StrongId b) { return a.value_ >= b.value_; }
    friend std::ostream& operator<<(std::ostream& os, StrongId id) { return os << id.value_; }

    // Boost.Serialization hook, so ids travel in messages without a Boost include here.
    template <class Archive>
    void serialize(Archive& ar, unsigned /*version*/) {
        ar& value_;
    }

private:
    Rep value_{};
};

/// Index of a grid point, 0..N-1 in nested-loop order (last axis fastest).
using TaskId = StrongId<struct TaskIdTag, std::uint64_t>;
/// A worker is identified by its MPI rank in the sweep's communicator.
using WorkerId = StrongId<struct WorkerIdTag, int>;

}  // namespace mpisweep

template <class Tag, class Rep>
struct std::hash<mpisweep::StrongId<Tag, Rep>> {
    std::size_t operator()(mpisweep::StrongId<Tag, Rep> id) const noexcept {
        return std::hash<Rep>{}(id.value());
    }
};
