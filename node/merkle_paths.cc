#include "node/merkle_paths.h"

#include <cassert>

#include "base/sha256.h"
#include "ledger/merkle.h"

namespace imi::node {

MerklePaths::MerklePaths(std::span<const Hash32> leaves) {
  if (leaves.empty()) return;
  std::vector<Hash32> level;
  level.reserve(leaves.size());
  for (const Hash32& leaf : leaves) level.push_back(ledger::merkle_leaf_hash(leaf));
  levels_.push_back(std::move(level));
  while (levels_.back().size() > 1) {
    const std::vector<Hash32>& below = levels_.back();
    std::vector<Hash32> up;
    up.reserve((below.size() + 1) / 2);
    for (size_t i = 0; i + 1 < below.size(); i += 2)
      up.push_back(ledger::merkle_node_hash(below[i], below[i + 1]));
    if (below.size() % 2 == 1) up.push_back(below.back());
    levels_.push_back(std::move(up));
  }
}

Hash32 MerklePaths::root() const {
  if (levels_.empty()) return sha256(ByteView());
  return levels_.back()[0];
}

std::vector<Hash32> MerklePaths::path(uint64_t index) const {
  assert(index < size());
  std::vector<Hash32> out;
  for (size_t l = 0; l + 1 < levels_.size(); ++l) {
    const std::vector<Hash32>& level = levels_[l];
    const uint64_t sibling = index ^ 1;
    if (sibling < level.size()) out.push_back(level[sibling]);
    index /= 2;
  }
  return out;
}

}  // namespace imi::node
