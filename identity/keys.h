// Ed25519 keys, domain-separated signatures and did:imi (DESIGN "Contracts").
//
// Signed bytes are the ASCII tag "IMI/<kind>/v1", one '\n', then the JCS of
// the object without its "sig" member. This module takes the canonical JSON
// as bytes already made (ledger/ owns JCS), so identity/ never parses JSON for
// signing. Verification follows libsodium's strict rules: non-canonical S,
// small-order and non-canonical public keys are rejected.
// All functions are thread-safe; KeyPair is an immutable value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::identity {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using Seed = std::array<uint8_t, 32>;

// The kinds of signed object (DESIGN "signed bytes").
enum class Domain {
  kTx,
  kProposal,
  kVote,
  kCheckpoint,
  kViewChange,
  kNewView,
  kHandshake,
  kApproval,
  kAttestation,
  kConsent,
  kAnswer,
};

// "IMI/tx/v1" etc.
std::string_view domain_tag(Domain d);

// tag + '\n' + canonical: the exact bytes a signature covers.
std::string signed_bytes(Domain d, std::string_view canonical_json);

class KeyPair {
 public:
  // Fresh key from the OS random source (libsodium randombytes).
  static KeyPair generate();
  // Deterministic key from a 32-byte seed (tests, vectors, keystore).
  static KeyPair from_seed(const Seed& seed);

  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;
  ~KeyPair();  // wipes the secret key

  const PublicKey& public_key() const { return public_key_; }
  const Seed& seed() const { return seed_; }
  // did:imi of this key taken as an initial key.
  std::string did() const;

  // Signs signed_bytes(d, canonical_json).
  Signature sign(Domain d, std::string_view canonical_json) const;
  // Signs raw bytes with no domain tag: only for foreign formats that define
  // their own signing input (JWS in SD-JWT).
  Signature sign_raw(ByteView message) const;

 private:
  KeyPair() = default;
  Seed seed_{};
  PublicKey public_key_{};
  std::array<uint8_t, 64> secret_key_{};
};

// Strict Ed25519 verification of signed_bytes(d, canonical_json): false unless
// is_valid_public_key(key) and libsodium accepts the signature (canonical S,
// R not of small order).
bool verify(Domain d, const PublicKey& key, std::string_view canonical_json, const Signature& sig);
bool verify_raw(const PublicKey& key, ByteView message, const Signature& sig);

// False for small-order or non-canonical encodings (libsodium's rules), and
// for points outside the prime-order subgroup (crypto_core_ed25519_is_valid_point),
// which crypto_sign_verify_detached alone would accept. Other implementations
// must apply the same key check (PyNaCl: nacl.bindings.crypto_core_ed25519_is_valid_point;
// noble: reject unless the point is torsion-free and not small-order).
// Each thread caches keys that passed, so repeated checks of a key are cheap.
bool is_valid_public_key(const PublicKey& key);

// "did:imi:" + hex of the first 20 bytes of SHA-256(raw 32-byte key).
std::string did_from_key(const PublicKey& key);
// True if `did` is "did:imi:" followed by exactly 40 lowercase hex characters.
bool is_valid_did(std::string_view did);

}  // namespace imi::identity
