// The consensus engine's signing seam (consensus/signer.h) backed by the
// validator's Ed25519 key, and strict Ed25519 verification of peers.
#pragma once

#include <deque>
#include <mutex>
#include <unordered_set>

#include "base/bytes.h"
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

// Strict Ed25519 (identity::verify) that remembers its most recent
// successes, so a consensus message a verify thread checked first (Node::
// check_consensus_message) is not checked again when the engine receives it
// on the loop thread. A success is remembered under SHA-256 of everything
// verified (kind, key, signature, signed text); failures are never kept, so
// the memory cannot change an answer. Thread-safe.
class Ed25519Verifier : public consensus::Verifier {
 public:
  // Successes remembered (oldest forgotten first): some seconds of votes.
  static constexpr size_t kRemembered = 16384;

  explicit Ed25519Verifier(size_t remembered = kRemembered) : remembered_(remembered) {}

  bool verify(const consensus::Validator& signer, consensus::SigKind kind,
              std::string_view canonical_json, const consensus::Signature& sig) const override;
  // How many verify() calls were answered from memory (tests, metrics).
  uint64_t remembered_hits() const;

 private:
  const size_t remembered_;
  mutable std::mutex mu_;
  mutable std::unordered_set<Hash32, Hash32Hasher> ok_;  // guarded by mu_
  mutable std::deque<Hash32> order_;                     // guarded by mu_, oldest first
  mutable uint64_t hits_ = 0;                            // guarded by mu_
};

identity::Domain domain_of(consensus::SigKind kind);

}  // namespace imi::node
