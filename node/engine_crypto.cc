#include "node/engine_crypto.h"

#include "base/sha256.h"

namespace imi::node {

identity::Domain domain_of(consensus::SigKind kind) {
  switch (kind) {
    case consensus::SigKind::kProposal:
      return identity::Domain::kProposal;
    case consensus::SigKind::kVote:
      return identity::Domain::kVote;
    case consensus::SigKind::kCheckpoint:
      return identity::Domain::kCheckpoint;
    case consensus::SigKind::kViewChange:
      return identity::Domain::kViewChange;
  }
  return identity::Domain::kVote;
}

consensus::Signature Ed25519Signer::sign(consensus::SigKind kind, std::string_view canonical_json) {
  return key_.sign(domain_of(kind), canonical_json);
}

bool Ed25519Verifier::verify(const consensus::Validator& signer, consensus::SigKind kind,
                             std::string_view canonical_json,
                             const consensus::Signature& sig) const {
  const identity::Domain domain = domain_of(kind);
  const uint8_t tag = static_cast<uint8_t>(domain);
  const Hash32 digest =
      sha256_concat({ByteView(&tag, 1), ByteView(signer.key.data(), signer.key.size()),
                     ByteView(sig.data(), sig.size()), as_bytes(canonical_json)});
  {
    std::lock_guard lock(mu_);
    if (ok_.count(digest) != 0) {
      ++hits_;
      return true;
    }
  }
  if (!identity::verify(domain, signer.key, canonical_json, sig)) return false;
  std::lock_guard lock(mu_);
  if (ok_.insert(digest).second) {
    order_.push_back(digest);
    if (order_.size() > remembered_) {
      ok_.erase(order_.front());
      order_.pop_front();
    }
  }
  return true;
}

uint64_t Ed25519Verifier::remembered_hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

}  // namespace imi::node
