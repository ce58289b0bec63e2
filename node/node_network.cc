// Node: the validator network (P2P frames, transaction gossip, block sync).
#include "node/node.h"

namespace imi::node {

void Node::queue_gossip(const ledger::Transaction& tx) {
  if (!gossip_enabled_) return;
  std::lock_guard lock(gossip_mu_);
  gossip_out_.push_back(tx.canonical());
}

}  // namespace imi::node
