// A JSON string as RFC 8785 (JCS) writes it: '"' and '\' escaped, the
// control characters U+0000..U+001F as \b \t \n \f \r or \u00xx (lowercase
// hex), every other byte as is (so UTF-8 passes through unchanged; checking
// it is the parser's job). The one string writer of the canonical forms:
// ledger's JCS (ledger/json_jcs.cc) and the P2P handshake's signed text.
// Thread-safe: no shared state.
#pragma once

#include <string>
#include <string_view>

namespace imi {

// Appends `s` quoted and escaped to `out`.
void append_jcs_string(std::string& out, std::string_view s);

}  // namespace imi
