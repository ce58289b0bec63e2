#include "base/json_string.h"

namespace imi {
namespace {

// For each byte: 0 if written as is, else the character after the backslash
// ('u' for \u00xx).
struct EscapeTable {
  char code[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) code[c] = 'u';
    code[static_cast<unsigned char>('\b')] = 'b';
    code[static_cast<unsigned char>('\t')] = 't';
    code[static_cast<unsigned char>('\n')] = 'n';
    code[static_cast<unsigned char>('\f')] = 'f';
    code[static_cast<unsigned char>('\r')] = 'r';
    code[static_cast<unsigned char>('"')] = '"';
    code[static_cast<unsigned char>('\\')] = '\\';
  }
};
constexpr EscapeTable kEscape;

}  // namespace

void append_jcs_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t n = s.size();
  size_t first = 0;
  while (first < n && kEscape.code[static_cast<unsigned char>(s[first])] == 0) ++first;
  out += '"';
  if (first == n) {  // the common case: nothing to escape
    out.append(s);
    out += '"';
    return;
  }
  out.append(s.data(), first);
  size_t run = first;
  for (size_t i = first; i < n; ++i) {
    const char code = kEscape.code[static_cast<unsigned char>(s[i])];
    if (code == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out += '\\';
    out += code;
    if (code == 'u') {
      const auto c = static_cast<unsigned char>(s[i]);
      out += "00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, n - run);
  out += '"';
}

}  // namespace imi
