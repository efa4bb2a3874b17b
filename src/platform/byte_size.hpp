#pragma once
// Sizes of GPU memory as people write them: 6G, 512M, 1.5GiB, 16000000000.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpisweep {

using Bytes = std::uint64_t;

/// A size: a non-negative number with an optional unit K, M, G or T (powers of 1024; "KB",
/// "KiB" and "k" mean the same), or bytes without a unit. nullopt for anything else.
std::optional<Bytes> parse_byte_size(std::string_view text);

/// 6442450944 -> "6 GiB", 1610612736 -> "1.5 GiB", 1000 -> "1000 B": for messages.
std::string format_bytes(Bytes bytes);

}  // namespace mpisweep
