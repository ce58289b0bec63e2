// Membership, primary, quorum and signature checks of messages (messages.h).
#include <set>

#include "base/sha256.h"
#include "consensus/messages.h"

namespace imi::consensus {

namespace {

Status not_validator(const ValidatorId& id) {
  return Status::error("consensus.not_validator",
                       id + " is not in the validator set for that height; message dropped");
}

Status bad_sig(const char* what) {
  return Status::error("consensus.bad_signature",
                       std::string("signature on ") + what + " does not verify; message dropped");
}

// Distinct members, strictly sorted (checked by decode, re-checked here for
// values built in memory), each signature valid, and at least q of them.
Status verify_sig_list(const std::vector<SigEntry>& sigs, SigKind kind,
                       const std::string& canonical, const ValidatorSet& set,
                       const Verifier& verifier, const char* what) {
  for (size_t i = 0; i < sigs.size(); ++i) {
    if (i > 0 && !(sigs[i - 1].validator < sigs[i].validator))
      return Status::error("consensus.malformed",
                           std::string(what) + " signatures must be strictly sorted by validator");
    const Validator* v = set.find(sigs[i].validator);
    if (v == nullptr) return not_validator(sigs[i].validator);
    if (!verifier.verify(*v, kind, canonical, sigs[i].sig)) return bad_sig(what);
  }
  if (sigs.size() < set.quorum())
    return Status::error("consensus.no_quorum",
                         std::string(what) + " has " + std::to_string(sigs.size()) +
                             " signatures; a quorum is " + std::to_string(set.quorum()));
  return Status::ok();
}

}  // namespace

Status verify_proposal(const Proposal& p, std::string_view chain, const ValidatorSet& set,
                       const Verifier& verifier) {
  const Validator* v = set.find(p.proposer);
  if (v == nullptr) return not_validator(p.proposer);
  if (set.primary(p.view) != p.proposer)
    return Status::error("consensus.wrong_primary",
                         p.proposer + " is not the primary of view " + std::to_string(p.view));
  std::string canonical = proposal_canonical(chain, p.height, p.view, p.block, sha256(p.payload));
  if (!verifier.verify(*v, SigKind::kProposal, canonical, p.sig)) return bad_sig("proposal");
  return Status::ok();
}

Status verify_vote(const Vote& vote, std::string_view chain, const ValidatorSet& set,
                   const Verifier& verifier) {
  const Validator* v = set.find(vote.validator);
  if (v == nullptr) return not_validator(vote.validator);
  std::string canonical = vote_canonical(chain, vote.height, vote.view, vote.block, vote.phase);
  if (!verifier.verify(*v, SigKind::kVote, canonical, vote.sig)) return bad_sig("vote");
  return Status::ok();
}

Status verify_prepared(uint64_t height, const PreparedCert& pc, std::string_view chain,
                       const ValidatorSet& set, const Verifier& verifier) {
  const Validator* primary = set.find(set.primary(pc.view));
  std::string proposal = proposal_canonical(chain, height, pc.view, pc.block, sha256(pc.payload));
  if (!verifier.verify(*primary, SigKind::kProposal, proposal, pc.proposal_sig))
    return bad_sig("prepared certificate's proposal");
  return verify_sig_list(pc.prepares, SigKind::kVote,
                         vote_canonical(chain, height, pc.view, pc.block, Phase::kPrepare), set,
                         verifier, "prepared certificate");
}

Status verify_view_change(const ViewChange& vc, std::string_view chain, const ValidatorSet& set,
                          const Verifier& verifier) {
  const Validator* v = set.find(vc.validator);
  if (v == nullptr) return not_validator(vc.validator);
  if (vc.view == 0 || (vc.prepared && vc.prepared->view >= vc.view))
    return Status::error("consensus.malformed", "view change with an impossible prepared view");
  std::optional<PreparedRef> ref;
  if (vc.prepared) ref = PreparedRef{vc.prepared->view, vc.prepared->block};
  if (!verifier.verify(*v, SigKind::kViewChange,
                       view_change_canonical(chain, vc.height, vc.view, ref), vc.sig))
    return bad_sig("view change");
  if (vc.prepared) return verify_prepared(vc.height, *vc.prepared, chain, set, verifier);
  return Status::ok();
}

const PreparedCert* highest_prepared(const std::vector<ViewChange>& view_changes) {
  const PreparedCert* best = nullptr;
  for (const auto& vc : view_changes)
    if (vc.prepared && (best == nullptr || vc.prepared->view > best->view)) best = &*vc.prepared;
  return best;
}

Status verify_new_view(const NewView& nv, std::string_view chain, const ValidatorSet& set,
                       const Verifier& verifier) {
  auto bad = [](const std::string& m) { return Status::error("consensus.bad_new_view", m); };
  if (nv.proposal.height != nv.height || nv.proposal.view != nv.view || nv.view == 0)
    return bad("new view's proposal is for another height or view");
  std::set<ValidatorId> seen;
  for (const auto& vc : nv.view_changes) {
    if (vc.height != nv.height || vc.view != nv.view)
      return bad("new view carries a view change for another height or view");
    if (!seen.insert(vc.validator).second) return bad("new view repeats a validator");
    IMI_RETURN_IF_ERROR(verify_view_change(vc, chain, set, verifier));
  }
  if (seen.size() < set.quorum())
    return Status::error("consensus.no_quorum", "new view carries fewer than q view changes");
  IMI_RETURN_IF_ERROR(verify_proposal(nv.proposal, chain, set, verifier));
  if (const PreparedCert* pc = highest_prepared(nv.view_changes)) {
    if (pc->block != nv.proposal.block || pc->payload != nv.proposal.payload)
      return bad("new view must re-propose the highest prepared block with its original bytes");
  }
  return Status::ok();
}

Status verify_checkpoint(const Checkpoint& c, std::string_view chain, const ValidatorSet& set,
                         const Verifier& verifier) {
  const Validator* v = set.find(c.validator);
  if (v == nullptr) return not_validator(c.validator);
  if (!verifier.verify(*v, SigKind::kCheckpoint, checkpoint_canonical(chain, c.height, c.block),
                       c.sig))
    return bad_sig("checkpoint");
  return Status::ok();
}

Status verify_commit_certificate(const CommitCertificate& cert, std::string_view chain,
                                 const ValidatorSet& set, const Verifier& verifier) {
  if (cert.height == 0 || cert.height > kMaxSafeInteger || cert.view > kMaxSafeInteger)
    return Status::error("consensus.malformed", "certificate height or view out of range");
  return verify_sig_list(cert.sigs, SigKind::kVote,
                         vote_canonical(chain, cert.height, cert.view, cert.block, Phase::kCommit),
                         set, verifier, "commit certificate");
}

}  // namespace imi::consensus
