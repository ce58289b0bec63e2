// Safety checks over everything honest nodes commit (tests/sim): agreement,
// validity, certificates (checked independently of the engine, with its own
// quorum arithmetic), evidence that names only Byzantine validators,
// deadlines (each fires once, never early, due ones not skipped, within a
// bound once faults heal) and no empty blocks while nothing waits.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "consensus/messages.h"
#include "tests/sim/sim_app.h"

namespace imi::sim {

class Checker {
 public:
  void init(std::string chain, const consensus::Verifier* verifier, Hash32 genesis,
            std::vector<consensus::Validator> all_nodes, std::vector<uint32_t> genesis_members,
            Workload workload, std::vector<bool> honest);
  // Every block an honest node commits (through the engine or block sync), at
  // simulated time now_ms.
  void on_commit(uint32_t node, uint64_t height, const Hash32& block, const Bytes& payload,
                 const consensus::CommitCertificate& cert, uint64_t now_ms);
  // An honest primary proposed `block` for a new view (must_propose): the
  // one case where it may propose a block with nothing in it.
  void on_new_view_block(const Hash32& block) { new_view_blocks_.insert(block); }
  // Liveness of deadlines at the end of a run of end_ms (simulated) whose
  // faults healed at heal_ms: once the chain is live again (the first block
  // decided after heal_ms), every deadline is decided within bound_ms after
  // max(its time, that block). Empty if so.
  std::string deadline_liveness(uint64_t heal_ms, uint64_t end_ms, uint64_t bound_ms,
                                uint64_t* late_max_ms) const;
  uint64_t deadlines_fired() const { return fired_.size(); }
  uint64_t deadline_only_blocks() const { return deadline_only_blocks_; }
  uint64_t deadline_capped_blocks() const { return deadline_capped_blocks_; }
  void on_evidence(uint32_t node, const consensus::ValidatorId& accused,
                   const std::set<consensus::ValidatorId>& byzantine);
  void violation(std::string what) {
    if (violations_.size() < 20) violations_.push_back(std::move(what));
  }
  const std::vector<std::string>& violations() const { return violations_; }
  uint64_t decided_height() const { return decided_.empty() ? 0 : decided_.rbegin()->first; }
  // The members (node indices) that sign `height`, from decided blocks.
  std::vector<uint32_t> members_at(uint64_t height) const;

 private:
  void check_certificate(uint64_t height, const Hash32& block,
                         const consensus::CommitCertificate& cert);
  bool check_deadlines(const std::string& who, const BlockBody& b);
  std::string chain_;
  const consensus::Verifier* verifier_ = nullptr;
  Hash32 genesis_{};
  std::vector<consensus::Validator> nodes_;
  std::map<uint64_t, std::vector<uint32_t>> sets_;  // in force from height
  std::map<uint64_t, Hash32> decided_;
  std::map<uint64_t, uint64_t> times_;
  std::vector<uint64_t> decided_at_;  // simulated time of each first decision, ascending
  std::set<uint64_t> included_;
  Workload workload_;
  std::vector<bool> honest_;  // per node
  std::set<Hash32> new_view_blocks_;
  Deadlines deadlines_;                                      // pending on the decided chain
  std::map<uint64_t, uint64_t> scheduled_;                   // key -> time (every deadline ever)
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> fired_;  // key -> (block time, decided at)
  uint64_t deadline_only_blocks_ = 0;
  uint64_t deadline_capped_blocks_ = 0;  // fired the bound with more due
  std::vector<std::string> violations_;
};

}  // namespace imi::sim
