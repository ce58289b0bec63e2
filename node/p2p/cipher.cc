#include "node/p2p/cipher.h"

#include <sodium.h>

#include <cstring>
#include <limits>

namespace imi::p2p {
namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kFrameTagBytes);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == 32);

constexpr uint64_t kCounterLast = std::numeric_limits<uint64_t>::max();

std::array<uint8_t, 12> nonce_for(uint64_t counter) {
  std::array<uint8_t, 12> n{};
  for (int i = 0; i < 8; ++i) n[4 + i] = static_cast<uint8_t>(counter >> (56 - 8 * i));
  return n;
}

}  // namespace

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void write_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

FrameSealer::FrameSealer(const SessionKey& key, uint64_t next_counter)
    : key_(key), counter_(next_counter) {}

FrameSealer::~FrameSealer() { sodium_memzero(key_.data(), key_.size()); }

Result<Bytes> FrameSealer::seal(FrameType type, ByteView payload) {
  // The last counter value is never used, so "counter_ == last" means spent.
  if (counter_ == kCounterLast) {
    return Status::error("p2p.nonce_exhausted",
                         "2^64-1 frames sent on this connection: reconnect for fresh keys");
  }
  size_t plain_len = 1 + payload.size();
  size_t cipher_len = plain_len + kFrameTagBytes;
  if (cipher_len > std::numeric_limits<uint32_t>::max()) {
    return Status::error("p2p.frame_too_large", "frame does not fit a 32-bit length");
  }
  Bytes out(kFrameHeaderBytes + cipher_len);
  write_be32(out.data(), static_cast<uint32_t>(cipher_len));
  // Encrypt in place: the plaintext goes where the ciphertext will be.
  uint8_t* body = out.data() + kFrameHeaderBytes;
  body[0] = static_cast<uint8_t>(type);
  if (!payload.empty()) std::memcpy(body + 1, payload.data(), payload.size());
  auto nonce = nonce_for(counter_);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(body, &written, body, plain_len, out.data(),
                                            kFrameHeaderBytes, nullptr, nonce.data(), key_.data());
  ++counter_;
  return out;
}

FrameOpener::FrameOpener(const SessionKey& key, uint64_t next_counter)
    : key_(key), counter_(next_counter) {}

FrameOpener::~FrameOpener() { sodium_memzero(key_.data(), key_.size()); }

Result<Bytes> FrameOpener::open(ByteView header, ByteView ciphertext) {
  if (counter_ == kCounterLast) {
    return Status::error("p2p.nonce_exhausted", "2^64-1 frames received on this connection");
  }
  if (header.size() != kFrameHeaderBytes || ciphertext.size() < kFrameOverheadBytes) {
    return Status::error("p2p.decrypt_failed", "sealed frame shorter than its type and tag");
  }
  Bytes plain(ciphertext.size() - kFrameTagBytes);
  auto nonce = nonce_for(counter_);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &written, nullptr, ciphertext.data(),
                                                ciphertext.size(), header.data(), header.size(),
                                                nonce.data(), key_.data()) != 0) {
    return Status::error("p2p.decrypt_failed",
                         "frame failed authentication (tampered, replayed or reordered)");
  }
  ++counter_;
  return plain;
}

}  // namespace imi::p2p
