#include "consensus/evidence.h"

#include "base/sha256.h"

namespace imi::consensus {

std::optional<Evidence> EvidenceTracker::record(Key key, Evidence::Kind kind, const Hash32& block,
                                                const Hash32& payload_digest, const Message& m) {
  auto [it, inserted] = seen_.try_emplace(key);
  if (inserted) {
    it->second.block = block;
    it->second.payload_digest = payload_digest;
    it->second.wire = encode(m);
    return std::nullopt;
  }
  Seen& s = it->second;
  if (s.reported || (s.block == block && s.payload_digest == payload_digest)) return std::nullopt;
  s.reported = true;
  Evidence e;
  e.kind = kind;
  e.height = std::get<0>(key);
  e.view = std::get<1>(key);
  e.validator = std::get<3>(key);
  e.first = s.wire;
  e.second = encode(m);
  return e;
}

std::optional<Evidence> EvidenceTracker::observe(const Proposal& p) {
  return record({p.height, p.view, 0, p.proposer}, Evidence::Kind::kConflictingProposal, p.block,
                sha256(p.payload), p);
}

std::optional<Evidence> EvidenceTracker::observe(const Vote& v) {
  return record({v.height, v.view, static_cast<uint8_t>(v.phase), v.validator},
                Evidence::Kind::kConflictingVote, v.block, Hash32{}, v);
}

void EvidenceTracker::prune_below(uint64_t height) {
  seen_.erase(seen_.begin(), seen_.lower_bound(Key{height, 0, 0, ValidatorId{}}));
}

}  // namespace imi::consensus
