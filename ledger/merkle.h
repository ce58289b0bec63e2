// RFC 6962 Merkle tree hash (RFC 9162 §2.1) for txs_root and results_root
// (DESIGN "txs_root", "results_root").
//
//   leaf hash  = SHA-256(0x00 ‖ leaf bytes)
//   node hash  = SHA-256(0x01 ‖ left ‖ right)
//   MTH of n > 1 leaves splits them at k, the largest power of two < n;
//   the empty tree's root is SHA-256 of nothing.
//
// txs_root's leaves are the raw 32-byte transaction ids, so there is an
// overload taking Hash32 leaves (each is hashed as a 32-byte leaf, exactly as
// if it were passed as Bytes). Inclusion proofs list sibling hashes from the
// leaf up to the root, in RFC 9162 §2.1.3.1 order.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::ledger {

// SHA-256(0x00 ‖ leaf).
Hash32 merkle_leaf_hash(ByteView leaf);
// SHA-256(0x01 ‖ left ‖ right).
Hash32 merkle_node_hash(const Hash32& left, const Hash32& right);

// Merkle tree hash of `leaves`. Allocates one vector of leaf hashes and
// folds it in place, level by level.
Hash32 merkle_root(std::span<const Bytes> leaves);
Hash32 merkle_root(std::span<const Hash32> leaves);
// Root over already computed leaf hashes (consumes them as scratch space).
Hash32 merkle_root_from_leaf_hashes(std::vector<Hash32> leaf_hashes);

// Audit path for leaves[index] (RFC 9162 §2.1.3.1), leaf end first.
// Error "merkle.index_out_of_range" if index >= leaves.size().
Result<std::vector<Hash32>> inclusion_proof(std::span<const Bytes> leaves, uint64_t index);
Result<std::vector<Hash32>> inclusion_proof(std::span<const Hash32> leaves, uint64_t index);

// RFC 9162 §2.1.3.2: true iff `path` proves that the leaf whose *leaf hash*
// is `leaf_hash` sits at `index` in the tree of `tree_size` leaves with root
// `root`. False (never a crash) when index >= tree_size, the path is too
// short or too long, or any hash differs.
bool verify_inclusion(const Hash32& leaf_hash, uint64_t index, uint64_t tree_size,
                      std::span<const Hash32> path, const Hash32& root);

// Same, given the leaf's bytes (e.g. a raw 32-byte transaction id).
bool verify_leaf_inclusion(ByteView leaf, uint64_t index, uint64_t tree_size,
                           std::span<const Hash32> path, const Hash32& root);

}  // namespace imi::ledger
