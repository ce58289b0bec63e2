#include "tests/sim/checker.h"

#include "base/sha256.h"
#include "tests/sim/world.h"

namespace imi::sim {

void Checker::init(std::string chain, const consensus::Verifier* verifier, Hash32 genesis,
                   std::vector<consensus::Validator> all_nodes,
                   std::vector<uint32_t> genesis_members) {
  chain_ = std::move(chain);
  verifier_ = verifier;
  genesis_ = genesis;
  nodes_ = std::move(all_nodes);
  sets_[0] = std::move(genesis_members);
}

std::vector<uint32_t> Checker::members_at(uint64_t height) const {
  return std::prev(sets_.upper_bound(height))->second;
}

void Checker::on_commit(uint32_t node, uint64_t height, const Hash32& block, const Bytes& payload,
                        const consensus::CommitCertificate& cert) {
  std::string who = "node " + std::to_string(node) + " height " + std::to_string(height);
  auto it = decided_.find(height);
  if (it != decided_.end()) {
    if (it->second != block)
      violation("agreement: " + who + " committed " + to_hex(block).substr(0, 16) +
                " but another honest node committed " + to_hex(it->second).substr(0, 16));
  } else {
    // First honest commit at this height: it must extend the decided chain
    // and pass the application's check.
    Hash32 parent = genesis_;
    uint64_t parent_time = kGenesisTimeMs;
    if (height > 1) {
      auto p = decided_.find(height - 1);
      if (p == decided_.end()) {
        violation("validity: " + who + " committed before height " + std::to_string(height - 1) +
                  " was decided");
        return;
      }
      parent = p->second;
      parent_time = times_[height - 1];
    }
    auto body = parse_body(payload);
    if (!body || block_id(payload) != block ||
        !app_valid(*body, height, parent, included_, published_at(body->time_ms)) ||
        body->time_ms <= parent_time) {
      violation("validity: " + who + " committed a block the application rejects");
    } else {
      for (uint64_t tx : body->txs) included_.insert(tx);
      times_[height] = body->time_ms;
      if (body->set_change) sets_[height + consensus::kValidatorSetDelay] = *body->set_change;
    }
    decided_[height] = block;
  }
  check_certificate(height, block, cert);
}

void Checker::check_certificate(uint64_t height, const Hash32& block,
                                const consensus::CommitCertificate& cert) {
  std::string who = "certificate at height " + std::to_string(height);
  if (cert.height != height || cert.block != block) return violation(who + " names another block");
  std::vector<uint32_t> members = members_at(height);
  // Independent of consensus::quorum(): floor(2n/3)+1.
  size_t q = members.size() * 2 / 3 + 1;
  std::string canonical =
      consensus::vote_canonical(chain_, height, cert.view, block, consensus::Phase::kCommit);
  for (size_t i = 0; i < cert.sigs.size(); ++i) {
    const auto& e = cert.sigs[i];
    if (i > 0 && !(cert.sigs[i - 1].validator < e.validator))
      return violation(who + " has unsorted or repeated signers");
    const consensus::Validator* v = nullptr;
    for (uint32_t m : members)
      if (nodes_[m].id == e.validator) v = &nodes_[m];
    if (v == nullptr) return violation(who + " has a signer outside the set");
    if (!verifier_->verify(*v, consensus::SigKind::kVote, canonical, e.sig))
      return violation(who + " has a bad signature");
  }
  if (cert.sigs.size() < q)
    violation(who + " has " + std::to_string(cert.sigs.size()) +
              " signatures, below q = " + std::to_string(q));
}

void Checker::on_evidence(uint32_t node, const consensus::ValidatorId& accused,
                          const std::set<consensus::ValidatorId>& byzantine) {
  if (byzantine.count(accused) == 0)
    violation("evidence: node " + std::to_string(node) + " accused honest validator " + accused);
}

}  // namespace imi::sim
