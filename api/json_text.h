// Small JSON text helpers for the bodies the server writes itself (problems,
// {"id"}, block pages). The node's bodies are passed through untouched.
#pragma once

#include <string>
#include <string_view>

namespace imi::api {

// `s` as a quoted JSON string. Quotes, backslashes and control characters
// are escaped; bytes that are not valid UTF-8 become U+FFFD, so the result
// is always valid JSON whatever a message or a client's input contained.
std::string json_quote(std::string_view s);

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace imi::api
