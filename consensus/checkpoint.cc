// Checkpoints (engine.h): every checkpoint_interval heights each validator
// signs the decided block; q matching signatures make the checkpoint stable,
// and certificates, checkpoints and validator sets below it are dropped. A
// stable checkpoint above our tip tells us we are behind.
#include "consensus/engine.h"

namespace imi::consensus {

void Engine::maybe_checkpoint(uint64_t height, const Hash32& block) {
  if (height % opts_.checkpoint_interval != 0) return;
  const ValidatorSet* set = schedule_.at(height);
  if (set == nullptr || !set->contains(opts_.self)) return;
  Checkpoint c{height, block, opts_.self, {}};
  c.sig = signer_.sign(SigKind::kCheckpoint, checkpoint_canonical(opts_.chain_id, height, block));
  checkpoints_[height][opts_.self] = c;
  own_checkpoint_ = c;
  send(c);
  try_stabilize();
}

void Engine::handle_checkpoint(const Checkpoint& c) {
  if (c.height <= stable_height_) return drop(DropReason::kOldHeight);
  if (c.height % opts_.checkpoint_interval != 0) return drop(DropReason::kMalformed);
  const ValidatorSet* set = schedule_.at(c.height);
  if (set == nullptr) return drop(DropReason::kFutureHeight);
  Status st = verify_checkpoint(c, opts_.chain_id, *set, verifier_);
  if (!st) return drop(reason_for_status(st));
  if (c.height > tip_.height) {
    if (c.validator != opts_.self) ready_.sync = SyncHint{c.validator, c.height};
    return drop(DropReason::kFutureHeight);
  }
  auto [it, inserted] = checkpoints_[c.height].try_emplace(c.validator, c);
  if (!inserted) return drop(DropReason::kDuplicate);
  try_stabilize();
}

void Engine::try_stabilize() {
  for (auto it = checkpoints_.rbegin(); it != checkpoints_.rend(); ++it) {
    uint64_t h = it->first;
    auto cert = certs_.find(h);
    const ValidatorSet* set = schedule_.at(h);
    if (cert == certs_.end() || set == nullptr || h <= stable_height_) continue;
    uint64_t matching = 0;
    for (const auto& [who, c] : it->second)
      if (c.block == cert->second.block) ++matching;
    if (matching < set->quorum()) continue;
    stable_height_ = h;
    stable_block_ = cert->second.block;
    checkpoints_.erase(checkpoints_.begin(), checkpoints_.upper_bound(h));
    certs_.erase(certs_.begin(), certs_.lower_bound(h));
    for (auto d = decided_sent_.begin(); d != decided_sent_.end();)
      d = d->first.second < h ? decided_sent_.erase(d) : std::next(d);
    schedule_.prune_below(h);
    dirty_ = true;
    return;
  }
}

}  // namespace imi::consensus
