#include "node/engine_crypto.h"

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
  return identity::verify(domain_of(kind), signer.key, canonical_json, sig);
}

}  // namespace imi::node
