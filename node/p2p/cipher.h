// Sealed frames after the handshake (handshake.h derives the keys).
//
// Wire: length u32 BE | ChaCha20-Poly1305-IETF(key, nonce, plaintext, ad = the
// 4 length bytes), where length counts the ciphertext including its 16-byte
// tag and plaintext = type u8 | payload. The nonce is 4 zero bytes followed by
// a 64-bit big-endian counter that starts at 0 for each direction and rises by
// one per frame; it is never sent, so a replayed, dropped or reordered frame
// fails authentication. Each direction has its own key, so no (key, nonce)
// pair is ever used twice; a sender whose counter is exhausted must close.
#pragma once

#include <array>
#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"
#include "node/p2p/handshake.h"

namespace imi::p2p {

enum class FrameType : uint8_t {
  kAuth = 0,       // handshake signature; only as the first sealed frame
  kData = 1,       // a payload for on_message
  kKeepalive = 2,  // empty; keeps an idle connection alive
};

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kFrameTagBytes = 16;
// Ciphertext bytes added to a payload: the type byte and the tag.
inline constexpr size_t kFrameOverheadBytes = 1 + kFrameTagBytes;

uint32_t read_be32(const uint8_t* p);
void write_be32(uint8_t* p, uint32_t v);

class FrameSealer {
 public:
  // `next_counter` is the first nonce counter to use (0 on a new connection;
  // tests start near the end to exercise exhaustion).
  explicit FrameSealer(const SessionKey& key, uint64_t next_counter = 0);
  ~FrameSealer();
  FrameSealer(const FrameSealer&) = delete;
  FrameSealer& operator=(const FrameSealer&) = delete;

  // The whole wire frame (length prefix included). "p2p.nonce_exhausted" once
  // the counter reached 2^64-1: the connection must close.
  Result<Bytes> seal(FrameType type, ByteView payload);
  uint64_t next_counter() const { return counter_; }

 private:
  SessionKey key_;
  uint64_t counter_;
};

class FrameOpener {
 public:
  explicit FrameOpener(const SessionKey& key, uint64_t next_counter = 0);
  ~FrameOpener();
  FrameOpener(const FrameOpener&) = delete;
  FrameOpener& operator=(const FrameOpener&) = delete;

  // Opens the frame whose 4-byte length prefix is `header` and whose
  // ciphertext is `ciphertext`; returns type byte + payload.
  // "p2p.decrypt_failed" when authentication fails (tampering, replay,
  // reordering, wrong key), "p2p.nonce_exhausted" past the last counter.
  Result<Bytes> open(ByteView header, ByteView ciphertext);

 private:
  SessionKey key_;
  uint64_t counter_;
};

}  // namespace imi::p2p
