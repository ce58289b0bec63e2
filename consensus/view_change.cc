// View change and new view (engine.h). Safety argument in brief: a block
// decided at (h, v) was prepared by q validators; any q view changes for a
// later view include at least one honest validator among them, which reports
// a prepared certificate of view >= v, and prepared certificates of one view
// agree (q-quorums intersect in an honest member). So the highest prepared
// certificate in any valid NewView names the decided block.
#include <algorithm>

#include "base/sha256.h"
#include "consensus/engine.h"

namespace imi::consensus {

void Engine::start_view_change(uint64_t new_view) {
  if (!is_member() || new_view <= view_ || new_view > kMaxSafeInteger) return;
  view_ = new_view;
  view_changing_ = true;
  ++attempt_;
  proposal_requested_ = false;
  new_view_.reset();
  ViewChange vc{height_, new_view, opts_.self, prepared_, {}};
  std::optional<PreparedRef> ref;
  if (prepared_) ref = PreparedRef{prepared_->view, prepared_->block};
  vc.sig = signer_.sign(SigKind::kViewChange,
                        view_change_canonical(opts_.chain_id, height_, new_view, ref));
  view_changes_[new_view][opts_.self] = vc;
  speak(std::move(vc));
  // Older view changes can no longer matter to us.
  view_changes_.erase(view_changes_.begin(), view_changes_.lower_bound(new_view));
  progress_deadline_ = 0;
  arm_progress_timer();  // only once q view changes for new_view are in
  if (next_rebroadcast_ <= now_tick_) next_rebroadcast_ = now_tick_ + opts_.rebroadcast_ticks;
}

void Engine::handle_view_change(const ViewChange& vc) {
  if (vc.view < view_ || (vc.view == view_ && !view_changing_)) return drop(DropReason::kOldView);
  if (vc.view > view_ + opts_.view_window) return drop(DropReason::kFutureView);
  auto [it, inserted] = view_changes_[vc.view].try_emplace(vc.validator, vc);
  if (!inserted) return drop(DropReason::kDuplicate);
  // A prepared certificate also carries the block's bytes.
  if (vc.prepared) payloads_.emplace(vc.prepared->block, vc.prepared->payload);
  arm_progress_timer();
}

void Engine::maybe_join_higher_view() {
  if (!is_member()) return;
  // Each validator's highest view change above our view; f+1 of them means
  // at least one honest validator timed out, so join the lowest of the f+1
  // highest rather than wait for our own timer.
  std::map<ValidatorId, uint64_t> highest;
  for (auto it = view_changes_.upper_bound(view_); it != view_changes_.end(); ++it)
    for (const auto& [who, vc] : it->second)
      if (who != opts_.self) highest[who] = std::max(highest[who], it->first);
  uint64_t f = current_set()->max_faulty();
  if (highest.size() < f + 1) return;
  std::vector<uint64_t> views;
  for (const auto& [who, v] : highest) views.push_back(v);
  std::sort(views.rbegin(), views.rend());
  start_view_change(views[f]);
}

void Engine::maybe_send_new_view() {
  if (!view_changing_ || !is_member() || !is_primary()) return;
  auto it = view_changes_.find(view_);
  if (it == view_changes_.end() || it->second.size() < current_set()->quorum()) return;
  std::vector<ViewChange> vcs;
  for (const auto& [who, vc] : it->second) vcs.push_back(vc);
  Proposal proposal;
  if (const PreparedCert* pc = highest_prepared(vcs)) {
    proposal = Proposal{height_, view_, pc->block, pc->payload, opts_.self, {}};
    proposal.sig = signer_.sign(
        SigKind::kProposal,
        proposal_canonical(opts_.chain_id, height_, view_, pc->block, sha256(pc->payload)));
  } else if (const Proposal* own = spoken_proposal(view_)) {
    proposal = *own;  // the application's fresh block for this view
  } else {
    if (!proposal_requested_) {
      proposal_requested_ = true;
      ready_.propose = ProposeRequest{height_, view_, tip_.block, tip_.time_ms, true};
    }
    return;
  }
  NewView nv{height_, view_, std::move(vcs), proposal};
  new_view_ = nv;
  install_view(view_);
  speak(std::move(nv));
  if (auto ev = evidence_.observe(proposal)) ready_.evidence.push_back(std::move(*ev));
  accept_proposal(proposal);
}

void Engine::install_view(uint64_t view) {
  view_ = view;
  view_changing_ = false;
  proposal_requested_ = false;
  progress_deadline_ = now_tick_ + timeout_ticks();
  if (next_rebroadcast_ <= now_tick_) next_rebroadcast_ = now_tick_ + opts_.rebroadcast_ticks;
  view_changes_.erase(view_changes_.begin(), view_changes_.upper_bound(view));
  dirty_ = true;
}

void Engine::handle_new_view(const NewView& nv) {
  if (nv.view < view_ || (nv.view == view_ && !view_changing_)) {
    if (new_view_ && nv == *new_view_) return drop(DropReason::kDuplicate);
    return drop(DropReason::kOldView);
  }
  if (nv.view > view_ + opts_.view_window) return drop(DropReason::kFutureView);
  // Verified: q view changes justify the view, and the proposal follows the
  // new-view rule. Jumping forward is safe: we only give up older views.
  for (const auto& vc : nv.view_changes)
    if (vc.prepared) payloads_.emplace(vc.prepared->block, vc.prepared->payload);
  new_view_ = nv;
  install_view(nv.view);
  handle_proposal(nv.proposal, /*via_new_view=*/true);
}

}  // namespace imi::consensus
