// Signing seam of the engine. The engine never calls a crypto library: the
// node passes an Ed25519 signer (identity/keys.h) and the simulator may pass a
// fast stand-in. Signed bytes are, per DESIGN "signed bytes", the ASCII tag
// "IMI/<kind>/v1", one '\n', then `canonical_json`: implementations add the tag.
#pragma once

#include <string_view>

#include "consensus/types.h"

namespace imi::consensus {

enum class SigKind { kProposal, kVote, kCheckpoint, kViewChange };

// "IMI/proposal/v1", "IMI/vote/v1", "IMI/checkpoint/v1", "IMI/viewchange/v1".
std::string_view sig_tag(SigKind kind);

// Signs with this node's validator key. Not thread-safe unless the
// implementation says so; the engine calls it from its single owner thread.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual Signature sign(SigKind kind, std::string_view canonical_json) = 0;
};

// Verifies a member's signature (strict Ed25519 in production). Must be
// deterministic: the same inputs always give the same answer.
class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual bool verify(const Validator& signer, SigKind kind, std::string_view canonical_json,
                      const Signature& sig) const = 0;
};

}  // namespace imi::consensus
