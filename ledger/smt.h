// The sparse Merkle state tree (DESIGN "state tree"): every app's key/value
// state under one root, with proofs of membership and absence. Hashing rules
// and the standalone verifier are in ledger/smt_proof.h; node storage and its
// on-disk format in ledger/smt_store.h.
//
// Shape: a binary tree over 256-bit paths where an empty subtree is the zero
// hash and a subtree holding one leaf is that leaf, placed at the highest
// position where it is alone (leaf shortcut). The tree is canonical: the root
// depends only on the set of (path, value) pairs, never on the order of
// updates (deleting a key collapses a subtree left with one leaf back into a
// shortcut leaf).
//
// Values live in the leaf nodes (value bytes = JCS of the stored value, given
// by the caller), so get() and prove() need nothing but the tree.
//
// update() writes nothing: it returns the new root and puts the nodes it
// created into a NodeWriteSet, which the block store commits in the same
// synced WriteBatch as the block (NodeWriteSet::write_to). Until then an
// OverlayNodeReader serves those nodes, so uncommitted blocks can be stacked.
//
// Cost: updating k keys in a tree of N keys reads and hashes O(k log N)
// nodes; the batch is sorted by path and applied in one recursive descent so
// shared prefixes are visited once. Node shapes (children of internal nodes,
// path and value hash of leaves) are kept in a cache bounded in bytes
// (ledger/smt_cache.h), so an update, and a read of an absent key, reach
// the reader only for nodes not cached; reading a present key's value reads
// its leaf once.
//
// Not thread-safe (the cache mutates on reads): one owner, or external locking.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ledger/smt_cache.h"
#include "ledger/smt_proof.h"
#include "ledger/smt_store.h"

namespace imi::ledger {

// One write of a batch: value bytes (JCS of the value), or nullopt to delete.
struct StateWrite {
  std::string app;
  std::string key;
  std::optional<std::string> value;
};

struct StateTreeOptions {
  // Bytes of node shapes kept in memory (104 bytes a node, no other
  // bookkeeping; the table grows to this bound as it fills): 64 MiB holds
  // 524,288 nodes, e.g. the top 19 levels of a tree of a million keys.
  size_t cache_bytes = 64u << 20;
};

struct ProvenValue {
  std::optional<std::string> value;  // nullopt: absent
  StateProof proof;                  // verifies with verify_state_proof(root, app, key, value)
};

// Error codes of the tree's methods: state.missing_node (the root is unknown to
// the reader, or its nodes were pruned), state.corrupt_node (stored bytes do
// not match their hash, or the tree is malformed), state.storage (the reader
// failed).
class StateTree {
 public:
  // `reader` must outlive the tree.
  explicit StateTree(const NodeReader& reader, StateTreeOptions options = {});
  StateTree(const StateTree&) = delete;
  StateTree& operator=(const StateTree&) = delete;

  // The value bytes of app/key in the tree with root `root`, nullopt if absent.
  Result<std::optional<std::string>> get(const Hash32& root, std::string_view app,
                                         std::string_view key);

  // The value of app/key with a proof of membership or absence against `root`.
  Result<ProvenValue> prove(const Hash32& root, std::string_view app, std::string_view key);

  // Applies `writes` to the tree with root `root` (the empty tree's root is 32
  // zero bytes) and returns the new root. If a batch writes one key several
  // times, the last write wins; deleting an absent key does nothing. Every node
  // created is added to `out_new_nodes`; nothing is written to the reader.
  Result<Hash32> update(const Hash32& root, std::span<const StateWrite> writes,
                        NodeWriteSet& out_new_nodes);

  // Loads the nodes of the tree at `root` into the cache, top level first,
  // until `max_nodes` are loaded or the tree is exhausted; returns how many
  // were loaded. The top levels end up the most recently used, so a full
  // cache evicts deep nodes first. A node that starts with a cold cache calls
  // it once so its first blocks do not read every upper node from storage.
  // Errors as get().
  Result<size_t> warm(const Hash32& root, size_t max_nodes);

  size_t cached_bytes() const { return cache_.bytes(); }
  // How many nodes the cache holds at most.
  size_t cache_capacity() const { return cache_.capacity(); }

 private:
  // kUnknown: a non-empty subtree left unchanged, loaded only if its kind matters.
  enum class Kind { kEmpty, kLeaf, kInternal, kUnknown };
  struct Node {
    Kind kind = Kind::kEmpty;
    Hash32 left{}, right{};            // internal
    Hash32 path{};                     // leaf
    Hash32 value_hash{};               // leaf
    std::optional<std::string> value;  // leaf, when read with its value
  };
  struct Sub {
    Hash32 hash{};
    Kind kind = Kind::kEmpty;
  };
  // A write in path order, or, while rebuilding a subtree, an existing leaf.
  struct Item {
    Hash32 path{};
    const std::string* value = nullptr;  // nullptr: delete (or existing leaf)
    std::optional<Hash32> existing;      // hash of an unchanged leaf
  };

  // The node `hash`; a leaf's value is read only if `with_value`.
  Result<Node> load(const Hash32& hash, bool with_value);
  Result<Node> read(const Hash32& hash);
  Result<Kind> kind_of(const Hash32& hash);
  Result<Sub> update_subtree(const Hash32& hash, size_t depth, std::span<const Item> ops,
                             NodeWriteSet& out);
  Result<Sub> build(size_t depth, std::span<const Item> items, NodeWriteSet& out);
  Result<Sub> combine(const Sub& left, const Sub& right, NodeWriteSet& out);

  // Constant after construction.
  const NodeReader& reader_;
  // Mutated by every method.
  NodeShapeCache cache_;
};

}  // namespace imi::ledger
