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
// shared prefixes are visited once. Interior nodes are kept in an LRU cache
// bounded in bytes; since nodes are content-addressed, cached entries are
// never stale, whichever root or overlay they were read through.
//
// Not thread-safe (the cache mutates on reads): one owner, or external locking.
#pragma once

#include <list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

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
  // Bytes of interior nodes kept in memory (about 190 bytes each, counting
  // bookkeeping): 64 MiB holds the top 18 levels of a tree of a million keys.
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

  size_t cached_bytes() const { return cache_.bytes(); }

 private:
  // kUnknown: a non-empty subtree left unchanged, loaded only if its kind matters.
  enum class Kind { kEmpty, kLeaf, kInternal, kUnknown };
  struct Node {
    Kind kind = Kind::kEmpty;
    Hash32 left{}, right{};  // internal
    Hash32 path{};           // leaf
    std::string value;       // leaf
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

  // LRU of interior nodes by hash, bounded in bytes.
  class InteriorCache {
   public:
    explicit InteriorCache(size_t max_bytes) : max_bytes_(max_bytes) {}
    bool get(const Hash32& hash, Hash32& left, Hash32& right);
    void put(const Hash32& hash, const Hash32& left, const Hash32& right);
    size_t bytes() const { return entries_.size() * kEntryBytes; }

   private:
    struct Entry {
      Hash32 hash, left, right;
    };
    static constexpr size_t kEntryBytes = sizeof(Entry) + 96;  // list + map nodes
    size_t max_bytes_;
    std::list<Entry> entries_;  // most recently used first
    std::unordered_map<Hash32, std::list<Entry>::iterator, Hash32Hasher> index_;
  };

  Result<Node> load(const Hash32& hash);
  Result<Kind> kind_of(const Hash32& hash);
  Result<Sub> update_subtree(const Hash32& hash, size_t depth, std::span<const Item> ops,
                             NodeWriteSet& out);
  Result<Sub> build(size_t depth, std::span<const Item> items, NodeWriteSet& out);
  Result<Sub> combine(const Sub& left, const Sub& right, NodeWriteSet& out);

  // Constant after construction.
  const NodeReader& reader_;
  // Mutated by every method.
  InteriorCache cache_;
};

}  // namespace imi::ledger
