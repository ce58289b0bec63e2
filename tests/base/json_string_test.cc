#include "base/json_string.h"

#include <doctest/doctest.h>

#include <string>

namespace imi {
namespace {

std::string quoted(std::string_view s) {
  std::string out = "prefix:";
  append_jcs_string(out, s);
  return out;
}

TEST_CASE("plain text and UTF-8 pass through between quotes") {
  CHECK(quoted("") == "prefix:\"\"");
  CHECK(quoted("did:imi:abc") == "prefix:\"did:imi:abc\"");
  CHECK(quoted("\xE2\x82\xAC und \xF0\x9F\x98\x80") ==
        "prefix:\"\xE2\x82\xAC und \xF0\x9F\x98\x80\"");
  CHECK(quoted("\x7f") == "prefix:\"\x7f\"");  // DEL is not a control character in JSON
}

TEST_CASE("quote, backslash and control characters are escaped as RFC 8785 says") {
  CHECK(quoted("a\"b\\c") == "prefix:\"a\\\"b\\\\c\"");
  CHECK(quoted("\b\t\n\f\r") == "prefix:\"\\b\\t\\n\\f\\r\"");
  CHECK(quoted(std::string_view("\0\x01\x1f", 3)) == "prefix:\"\\u0000\\u0001\\u001f\"");
  // Escapes in the middle keep the text around them, in order.
  CHECK(quoted("x\ny\"z") == "prefix:\"x\\ny\\\"z\"");
  // RFC 8785 section 3.2.2.2's example string.
  CHECK(quoted("\xE2\x82\xAC$\x0F\nA'B\"\\\\\"/") ==
        "prefix:\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"");
}

}  // namespace
}  // namespace imi
