// Canonical JSON (RFC 8785, JCS) and the strict parser every input from a
// client or a peer goes through (DESIGN "canonical form").
//
// Values are RapidJSON documents. The strict parser accepts only JSON whose
// meaning has exactly one canonical form: no floats or exponents, integers
// within ±(2^53−1), no duplicate keys, ASCII-only object keys, valid UTF-8
// strings with no lone surrogates, and nothing beyond the limits.
// Each rejection has its own Status code (listed below) and a message that
// names the offset and what was wrong.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace imi::ledger {

constexpr int64_t kJsonMaxSafeInteger = 9007199254740991;  // 2^53 − 1

// Validity limits. Block-validity limits come from genesis; a node's config
// may only tighten what its own mempool admits (DESIGN "validity limits").
struct JsonLimits {
  size_t max_bytes = 1 << 20;   // whole document
  int max_depth = 32;           // nesting of arrays and objects
  size_t max_string_bytes = 1 << 16;
  size_t max_members = 4096;    // per object or array
};

// Error codes: json.too_large, json.too_deep, json.syntax, json.float,
// json.integer_range, json.duplicate_key, json.non_ascii_key, json.invalid_utf8,
// json.lone_surrogate, json.string_too_long, json.too_many_members,
// json.trailing_data.
Result<rapidjson::Document> parse_strict(std::string_view text, const JsonLimits& limits = {});

// RFC 8785 serialisation of a value that satisfies the strict rules
// (integers only; keys sorted by UTF-16 code units, which for ASCII keys is
// byte order). Asserts on doubles: they cannot come from parse_strict.
std::string jcs(const rapidjson::Value& value);

// RFC 8785 serialisation of `value` with its top-level member `omit` left
// out (signed bytes are the JCS of an object without its "sig").
std::string jcs_without(const rapidjson::Value& object, std::string_view omit);

}  // namespace imi::ledger
