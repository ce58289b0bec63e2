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
// Storage (ledger/smt_store.h): leaves are stored one an entry; internal
// nodes only inside pages, each holding the 4 levels of internal nodes under
// a page root (an internal node at depth 0, 4, 8, ...). update() writes
// nothing: it returns the new root and puts the leaves it created, and the
// page of every page root it created, into a NodeWriteSet, which the block
// store commits in the same synced WriteBatch as the block
// (NodeWriteSet::write_to). Until then an OverlayNodeReader serves those
// entries, so uncommitted blocks can be stacked.
//
// Cost: updating k keys in a tree of N keys reads and hashes O(k log N)
// nodes and writes O(k log N / 4) entries; the batch is sorted by path and
// applied in one recursive descent so shared prefixes are visited once. Node
// shapes (children of internal nodes, path and value hash of leaves) are kept
// in a cache bounded in bytes (ledger/smt_cache.h), so an update, and a read
// of an absent key, reach the reader only for nodes not cached. A missed
// node costs one read: of its page, which caches all the page's nodes and
// its leaves' shapes; reading a present key's value reads its leaf entry once
// (the page says the child is a leaf, so no page is read for it).
//
// Not thread-safe (the cache mutates on reads): one owner, or external locking.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  // kUnknown: a non-empty node whose kind is not known yet (a child at a page
  // root's depth, known only once loaded). 0, as the cache stores it.
  enum class Kind : uint8_t { kUnknown, kEmpty, kLeaf, kInternal };
  struct Node {
    Kind kind = Kind::kEmpty;
    Hash32 left{}, right{};                                        // internal
    Kind left_kind = Kind::kUnknown, right_kind = Kind::kUnknown;  // internal
    Hash32 path{};                                                 // leaf
    Hash32 value_hash{};                                           // leaf
    std::optional<std::string> value;                              // leaf, when read with its value
  };
  // Where a descent stands: the depth of the node it loads next, the page
  // root on its path (the internal node at depth floor(depth / 4) * 4; not
  // used at a page root's depth) and the node's kind as its parent knows it.
  struct Place {
    size_t depth = 0;
    Hash32 page_root{};
    Kind kind = Kind::kUnknown;
  };
  // A subtree after an update; `fresh` indexes fresh_ if the update created
  // this internal node, leaves_ if this is a leaf whose shape the update
  // knows, else -1.
  struct Sub {
    Hash32 hash{};
    Kind kind = Kind::kEmpty;
    int32_t fresh = -1;
  };
  // An internal node created by the running update: its page is written from
  // here (the cache may not hold it), and it is cached at the end.
  struct Fresh {
    Hash32 hash{};
    Sub left, right;
  };
  struct Leaf {
    Hash32 path{};
    Hash32 value_hash{};
    Hash32 hash{};         // if created
    bool created = false;  // by this update (else an existing leaf that moved)
  };
  // A write in path order, or, while rebuilding a subtree, an existing leaf.
  struct Item {
    Hash32 path{};
    const std::string* value = nullptr;  // nullptr: delete (or existing leaf)
    std::optional<Hash32> existing;      // hash of an unchanged leaf
    Hash32 value_hash{};                 // of the unchanged leaf
  };

  static Place child_place(const Place& at, const Hash32& hash, const Node& node, int side);
  static Node shape_node(const NodeShapeCache::Shape& shape);
  static Kind kind_in_page(StatePage::ChildKind kind);
  static Node page_node(const StatePage& page, size_t pos);
  // The node `hash` at `at`; a leaf's value is read only if `with_value`.
  Result<Node> load(const Hash32& hash, const Place& at, bool with_value);
  // Reads the entry stored under `hash` (a leaf, or the page of the page
  // root `hash`) at `depth`.
  Result<Node> read_entry(const Hash32& hash, size_t depth);
  // The page of page root `root`, read unless memo_ holds it.
  Result<const StatePage*> read_page(const Hash32& root);
  // Decodes the page `root` into memo_ and caches all its nodes and leaves.
  Result<const StatePage*> decode_into_memo(const Hash32& root, std::string_view bytes);
  Result<Kind> kind_of(const Hash32& hash, const Place& at);
  Result<Sub> update_subtree(const Hash32& hash, const Place& at, std::span<const Item> ops,
                             NodeWriteSet& out);
  Result<Sub> build(size_t depth, std::span<const Item> items, NodeWriteSet& out);
  // `children` is where the two children are.
  Result<Sub> combine(const Sub& left, const Sub& right, const Place& children);
  // Adds the page of the new page root `root` to `out`. Its nodes not
  // created by this update are unchanged from the page of `old_root` (the
  // internal node at the same position before the update), if any.
  Status emit_page(const Sub& root, const Hash32* old_root, NodeWriteSet& out);
  // Caches the shapes of the nodes and leaves the update created.
  void cache_created();
  // An internal node of the page of `old_root` that the update left unchanged.
  Result<Node> unchanged_node(const Hash32& hash, const Hash32* old_root);
  // The page's form of the leaf child `leaf` (its path and value hash).
  Result<StatePage::Child> leaf_child(const Sub& leaf);

  // Constant after construction.
  const NodeReader& reader_;
  // Mutated by every method.
  NodeShapeCache cache_;
  // The pages the running method read (every public method starts with it
  // empty, so the cache alone decides what later calls read): with a cache
  // too small to hold a page, a descent through its 4 levels still reads it
  // once, and emit_page() copies what did not change from it.
  PageMemo memo_;
  // Where emit_page() assembles a page (kept to spare a 4 KB page's
  // initialisation per page written).
  StatePage emit_;
  // The internal nodes the running update created, and the shapes of the
  // leaves it placed.
  std::vector<Fresh> fresh_;
  std::vector<Leaf> leaves_;
};

}  // namespace imi::ledger
