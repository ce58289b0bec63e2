// The consensus engine's signing seam (consensus/signer.h) backed by the
// validator's Ed25519 key, and strict Ed25519 verification of peers.
#pragma once

#include "consensus/signer.h"
#include "identity/keys.h"

namespace imi::node {

// Signs with the validator key. Thread-compatible (KeyPair is immutable).
class Ed25519Signer : public consensus::Signer {
 public:
  explicit Ed25519Signer(identity::KeyPair key) : key_(std::move(key)) {}
  consensus::Signature sign(consensus::SigKind kind, std::string_view canonical_json) override;

 private:
  const identity::KeyPair key_;
};

// Strict Ed25519 (identity::verify). Thread-safe.
class Ed25519Verifier : public consensus::Verifier {
 public:
  bool verify(const consensus::Validator& signer, consensus::SigKind kind,
              std::string_view canonical_json, const consensus::Signature& sig) const override;
};

identity::Domain domain_of(consensus::SigKind kind);

}  // namespace imi::node
