#pragma once
// UTF-8 checks for text that ends up in the results file (HDF5 strings are UTF-8), in JSON
// (the grid's canonical form, the journal header) or in a task's environment.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mpisweep::detail {

/// The offset of the first byte that does not belong to a well-formed UTF-8 sequence
/// (overlong forms, surrogates and code points above U+10FFFF are not well formed), or
/// nullopt when all of `text` is UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view text) noexcept;

/// "byte 0xff at offset 3" for the first invalid byte of `text` (which must have one).
std::string describe_invalid_utf8(std::string_view text, std::size_t offset);

/// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD and every
/// NUL by "\0": for messages made of other programs' output.
std::string to_valid_utf8(std::string_view text);

}  // namespace mpisweep::detail
