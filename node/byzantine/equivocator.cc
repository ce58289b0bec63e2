// The equivocating primary of the process-level Byzantine test (issue 5).
// Built only into imid-byzantine (CMake option IMI_BYZANTINE_TESTS).
//
// Whenever this node proposes a block, it also signs a second, different
// block for the same height and view (the same header with a later time, so
// a valid block with another id), sends the first block to one half of the
// other validators and the second to the other half, and relays the second
// to one node of the first half as well -- so at least one honest node holds
// both signed proposals and records the evidence. The honest nodes must stay
// safe: never two different blocks committed at one height.
#include "node/byzantine/equivocator.h"

#include <cstdio>

#include "base/sha256.h"
#include "consensus/canonical.h"
#include "consensus/messages.h"
#include "ledger/block.h"

namespace imi::node {

bool Equivocator::intercept(const consensus::Outbound& m, const ByzantineContext& ctx) {
  if (m.to) return false;
  auto decoded = consensus::decode(m.wire);
  if (!decoded) return false;
  const auto* p = std::get_if<consensus::Proposal>(&*decoded);
  if (p == nullptr || p->proposer != ctx.self) return false;

  const std::string text(p->payload.begin(), p->payload.end());
  auto block = ledger::Block::decode(text, ledger::ValidityLimits{});
  if (!block) return false;
  ledger::BlockHeader header = block->header();
  header.time_ms += 1;
  const ledger::Block other = ledger::Block::make(header, block->txs());
  consensus::Proposal second = *p;
  second.block = other.id();
  const std::string canonical = other.canonical();
  second.payload = Bytes(canonical.begin(), canonical.end());
  second.sig =
      ctx.signer->sign(consensus::SigKind::kProposal,
                       consensus::proposal_canonical(ctx.chain, second.height, second.view,
                                                     second.block, sha256(second.payload)));
  const Bytes second_wire = consensus::encode(consensus::Message{second});

  std::vector<std::string> others;
  for (const auto& v : ctx.validators)
    if (v != ctx.self) others.push_back(v);
  const size_t half = (others.size() + 1) / 2;
  for (size_t i = 0; i < others.size(); ++i)
    ctx.send_to(others[i], i < half ? m.wire : second_wire);
  if (!others.empty()) ctx.send_to(others[0], second_wire);
  ++equivocations_;
  std::fprintf(stderr, "imid-byzantine: equivocated at height %llu view %llu (%zu so far)\n",
               static_cast<unsigned long long>(p->height), static_cast<unsigned long long>(p->view),
               equivocations_);
  return true;
}

}  // namespace imi::node
