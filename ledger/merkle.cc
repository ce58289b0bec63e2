#include "ledger/merkle.h"

#include "base/sha256.h"

namespace imi::ledger {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// Replaces level[0, size) with the next level up and returns its size. An
// unpaired last hash moves up unchanged: folding level by level this way
// gives exactly RFC 6962's split at the largest power of two below n.
size_t fold_level(std::vector<Hash32>& level, size_t size) {
  size_t pairs = size / 2;
  for (size_t i = 0; i < pairs; ++i) level[i] = merkle_node_hash(level[2 * i], level[2 * i + 1]);
  if (size % 2 == 1) level[pairs] = level[size - 1];
  return pairs + size % 2;
}

std::vector<Hash32> audit_path(std::vector<Hash32> level, uint64_t index) {
  std::vector<Hash32> path;
  size_t size = level.size();
  while (size > 1) {
    uint64_t sibling = index ^ 1;
    if (sibling < size) path.push_back(level[sibling]);
    size = fold_level(level, size);
    index >>= 1;
  }
  return path;
}

Status index_error(uint64_t index, size_t size) {
  return Status::error("merkle.index_out_of_range",
                       "leaf index " + std::to_string(index) + " is not below the tree size " +
                           std::to_string(size) + "; ask for an index of a leaf in the tree");
}

}  // namespace

Hash32 merkle_leaf_hash(ByteView leaf) {
  const uint8_t prefix = kLeafPrefix;
  return sha256_concat({ByteView(&prefix, 1), leaf});
}

Hash32 merkle_node_hash(const Hash32& left, const Hash32& right) {
  const uint8_t prefix = kNodePrefix;
  return sha256_concat({ByteView(&prefix, 1), left, right});
}

Hash32 merkle_root_from_leaf_hashes(std::vector<Hash32> level) {
  if (level.empty()) return sha256(ByteView());
  size_t size = level.size();
  while (size > 1) size = fold_level(level, size);
  return level[0];
}

Hash32 merkle_root(std::span<const Bytes> leaves) {
  std::vector<Hash32> level;
  level.reserve(leaves.size());
  for (const Bytes& leaf : leaves) level.push_back(merkle_leaf_hash(leaf));
  return merkle_root_from_leaf_hashes(std::move(level));
}

Hash32 merkle_root(std::span<const Hash32> leaves) {
  std::vector<Hash32> level;
  level.reserve(leaves.size());
  for (const Hash32& leaf : leaves) level.push_back(merkle_leaf_hash(leaf));
  return merkle_root_from_leaf_hashes(std::move(level));
}

Result<std::vector<Hash32>> inclusion_proof(std::span<const Bytes> leaves, uint64_t index) {
  if (index >= leaves.size()) return index_error(index, leaves.size());
  std::vector<Hash32> level;
  level.reserve(leaves.size());
  for (const Bytes& leaf : leaves) level.push_back(merkle_leaf_hash(leaf));
  return audit_path(std::move(level), index);
}

Result<std::vector<Hash32>> inclusion_proof(std::span<const Hash32> leaves, uint64_t index) {
  if (index >= leaves.size()) return index_error(index, leaves.size());
  std::vector<Hash32> level;
  level.reserve(leaves.size());
  for (const Hash32& leaf : leaves) level.push_back(merkle_leaf_hash(leaf));
  return audit_path(std::move(level), index);
}

// RFC 9162 §2.1.3.2, step by step.
bool verify_inclusion(const Hash32& leaf_hash, uint64_t index, uint64_t tree_size,
                      std::span<const Hash32> path, const Hash32& root) {
  if (index >= tree_size) return false;  // step 1
  uint64_t fn = index;                   // step 2
  uint64_t sn = tree_size - 1;
  Hash32 r = leaf_hash;               // step 3
  for (const Hash32& p : path) {      // step 4
    if (sn == 0) return false;        // 4a: path longer than the tree is deep
    if ((fn & 1) == 1 || fn == sn) {  // 4b
      r = merkle_node_hash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {  // 4b, otherwise
      r = merkle_node_hash(r, p);
    }
    fn >>= 1;  // 4c
    sn >>= 1;
  }
  return sn == 0 && r == root;  // step 5
}

bool verify_leaf_inclusion(ByteView leaf, uint64_t index, uint64_t tree_size,
                           std::span<const Hash32> path, const Hash32& root) {
  return verify_inclusion(merkle_leaf_hash(leaf), index, tree_size, path, root);
}

}  // namespace imi::ledger
