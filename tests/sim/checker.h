// Safety checks over everything honest nodes commit (tests/sim): agreement,
// validity, certificates (checked independently of the engine, with its own
// quorum arithmetic) and evidence that names only Byzantine validators.
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
            std::vector<consensus::Validator> all_nodes, std::vector<uint32_t> genesis_members);
  // Every block an honest node commits (through the engine or block sync).
  void on_commit(uint32_t node, uint64_t height, const Hash32& block, const Bytes& payload,
                 const consensus::CommitCertificate& cert);
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
  std::string chain_;
  const consensus::Verifier* verifier_ = nullptr;
  Hash32 genesis_{};
  std::vector<consensus::Validator> nodes_;
  std::map<uint64_t, std::vector<uint32_t>> sets_;  // in force from height
  std::map<uint64_t, Hash32> decided_;
  std::map<uint64_t, uint64_t> times_;
  std::set<uint64_t> included_;
  std::vector<std::string> violations_;
};

}  // namespace imi::sim
