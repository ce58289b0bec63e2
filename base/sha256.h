// SHA-256, the one hash of the chain (DESIGN "hash"). Every hash in the code
// base goes through here: it uses OpenSSL's implementation, which uses the
// CPU's SHA extensions (about 2.6x libsodium's portable C on this machine).
// Thread-safe: no shared state.
#pragma once

#include <initializer_list>
#include <string_view>

#include "base/bytes.h"

namespace imi {

Hash32 sha256(ByteView data);
inline Hash32 sha256(std::string_view s) { return sha256(as_bytes(s)); }

// Hash of the concatenation of `parts`, without copying them together.
Hash32 sha256_concat(std::initializer_list<ByteView> parts);

// Incremental hashing for large or streamed inputs (files).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(ByteView data);
  Hash32 finish();

 private:
  void* ctx_;  // SHA256_CTX, kept opaque so OpenSSL headers stay private
};

}  // namespace imi
