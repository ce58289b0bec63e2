// Evidence of Byzantine behaviour: two validly signed proposals or votes from
// one validator at one height, view (and phase) for different blocks. Both
// messages are kept in wire form so anyone can re-verify them later.
#pragma once

#include <map>
#include <optional>
#include <tuple>

#include "consensus/messages.h"

namespace imi::consensus {

struct Evidence {
  enum class Kind : uint8_t { kConflictingProposal, kConflictingVote };
  Kind kind = Kind::kConflictingVote;
  ValidatorId validator;
  uint64_t height = 0;
  uint64_t view = 0;
  Bytes first;   // encode(Message)
  Bytes second;  // encode(Message)
};

// Remembers the first proposal or vote per (height, view, phase, signer).
// Callers pass only messages whose signatures verified. Bounded by the
// engine's view window and validator count; reset per height.
class EvidenceTracker {
 public:
  // Evidence the first time `p` conflicts with an earlier proposal.
  std::optional<Evidence> observe(const Proposal& p);
  // Evidence the first time `v` conflicts with an earlier vote.
  std::optional<Evidence> observe(const Vote& v);
  // Forgets everything below `height`.
  void prune_below(uint64_t height);

 private:
  // phase 0 = proposal, 1 = prepare, 2 = commit
  using Key = std::tuple<uint64_t, uint64_t, uint8_t, ValidatorId>;
  struct Seen {
    Hash32 block{};
    Hash32 payload_digest{};
    Bytes wire;
    bool reported = false;
  };
  std::optional<Evidence> record(Key key, Evidence::Kind kind, const Hash32& block,
                                 const Hash32& payload_digest, const Message& m);
  std::map<Key, Seen> seen_;
};

}  // namespace imi::consensus
