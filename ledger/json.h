// Canonical JSON (RFC 8785, JCS) and the strict parser every input from a
// client or a peer goes through (DESIGN "canonical form").
//
// Values are RapidJSON documents. The strict parser accepts only JSON whose
// meaning has exactly one canonical form: no floats or exponents, integers
// within ±(2^53−1), no duplicate keys, ASCII-only object keys, valid UTF-8
// strings with no lone surrogates, and nothing beyond the limits.
// Each rejection has its own Status code (listed below) and a message that
// names the offset and what was wrong.
//
// All functions are thread-safe (no shared state).
#pragma once

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::ledger {

constexpr int64_t kJsonMaxSafeInteger = 9007199254740991;  // 2^53 − 1

// The parser recurses once per nesting level; whatever JsonLimits says, it
// never nests deeper than this, so no input can exhaust the stack.
constexpr int kJsonDepthCeiling = 1024;

// Validity limits. Block-validity limits come from genesis; a node's config
// may only tighten what its own mempool admits (DESIGN "validity limits").
struct JsonLimits {
  size_t max_bytes = 1 << 20;         // whole document, in bytes
  int max_depth = 32;                 // nesting of arrays and objects: `[]` is depth 1,
                                      // `[[]]` depth 2; capped at kJsonDepthCeiling
  size_t max_string_bytes = 1 << 16;  // one string or key, in bytes after unescaping
  size_t max_members = 4096;          // per object or array
};

// Parses `text` under the strict rules. Errors (message starts "at byte N:"):
//   json.too_large        text longer than limits.max_bytes
//   json.too_deep         arrays/objects nested deeper than limits.max_depth
//   json.syntax           not JSON: bad token, truncated input, raw control
//                         character in a string, leading zero ("01"), "+1",
//                         "-0" (zero has one spelling: 0), a UTF-8 BOM
//   json.float            a number with a fraction or exponent (1.0, 1e2, -0.0)
//   json.integer_range    an integer beyond ±(2^53−1)
//   json.duplicate_key    two members with one name after unescaping
//   json.non_ascii_key    an object key holding a character above U+007F
//   json.invalid_utf8     bytes that are not UTF-8 (overlong forms, encoded
//                         surrogates, above U+10FFFF, truncated sequences)
//   json.lone_surrogate   a \uD800–\uDFFF escape not part of a valid pair
//   json.string_too_long  a string or key longer than limits.max_string_bytes
//   json.too_many_members an object or array with more than limits.max_members
//   json.trailing_data    anything but whitespace after the value
// Numbers come back as int64 values; strings may contain U+0000.
Result<rapidjson::Document> parse_strict(std::string_view text, const JsonLimits& limits = {});

// Same, and appends to `spans` the exact text of every element of every array
// at nesting depth `depth` (`[...]` at the top is depth 1), in order: e.g.
// depth 2 gives each transaction's text in {"header":{...},"txs":[...]}.
Result<rapidjson::Document> parse_strict(std::string_view text, const JsonLimits& limits, int depth,
                                         std::vector<std::string_view>& spans);

// RFC 8785 serialisation of a value that satisfies the strict rules
// (integers only; keys sorted by UTF-16 code units, which for ASCII keys is
// byte order; other keys are sorted by bytes). Asserts on doubles and on
// integers beyond ±(2^53−1): they cannot come from parse_strict, so one
// reaching here is a bug in the code that built the value. Strings are
// written as stored (their UTF-8 is not re-validated).
std::string jcs(const rapidjson::Value& value);

// RFC 8785 serialisation of `value` with its top-level member `omit` left
// out (signed bytes are the JCS of an object without its "sig"). A value that
// is not an object is serialised whole.
std::string jcs_without(const rapidjson::Value& object, std::string_view omit);

// Appends jcs(value) to `out`, so a caller can prefix a domain tag or reuse a
// buffer without a second copy.
void jcs_append(std::string& out, const rapidjson::Value& value);

// --- Typed accessors for record decoders --------------------------------
// Each names the field in its message. Codes: json.wrong_type (obj is not an
// object, or the field has another type), json.missing_field,
// json.integer_range, json.bad_hex. Returned views and pointers live as long
// as the document.

// Checks that `obj` is an object whose members are all in `required` or
// `optional` (else json.unknown_field) and holds every `required` one (else
// json.missing_field).
Status expect_members(const rapidjson::Value& obj, std::initializer_list<std::string_view> required,
                      std::initializer_list<std::string_view> optional = {});

// True if `obj` is an object with a member named `field`.
bool has_field(const rapidjson::Value& obj, std::string_view field);

// The member named `field`, whatever its type.
Result<const rapidjson::Value*> get_field(const rapidjson::Value& obj, std::string_view field);

Result<std::string_view> get_string(const rapidjson::Value& obj, std::string_view field);
Result<bool> get_bool(const rapidjson::Value& obj, std::string_view field);
// An integer within ±(2^53−1).
Result<int64_t> get_int(const rapidjson::Value& obj, std::string_view field);
// An integer within [0, 2^53−1].
Result<uint64_t> get_uint(const rapidjson::Value& obj, std::string_view field);
Result<const rapidjson::Value*> get_object(const rapidjson::Value& obj, std::string_view field);
Result<const rapidjson::Value*> get_array(const rapidjson::Value& obj, std::string_view field);
// Exactly 64 lowercase hex characters (a hash or a public key).
Result<Hash32> get_hex32(const rapidjson::Value& obj, std::string_view field);
// Exactly 128 lowercase hex characters (a signature).
Result<std::array<uint8_t, 64>> get_hex64(const rapidjson::Value& obj, std::string_view field);

}  // namespace imi::ledger
