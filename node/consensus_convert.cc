#include "node/consensus_convert.h"

namespace imi::node {

consensus::CommitCertificate to_consensus_cert(const ledger::CommitCertificate& c) {
  consensus::CommitCertificate out;
  out.height = c.height;
  out.view = c.view;
  out.block = c.block;
  for (const auto& s : c.sigs) out.sigs.push_back(consensus::SigEntry{s.validator, s.sig});
  return out;
}

ledger::CommitCertificate to_ledger_cert(const consensus::CommitCertificate& c) {
  ledger::CommitCertificate out;
  out.height = c.height;
  out.view = c.view;
  out.block = c.block;
  for (const auto& s : c.sigs) out.sigs.push_back(ledger::CommitSig{s.validator, s.sig});
  out.sort_sigs();
  return out;
}

Result<consensus::ValidatorSet> to_consensus_set(const ledger::ValidatorSet& set) {
  std::vector<consensus::Validator> vs;
  for (const auto& v : set.validators()) vs.push_back(consensus::Validator{v.id, v.key});
  return consensus::ValidatorSet::create(std::move(vs));
}

}  // namespace imi::node
