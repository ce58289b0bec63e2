// Keys and signatures for the simulator: a fast stand-in (keyed SHA-256,
// verifiable only by the simulator, which knows every secret) and real
// Ed25519 through libsodium with the engine's "IMI/<kind>/v1\n" tags.
#pragma once

#include <map>
#include <memory>

#include "consensus/signer.h"

namespace imi::sim {

using consensus::PublicKey;
using consensus::SigKind;
using consensus::Signature;

struct SimKey {
  PublicKey public_key{};
  std::array<uint8_t, 32> secret{};     // fast mode: the MAC key
  std::array<uint8_t, 64> ed_secret{};  // Ed25519 mode: libsodium secret key
  consensus::ValidatorId did;
};

class KeyRing {
 public:
  KeyRing(bool ed25519) : ed25519_(ed25519) {}
  // Deterministic key number `index` of run `seed`.
  SimKey make(uint64_t seed, uint64_t index);
  bool ed25519() const { return ed25519_; }
  std::unique_ptr<consensus::Signer> signer(const SimKey& key) const;
  const consensus::Verifier& verifier() const { return *verifier_; }

 private:
  bool ed25519_;
  std::map<PublicKey, std::array<uint8_t, 32>> secrets_;  // fast mode only
  std::unique_ptr<consensus::Verifier> verifier_;
  friend class FastVerifier;
  void init_verifier();
};

}  // namespace imi::sim
