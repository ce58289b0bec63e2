// What the state-tree tests (smt_test.cc, smt_page_test.cc) share: node
// storage in memory that counts reads, and the root computed from scratch
// from a set of leaves, as DESIGN states it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/smt.h"

namespace imi::ledger::testing {

// Committed entries in memory; counts reads.
class MemStore : public NodeReader {
 public:
  Result<std::optional<std::string>> read_node(const Hash32& hash) const override {
    ++reads;
    if (const std::string* b = nodes.find(hash)) return std::optional<std::string>(*b);
    return std::optional<std::string>();
  }
  void commit(NodeWriteSet&& set) { nodes.merge(std::move(set)); }
  NodeWriteSet nodes;
  mutable size_t reads = 0;
};

// The root of the subtree at `depth` holding `leaves` (path, value hash).
inline Hash32 root_of_leaves(const std::vector<std::pair<Hash32, Hash32>>& leaves, size_t depth) {
  if (leaves.empty()) return Hash32{};
  if (leaves.size() == 1) return state_leaf_hash(leaves[0].first, leaves[0].second);
  std::vector<std::pair<Hash32, Hash32>> l, r;
  for (const auto& e : leaves) (path_bit(e.first, depth) == 0 ? l : r).push_back(e);
  return state_internal_hash(root_of_leaves(l, depth + 1), root_of_leaves(r, depth + 1));
}

}  // namespace imi::ledger::testing
