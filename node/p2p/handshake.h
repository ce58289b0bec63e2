// The P2P handshake (DESIGN "Edges: P2P"), free of sockets so that both the
// transport and test peers drive it with bytes in, bytes out.
//
// Wire (every message is one frame: a 4-byte big-endian length, then the body):
//   1. Each side sends a Hello at once, in plaintext:
//        "IMIP" | version u16 BE (= kProtocolVersion) | identity key (32, the
//        Ed25519 validator or observer key) | ephemeral X25519 key (32) |
//        chain id length u8 | chain id bytes (1..255)
//   2. On the peer's Hello each side checks version and chain id, refuses a
//      reflected Hello (its own ephemeral key echoed back) and its own identity
//      key, then computes
//        shared = X25519(own ephemeral secret, peer ephemeral public)
//        okm    = BLAKE2b-512("IMI/p2p-kdf/v1\n" | shared | JCS(transcript))
//      with the initiator->responder key = okm[0..32) and the
//      responder->initiator key = okm[32..64) (cipher.h seals with them).
//   3. Each side sends an Auth: the first sealed frame (type kAuth) holding its
//      64-byte Ed25519 signature identity::sign(Domain::kHandshake, JCS(signed
//      transcript)). The peer verifies it with identity::verify; the connection
//      is authenticated once both signatures verified.
//
// Transcript (RFC 8785 JCS, keys sorted, keys/ephemerals as 64 lowercase hex):
//   {"chain":"<chain id>","initiator_eph":"<hex>","initiator_key":"<hex>",
//    "responder_eph":"<hex>","responder_key":"<hex>","v":1}
// The signed transcript adds the signer's role, so neither signature can be
// replayed as the other's:
//   {"chain":...,"initiator_eph":...,"initiator_key":...,"responder_eph":...,
//    "responder_key":...,"role":"initiator"|"responder","v":1}
// and the signed bytes are "IMI/handshake/v1\n" + that JSON (identity/keys.h).
//
// Admission (is this identity key allowed?) is the caller's decision, taken on
// peer_key() after accept_peer_hello().
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"

namespace imi::p2p {

using identity::PublicKey;
using EphemeralKey = std::array<uint8_t, 32>;
using SessionKey = std::array<uint8_t, 32>;

inline constexpr uint16_t kProtocolVersion = 1;
// Largest Hello body on the wire.
inline constexpr size_t kHelloBytesMax = 4 + 2 + 32 + 32 + 1 + 255;

enum class Role { kInitiator, kResponder };

struct Hello {
  uint16_t version = kProtocolVersion;
  PublicKey identity{};
  EphemeralKey ephemeral{};
  std::string chain;
};

// Body of a Hello frame (without the length prefix).
Bytes encode_hello(const Hello& h);
// "p2p.bad_hello" when the bytes are not a Hello; the version is returned
// as sent (Handshake checks it).
Result<Hello> decode_hello(ByteView body);

// JCS of the transcript; a non-null role ("initiator" or "responder") adds
// "role" for the signed form. The chain id is a JCS string (escaped per RFC 8785).
std::string transcript_json(const std::string& chain, const PublicKey& initiator_key,
                            const EphemeralKey& initiator_eph, const PublicKey& responder_key,
                            const EphemeralKey& responder_eph, const char* role /* or null */);

// One side of one handshake. Holds the ephemeral secret; wipes it on destruction.
// Not thread-safe (one connection owns it).
class Handshake {
 public:
  // Draws a fresh ephemeral X25519 key (libsodium randombytes).
  Handshake(const identity::KeyPair& self, std::string chain, Role role);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  Role role() const { return role_; }
  const Hello& own_hello() const { return own_; }

  // Checks the peer's Hello and derives the session keys. Errors (the
  // connection must be refused): "p2p.bad_hello", "p2p.version",
  // "p2p.wrong_chain", "p2p.reflected" (our own ephemeral key came back),
  // "p2p.self" (our own identity key), "p2p.bad_key_exchange" (a low-order
  // X25519 point). May be called once.
  Status accept_peer_hello(ByteView body);

  // Valid after accept_peer_hello() succeeded.
  const PublicKey& peer_key() const { return peer_.identity; }
  const SessionKey& send_key() const { return send_key_; }
  const SessionKey& receive_key() const { return receive_key_; }
  // Our signature over the signed transcript for our role.
  identity::Signature own_signature() const;
  // "p2p.bad_signature" unless `sig` is 64 bytes and verifies under
  // peer_key() for the peer's role.
  Status verify_peer_signature(ByteView sig) const;
  // The signed transcript for `signer`.
  std::string signed_transcript(Role signer) const;

 private:
  identity::KeyPair self_;
  Role role_;
  Hello own_;
  Hello peer_;
  std::array<uint8_t, 32> ephemeral_secret_{};
  SessionKey send_key_{};
  SessionKey receive_key_{};
  bool peer_accepted_ = false;
};

}  // namespace imi::p2p
