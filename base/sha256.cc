#include "base/sha256.h"

// OpenSSL 3 marks the one-shot SHA256_* functions deprecated in favour of EVP,
// but they use the same SHA-extension code without EVP's per-call provider
// dispatch. Measured here for 64-byte inputs (one core, loaded machine):
// SHA256_* 2.8 M/s, EVP with a fetched MD 1.85 M/s, EVP with EVP_sha256()
// 0.68 M/s, libsodium 0.62 M/s. Hashing sits on every hot path (ids, Merkle
// roots, the state tree), so we take the fastest.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdlib>

namespace imi {
namespace {

void check(int ok) {
  if (ok != 1) std::abort();  // OpenSSL failing on SHA-256 is not recoverable
}

}  // namespace

Hash32 sha256_concat(std::initializer_list<ByteView> parts) {
  SHA256_CTX ctx;
  check(SHA256_Init(&ctx));
  for (ByteView p : parts) check(SHA256_Update(&ctx, p.data(), p.size()));
  Hash32 out;
  check(SHA256_Final(out.data(), &ctx));
  return out;
}

// Not OpenSSL's one-shot SHA256(): in OpenSSL 3 it fetches the digest through
// EVP on every call, which callgrind showed as a large share of short hashes.
Hash32 sha256(ByteView data) { return sha256_concat({data}); }

Sha256::Sha256() : ctx_(new SHA256_CTX) { check(SHA256_Init(static_cast<SHA256_CTX*>(ctx_))); }
Sha256::~Sha256() { delete static_cast<SHA256_CTX*>(ctx_); }
void Sha256::update(ByteView data) {
  check(SHA256_Update(static_cast<SHA256_CTX*>(ctx_), data.data(), data.size()));
}
Hash32 Sha256::finish() {
  Hash32 out;
  check(SHA256_Final(out.data(), static_cast<SHA256_CTX*>(ctx_)));
  return out;
}

}  // namespace imi
