#include "identity/sealed.h"

#include <sodium.h>

#include <cstdlib>

namespace imi::identity {
namespace {

static_assert(crypto_box_SEALBYTES == kSealedOverheadBytes);

void ensure_sodium() {
  if (sodium_init() < 0) std::abort();  // no cryptography at all: unrecoverable
}

}  // namespace

Result<Bytes> seal(const PublicKey& recipient, ByteView message) {
  ensure_sodium();
  std::array<uint8_t, crypto_box_PUBLICKEYBYTES> x{};
  if (!is_valid_public_key(recipient) ||
      crypto_sign_ed25519_pk_to_curve25519(x.data(), recipient.data()) != 0) {
    return Status::error("sealed.bad_key", "the recipient key is not a valid Ed25519 key");
  }
  Bytes out(message.size() + crypto_box_SEALBYTES);
  if (crypto_box_seal(out.data(), message.data(), message.size(), x.data()) != 0) {
    return Status::error("sealed.bad_key", "cannot seal to this key");
  }
  return out;
}

Result<Bytes> open_sealed(const KeyPair& recipient, ByteView box) {
  ensure_sodium();
  if (box.size() < crypto_box_SEALBYTES) {
    return Status::error("sealed.cannot_open", "a sealed box is at least 48 bytes");
  }
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), recipient.seed().data());
  std::array<uint8_t, crypto_box_PUBLICKEYBYTES> xpk{};
  std::array<uint8_t, crypto_box_SECRETKEYBYTES> xsk{};
  int rc = crypto_sign_ed25519_pk_to_curve25519(xpk.data(), pk.data());
  rc |= crypto_sign_ed25519_sk_to_curve25519(xsk.data(), sk.data());
  sodium_memzero(sk.data(), sk.size());
  Bytes out(box.size() - crypto_box_SEALBYTES);
  if (rc == 0)
    rc = crypto_box_seal_open(out.data(), box.data(), box.size(), xpk.data(), xsk.data());
  sodium_memzero(xsk.data(), xsk.size());
  if (rc != 0) {
    return Status::error("sealed.cannot_open",
                         "the box was not sealed to this key or has been altered");
  }
  return out;
}

}  // namespace imi::identity
