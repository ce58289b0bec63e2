// Conversions between the ledger's records (ledger/certificate.h,
// ledger/validators.h) and the consensus engine's value types
// (consensus/messages.h, consensus/types.h): the same facts, two shapes,
// because consensus/ depends on base/ only.
#pragma once

#include "consensus/messages.h"
#include "ledger/certificate.h"
#include "ledger/validators.h"

namespace imi::node {

consensus::CommitCertificate to_consensus_cert(const ledger::CommitCertificate& c);
// Signatures sorted by validator (the certificate contract's order).
ledger::CommitCertificate to_ledger_cert(const consensus::CommitCertificate& c);
// Errors: consensus.bad_validator_set (see consensus::ValidatorSet::create).
Result<consensus::ValidatorSet> to_consensus_set(const ledger::ValidatorSet& set);

}  // namespace imi::node
