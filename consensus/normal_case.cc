// Normal case: proposal, prepare, commit, decision (engine.h).
#include <cassert>

#include "base/sha256.h"
#include "consensus/engine.h"

namespace imi::consensus {

std::optional<Hash32> Engine::spoken_vote(uint64_t view, Phase phase) const {
  for (const Message& m : spoken_)
    if (auto* v = std::get_if<Vote>(&m); v && v->view == view && v->phase == phase) return v->block;
  return std::nullopt;
}

const Proposal* Engine::spoken_proposal(uint64_t view) const {
  for (const Message& m : spoken_) {
    if (auto* p = std::get_if<Proposal>(&m); p && p->view == view && p->proposer == opts_.self)
      return p;
    if (auto* nv = std::get_if<NewView>(&m); nv && nv->view == view) return &nv->proposal;
  }
  return nullptr;
}

std::vector<SigEntry> Engine::collect(uint64_t view, Phase phase, const Hash32& block) const {
  // votes_ is ordered by (view, phase, validator): the result is sorted by validator.
  std::vector<SigEntry> out;
  for (auto it = votes_.lower_bound(VoteKey{view, phase, ValidatorId{}});
       it != votes_.end() && it->first.view == view && it->first.phase == phase; ++it)
    if (it->second.block == block) out.push_back(SigEntry{it->second.validator, it->second.sig});
  return out;
}

void Engine::handle_proposal(const Proposal& p, bool via_new_view) {
  if (auto ev = evidence_.observe(p)) ready_.evidence.push_back(std::move(*ev));
  if (!via_new_view) {
    // A plain proposal is valid only in the view this height began in; views
    // reached by a view change get their proposal inside the NewView.
    if (p.view < view_) return drop(DropReason::kOldView);
    if (p.view > view_) return drop(DropReason::kFutureView);
    if (view_changing_ || view_ != start_view_) return drop(DropReason::kBadNewView);
  }
  if (auto it = proposals_.find(p.view); it != proposals_.end())
    return drop(DropReason::kDuplicate);
  arm_progress_timer();
  accept_proposal(p);
}

void Engine::accept_proposal(const Proposal& p) {
  proposals_[p.view] = p;
  auto it = payloads_.find(p.block);
  if (it != payloads_.end() && it->second != p.payload) {
    // Same block id, other bytes: only a faulty primary does that. Keep bytes
    // the application accepted; otherwise try the new ones.
    auto v = verdicts_.find(p.block);
    if (v != verdicts_.end() && v->second.valid) return;
    verdicts_.erase(p.block);
    validate_requested_.erase(p.block);
    it->second = p.payload;
  } else if (it == payloads_.end()) {
    payloads_.emplace(p.block, p.payload);
  }
  if (verdicts_.count(p.block) == 0 && validate_requested_.insert(p.block).second)
    ready_.validate.push_back(ValidateRequest{height_, p.block, p.payload, tip_.block});
}

void Engine::handle_vote(const Vote& v) {
  if (v.view < start_view_ || (v.phase == Phase::kPrepare && v.view < view_))
    return drop(DropReason::kOldView);
  if (v.view > view_ + opts_.view_window) return drop(DropReason::kFutureView);
  if (auto ev = evidence_.observe(v)) ready_.evidence.push_back(std::move(*ev));
  auto [it, inserted] = votes_.try_emplace(VoteKey{v.view, v.phase, v.validator}, v);
  if (!inserted) return drop(DropReason::kDuplicate);
  arm_progress_timer();
}

void Engine::maybe_request_proposal() {
  if (view_changing_ || view_ != start_view_ || !is_member() || !is_primary()) return;
  if (proposal_requested_ || spoken_proposal(view_) != nullptr) return;
  proposal_requested_ = true;
  ready_.propose = ProposeRequest{height_, view_, tip_.block, tip_.time_ms, false};
}

Ready Engine::propose(uint64_t height, uint64_t view, const Hash32& block, Bytes payload,
                      uint64_t block_time_ms) {
  bool fresh = height == height_ && view == view_ && is_member() && is_primary() &&
               spoken_proposal(view) == nullptr && payload.size() <= opts_.limits.payload_bytes_max;
  bool plain = !view_changing_ && view_ == start_view_;
  if (fresh && (plain || view_changing_)) {
    Proposal p{height, view, block, std::move(payload), opts_.self, {}};
    p.sig = signer_.sign(SigKind::kProposal, proposal_canonical(opts_.chain_id, height, view, block,
                                                                sha256(p.payload)));
    verdicts_[block] = Verdict{true, block_time_ms};
    payloads_[block] = p.payload;
    validate_requested_.insert(block);
    if (plain) {
      evidence_.observe(p);
      speak(p);
      accept_proposal(p);
      arm_progress_timer();
    } else {
      // Kept durable; it goes out inside the NewView.
      spoken_.push_back(std::move(p));
      dirty_ = true;
    }
  }
  advance();
  return take_ready();
}

void Engine::maybe_prepare() {
  if (view_changing_ || !is_member()) return;
  auto it = proposals_.find(view_);
  if (it == proposals_.end() || spoken_vote(view_, Phase::kPrepare)) return;
  const Proposal& p = it->second;
  auto v = verdicts_.find(p.block);
  if (v == verdicts_.end() || !v->second.valid) return;
  // Block time: parent.time < time <= own clock + Delta (re-checked every tick).
  uint64_t t = v->second.block_time_ms;
  if (!(tip_.time_ms < t && t <= now_ms_ + opts_.block_time_future_max_ms)) return;
  if (payloads_[p.block] != p.payload) return;
  Vote vote{height_, view_, p.block, Phase::kPrepare, opts_.self, {}};
  vote.sig = signer_.sign(SigKind::kVote,
                          vote_canonical(opts_.chain_id, height_, view_, p.block, Phase::kPrepare));
  // The proposal is kept durable too: a prepared certificate needs its bytes
  // and signature after a restart.
  if (p.proposer != opts_.self) spoken_.push_back(p);
  evidence_.observe(vote);
  votes_[VoteKey{view_, Phase::kPrepare, opts_.self}] = vote;
  speak(vote);
}

void Engine::maybe_commit_vote() {
  if (view_changing_ || !is_member()) return;
  auto prepared = spoken_vote(view_, Phase::kPrepare);
  if (!prepared || spoken_vote(view_, Phase::kCommit)) return;
  std::vector<SigEntry> sigs = collect(view_, Phase::kPrepare, *prepared);
  if (sigs.size() < current_set()->quorum()) return;
  auto p = proposals_.find(view_);
  assert(p != proposals_.end() && p->second.block == *prepared);
  if (!prepared_ || prepared_->view < view_)
    prepared_ = PreparedCert{view_, *prepared, p->second.payload, p->second.sig, std::move(sigs)};
  Vote vote{height_, view_, *prepared, Phase::kCommit, opts_.self, {}};
  vote.sig = signer_.sign(
      SigKind::kVote, vote_canonical(opts_.chain_id, height_, view_, *prepared, Phase::kCommit));
  evidence_.observe(vote);
  votes_[VoteKey{view_, Phase::kCommit, opts_.self}] = vote;
  speak(vote);
}

void Engine::maybe_decide() {
  const uint64_t q = current_set()->quorum();
  std::map<std::pair<uint64_t, Hash32>, uint64_t> counts;
  for (const auto& [key, vote] : votes_)
    if (key.phase == Phase::kCommit) ++counts[{key.view, vote.block}];
  for (const auto& [vb, count] : counts) {
    if (count < q) continue;
    const auto& [view, block] = vb;
    auto payload = payloads_.find(block);
    auto verdict = verdicts_.find(block);
    // Decided without us seeing the block, or with a payload the application
    // refused (a Byzantine primary can send one replica other bytes under the
    // block id the rest certify): fetch the block with its certificate. The
    // payload held here is never committed.
    if (payload == payloads_.end() || (verdict != verdicts_.end() && !verdict->second.valid)) {
      auto sigs = collect(view, Phase::kCommit, block);
      ready_.sync = SyncHint{sigs.front().validator, height_};
      continue;
    }
    if (verdict == verdicts_.end()) continue;  // waiting for the application's answer
    CommitCertificate cert{height_, view, block, collect(view, Phase::kCommit, block)};
    decide(cert, payload->second, verdict->second.block_time_ms, /*emit=*/true);
    return;
  }
}

void Engine::decide(const CommitCertificate& cert, const Bytes& payload, uint64_t block_time_ms,
                    bool emit) {
  if (emit)
    ready_.committed.push_back(Committed{cert.height, cert.block, payload, block_time_ms, cert});
  certs_[cert.height] = cert;
  while (certs_.size() > opts_.retained_certs_max) certs_.erase(certs_.begin());
  tip_ = ChainTip{cert.height, cert.block, block_time_ms, cert.view, std::nullopt};
  attempt_ = 0;
  reset_height(cert.view);
  evidence_.prune_below(height_);
  maybe_checkpoint(cert.height, cert.block);
  std::vector<Message> buffered;
  buffered.swap(future_);
  for (const Message& m : buffered) handle(m, /*verified=*/true);
  if (!pending_.empty()) arm_progress_timer();
}

void Engine::handle_old_height(const ValidatorId& from, uint64_t height, bool stuck) {
  // A peer still working on a decided height: send it the certificate. Late
  // votes are normal right after a decision, so wait until the peer is still
  // there a rebroadcast period later, unless it is already changing views.
  auto cert = certs_.find(height);
  if (cert == certs_.end() || from == opts_.self) return;
  // Value: the earliest tick at which we answer this (peer, height).
  auto [it, first] = decided_sent_.try_emplace(
      {from, height}, stuck ? now_tick_ : now_tick_ + opts_.rebroadcast_ticks);
  (void)first;
  if (now_tick_ < it->second) return;
  it->second = now_tick_ + opts_.rebroadcast_ticks;
  send(Decided{cert->second}, from);
}

void Engine::handle_decided(const Decided& d) {
  const CommitCertificate& c = d.cert;
  if (c.height < height_) return drop(DropReason::kOldHeight);
  const ValidatorSet* set = schedule_.at(c.height);
  if (set == nullptr) return drop(DropReason::kFutureHeight);
  Status st = verify_commit_certificate(c, opts_.chain_id, *set, verifier_);
  if (!st) return drop(reason_for_status(st));
  if (c.height > height_) {
    ready_.sync = SyncHint{c.sigs.front().validator, c.height};
    return drop(DropReason::kFutureHeight);
  }
  // Verified commit votes: fold them in; maybe_decide does the rest.
  for (const SigEntry& s : c.sigs)
    votes_.try_emplace(VoteKey{c.view, Phase::kCommit, s.validator},
                       Vote{c.height, c.view, c.block, Phase::kCommit, s.validator, s.sig});
  if (payloads_.count(c.block) == 0) ready_.sync = SyncHint{c.sigs.front().validator, c.height};
}

}  // namespace imi::consensus
