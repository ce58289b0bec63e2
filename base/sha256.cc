#include "base/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace imi {
namespace {

const EVP_MD* md() {
  static const EVP_MD* m = EVP_sha256();
  return m;
}

// One reusable context per thread: creating one per hash costs more than
// hashing 64 bytes.
EVP_MD_CTX* thread_ctx() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder h;
  return h.ctx;
}

void check(int ok) {
  if (ok != 1) std::abort();  // OpenSSL failing on SHA-256 is not recoverable
}

}  // namespace

Hash32 sha256_concat(std::initializer_list<ByteView> parts) {
  EVP_MD_CTX* ctx = thread_ctx();
  check(EVP_DigestInit_ex(ctx, md(), nullptr));
  for (ByteView p : parts) check(EVP_DigestUpdate(ctx, p.data(), p.size()));
  Hash32 out;
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx, out.data(), &len));
  return out;
}

Hash32 sha256(ByteView data) { return sha256_concat({data}); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  check(EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), md(), nullptr));
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(ByteView data) {
  check(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()));
}
Hash32 Sha256::finish() {
  Hash32 out;
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len));
  return out;
}

}  // namespace imi
