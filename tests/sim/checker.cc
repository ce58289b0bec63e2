#include "tests/sim/checker.h"

#include <algorithm>

#include "base/sha256.h"
#include "tests/sim/world.h"

namespace imi::sim {

void Checker::init(std::string chain, const consensus::Verifier* verifier, Hash32 genesis,
                   std::vector<consensus::Validator> all_nodes,
                   std::vector<uint32_t> genesis_members, Workload workload,
                   std::vector<bool> honest) {
  chain_ = std::move(chain);
  workload_ = workload;
  honest_ = std::move(honest);
  verifier_ = verifier;
  genesis_ = genesis;
  nodes_ = std::move(all_nodes);
  sets_[0] = std::move(genesis_members);
}

std::vector<uint32_t> Checker::members_at(uint64_t height) const {
  return std::prev(sets_.upper_bound(height))->second;
}

void Checker::on_commit(uint32_t node, uint64_t height, const Hash32& block, const Bytes& payload,
                        const consensus::CommitCertificate& cert, uint64_t now_ms) {
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
    bool deadlines_ok = body && check_deadlines(who, *body);
    if (!body || block_id(payload) != block ||
        !app_valid(*body, height, parent,
                   LedgerView{included_, deadlines_, workload_.published_at(body->time_ms)}) ||
        body->time_ms <= parent_time) {
      violation("validity: " + who + " committed a block the application rejects");
    } else if (deadlines_ok) {
      for (uint64_t tx : body->txs) included_.insert(tx);
      times_[height] = body->time_ms;
      if (body->set_change) sets_[height + consensus::kValidatorSetDelay] = *body->set_change;
      for (uint64_t key : body->fired) {
        deadlines_.erase({scheduled_[key], key});
        fired_[key] = {body->time_ms, now_ms};
      }
      if (!deadlines_.empty() && deadlines_.begin()->first <= body->time_ms)
        ++deadline_capped_blocks_;
      for (uint64_t tx : body->txs)
        if (auto at = workload_.deadline_of(tx, body->time_ms)) {
          scheduled_[tx] = *at;
          deadlines_.insert({*at, tx});
        }
      // No empty blocks while nothing waits: an honest primary cuts a block
      // for transactions, a set change or a due deadline, or when a new view
      // obliges it to. (The body names its proposer; no Byzantine behaviour
      // here forges that.)
      bool empty = body->txs.empty() && !body->set_change;
      if (empty && !body->fired.empty()) ++deadline_only_blocks_;
      if (empty && body->fired.empty() && body->proposer < honest_.size() &&
          honest_[body->proposer] && new_view_blocks_.count(block) == 0)
        violation("empty block: " + who + ": honest node " + std::to_string(body->proposer) +
                  " proposed a block with no transaction, deadline or set change");
    }
    decided_[height] = block;
    decided_at_.push_back(now_ms);
  }
  check_certificate(height, block, cert);
}

bool Checker::check_deadlines(const std::string& who, const BlockBody& b) {
  // Stated independently of due_deadlines(): each fired key was scheduled,
  // has not fired, is due, and comes in (time, key) order; the block fires
  // at most the bound, and no due deadline is passed over.
  auto fail = [&](const std::string& what) {
    violation("deadline: " + who + " (time " + std::to_string(b.time_ms) + ") " + what);
    return false;
  };
  if (b.fired.size() > kDeadlinesPerBlockMax)
    return fail("fires " + std::to_string(b.fired.size()) + " deadlines");
  std::pair<uint64_t, uint64_t> last{0, 0};
  for (size_t i = 0; i < b.fired.size(); ++i) {
    uint64_t key = b.fired[i];
    std::string k = "deadline " + std::to_string(key);
    if (fired_.count(key)) return fail("fires " + k + " again");
    auto at = scheduled_.find(key);
    if (at == scheduled_.end()) return fail("fires " + k + ", never scheduled");
    if (at->second > b.time_ms)
      return fail("fires " + k + " early: due at " + std::to_string(at->second));
    std::pair<uint64_t, uint64_t> here{at->second, key};
    if (i > 0 && !(last < here)) return fail("fires " + k + " out of (time, key) order");
    last = here;
  }
  for (const auto& [at, key] : deadlines_) {
    if (at > b.time_ms) break;
    bool fired = std::find(b.fired.begin(), b.fired.end(), key) != b.fired.end();
    bool may_wait = b.fired.size() == kDeadlinesPerBlockMax && last < std::make_pair(at, key);
    if (!fired && !may_wait)
      return fail("passes over deadline " + std::to_string(key) + " due at " + std::to_string(at));
  }
  return true;
}

std::string Checker::deadline_liveness(uint64_t heal_ms, uint64_t end_ms, uint64_t bound_ms,
                                       uint64_t* late_max_ms) const {
  // After the heal the engine may need a few view changes (with back-off) and
  // block syncs before it commits again; the liveness check proper covers that.
  auto live = std::lower_bound(decided_at_.begin(), decided_at_.end(), heal_ms);
  if (live == decided_at_.end()) return "";
  for (const auto& [key, at] : scheduled_) {
    // Block times run kGenesisTimeMs ahead of simulated time.
    uint64_t due = std::max(at > kGenesisTimeMs ? at - kGenesisTimeMs : 0, *live);
    auto f = fired_.find(key);
    if (f == fired_.end()) {
      if (due + bound_ms <= end_ms)
        return "liveness: deadline " + std::to_string(key) + " (time " + std::to_string(at) +
               ") never fired, " + std::to_string(end_ms - due) + " ms after it was due";
      continue;
    }
    uint64_t decided = f->second.second;
    if (decided < *live) continue;
    uint64_t late = decided > due ? decided - due : 0;
    *late_max_ms = std::max(*late_max_ms, late);
    if (late > bound_ms)
      return "liveness: deadline " + std::to_string(key) + " (time " + std::to_string(at) +
             ") fired " + std::to_string(late) + " ms after it was due, above the bound of " +
             std::to_string(bound_ms) + " ms";
  }
  return "";
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
