// base64url without padding (RFC 4648 §5), as JOSE and SD-JWT use it.
//
// Decoding is strict so that one byte string has exactly one spelling: '='
// padding, characters outside [A-Za-z0-9_-], a length of 1 mod 4 and
// non-zero unused trailing bits are all rejected. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace imi::identity {

std::string base64url_encode(ByteView data);
inline std::string base64url_encode(std::string_view s) { return base64url_encode(as_bytes(s)); }

// The bytes `text` spells, or nullopt if it is not strict unpadded base64url.
std::optional<Bytes> base64url_decode(std::string_view text);
// Same, as a string (for JSON payloads).
std::optional<std::string> base64url_decode_string(std::string_view text);

}  // namespace imi::identity
