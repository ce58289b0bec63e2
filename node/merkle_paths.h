// Every RFC 6962 audit path of one tree at once. ledger/merkle.h computes one
// path in O(n); answering a whole block's wait-for-commit callers that way
// would cost O(n^2). This keeps all levels of the tree (O(n) hashes, built
// once per block) and reads any path in O(log n).
//
// Levels are built bottom-up, pairing neighbours and carrying an unpaired last
// node up unchanged, which gives the same root and paths as RFC 6962's
// split at the largest power of two (checked against ledger/merkle.h in tests).
// Immutable after construction; thread-safe for concurrent reads.
#pragma once

#include <span>
#include <vector>

#include "base/bytes.h"

namespace imi::node {

class MerklePaths {
 public:
  // Leaves are the raw bytes of each leaf (here: 32-byte transaction ids).
  explicit MerklePaths(std::span<const Hash32> leaves);

  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // The tree hash (SHA-256 of nothing for an empty tree).
  Hash32 root() const;
  // Audit path of leaf `index` (< size()), leaf end first.
  std::vector<Hash32> path(uint64_t index) const;

 private:
  std::vector<std::vector<Hash32>> levels_;  // [0] leaf hashes ... [last] root
};

}  // namespace imi::node
