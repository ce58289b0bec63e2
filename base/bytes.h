// Byte strings, fixed-size hashes and lowercase hex (DESIGN "binary in JSON":
// lowercase hex of fixed length; anything else is rejected).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imi {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using Hash32 = std::array<uint8_t, 32>;

// Hash function for unordered containers keyed by a Hash32 that is itself a
// SHA-256 output (ids, node hashes): its first 8 bytes are already uniform.
struct Hash32Hasher {
  size_t operator()(const Hash32& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

inline ByteView as_bytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Lowercase hex of `data`.
std::string to_hex(ByteView data);
template <size_t N>
std::string to_hex(const std::array<uint8_t, N>& a) {
  return to_hex(ByteView(a.data(), a.size()));
}

// Decodes lowercase hex only (uppercase, odd length, other characters: nullopt).
std::optional<Bytes> from_hex(std::string_view hex);

// Decodes exactly N bytes of lowercase hex (2N characters), else nullopt.
template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex_fixed(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  auto b = from_hex(hex);
  if (!b) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = (*b)[i];
  return out;
}

// True if `hex` is exactly `chars` lowercase hex characters.
bool is_lower_hex(std::string_view hex, size_t chars);

}  // namespace imi
