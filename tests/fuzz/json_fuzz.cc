// libFuzzer target for the strict parser and the RFC 8785 writer. Any input
// must either be rejected with a known error code or canonicalise to a text
// that parses again and is a fixed point: jcs(parse(jcs(x))) == jcs(x).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "ledger/json.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "json_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

const std::set<std::string, std::less<>> kCodes = {
    "json.too_large",      "json.too_deep",        "json.syntax",           "json.float",
    "json.integer_range",  "json.duplicate_key",   "json.non_ascii_key",    "json.invalid_utf8",
    "json.lone_surrogate", "json.string_too_long", "json.too_many_members", "json.trailing_data"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace imi::ledger;
  JsonLimits limits;
  limits.max_bytes = 1 << 16;
  limits.max_string_bytes = 1 << 12;
  limits.max_members = 256;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = parse_strict(text, limits);
  if (!doc) {
    if (kCodes.count(doc.status().code()) == 0) fail("unknown error code", doc.status().code());
    if (doc.status().message().rfind("at byte ", 0) != 0)
      fail("message without an offset", doc.status().message());
    return 0;
  }
  // Canonical text is never longer than its input, so the same limits hold.
  const std::string once = jcs(*doc);
  if (once.size() > size) fail("canonical text longer than input", once);
  auto again = parse_strict(once, limits);
  if (!again) fail("canonical text does not parse", again.status().to_string());
  if (jcs(*again) != once) fail("jcs is not idempotent", once);
  if (doc->IsObject()) {
    auto without = parse_strict(jcs_without(*doc, "sig"), limits);
    if (!without) fail("jcs_without output does not parse", without.status().to_string());
  }
  return 0;
}
