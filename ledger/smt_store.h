// Storage of the sparse Merkle state tree's nodes (see ledger/smt.h).
//
// Entries are content-addressed: each is stored under a hash that commits to
// its whole subtree. Versions therefore share unchanged entries for free,
// every earlier root stays provable as long as its entries are kept, and a
// cache keyed by hash can never be stale.
//
// Two kinds of entries (issue 2: a block's LevelDB entries, not its hashes,
// dominated commit and compaction CPU, so internal nodes are grouped):
//   leaf: stored under the leaf's hash, on its own.
//   page: the internal nodes of one subtree, 4 levels deep, stored under the
//     hash of its top node. Page roots are the internal nodes at depths
//     0, 4, 8, ... (depth = number of path bits above the node; the root's is
//     0). A page holds every internal node of the subtree at depths d..d+3
//     (up to 15). Its nodes' other children are referenced: a page root (at
//     depth d+4) by its hash, a leaf (at any depth down to d+4) by its path
//     and value hash, so the page also gives its leaves' shapes. An
//     internal node never changes depth (its depth is the length of the
//     common prefix of its leaves), so it is always in the page of its
//     ancestor at depth floor(depth / 4) * 4; internal nodes are never
//     stored on their own.
//
// Entry bytes:
//   leaf: 0x00 ‖ path (32) ‖ value bytes (JCS of the value)       (33 + n bytes)
//   page: 0x02 ‖ positions (2 bytes, big-endian) ‖ children
//     A position numbers an in-page node heap-wise: the page root is 1, the
//     children of position p are 2p (left) and 2p + 1 (right), so positions
//     1..15 cover the 4 levels. Bit p of `positions` (bit 0 the least
//     significant, always 0) says position p holds an internal node. Then,
//     for every position held in increasing order, its left child and then
//     its right child, each omitted when that child is held in the page (its
//     hash is recomputed), else a tag and its bytes:
//       0x00  empty                                  (no bytes)
//       0x01  leaf: path ‖ SHA-256 of the value bytes (64 bytes)
//       0x02  page root: its hash                    (32 bytes; children of
//             the 4th level only, as above it every internal node is held)
//     A reader recomputes every leaf's and node's hash bottom-up (ledger/
//     smt_proof.h) and checks the page root's against the key. Reading a page
//     thus gives the shapes of all its leaf children too: an update or a read
//     of an absent key needs no leaf entry, and a read of a present key's
//     value reads its leaf entry only.
//   An empty subtree (hash = 32 zero bytes) is never stored.
//
// On-disk format in LevelDB (shared with the block store's keys):
//   "s/n/" ‖ leaf hash or page root hash (32 raw bytes) → entry bytes
//   "s/r/" ‖ version (8 bytes, big-endian)               → root hash (32 raw bytes)
// versions are block heights. Before store schema 2 (ledger/store.h) every
// internal node was its own entry (0x01 ‖ left ‖ right); such a store is not
// read. Nothing is ever deleted yet: pruning entries reachable only from
// roots older than a retention window (mark from the kept roots, sweep the
// rest) is a follow-up.
#pragma once

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::ledger {

// One page, decoded (format above).
struct StatePage {
  static constexpr size_t kLevels = 4;
  static constexpr size_t kPositions = 16;  // 1..15; 0 unused
  // kHash: a page root, known by its hash only.
  enum class ChildKind : uint8_t { kEmpty, kLeaf, kHash, kInPage };
  struct Child {
    ChildKind kind = ChildKind::kEmpty;
    Hash32 hash{};
    Hash32 path{};        // leaf
    Hash32 value_hash{};  // leaf
  };
  struct Node {
    Hash32 hash{};
    Child child[2];  // left, right
  };

  bool has(size_t pos) const { return pos < kPositions && ((held >> pos) & 1) != 0; }
  // The position holding the internal node `hash`, 0 if none.
  size_t find(const Hash32& hash) const;
  // The leaf child `hash`, nullptr if none.
  const Child* find_leaf(const Hash32& hash) const;

  uint16_t held = 0;  // bit p: position p holds an internal node
  std::array<Node, kPositions> nodes{};
};

// The bytes of `page`. Every held position's children must be set, kInPage
// exactly for the children held (hashes are not checked).
std::string encode_page(const StatePage& page);
// Decodes a page read under `hash` into `out` and verifies it: every node's
// hash is recomputed and the root's must be `hash` (on an error `out` holds
// garbage). Errors: state.corrupt_node (bytes
// malformed, not matching `hash`, or a node that cannot exist in a canonical
// tree: one over an empty child and a leaf or nothing).
Status decode_page(const Hash32& hash, std::string_view bytes, StatePage& out);

// Read side of entry storage: the seam tests and overlays substitute.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // The entry (leaf or page) stored under `hash`, nullopt if there is none,
  // or an error if the storage failed ("state.storage").
  virtual Result<std::optional<std::string>> read_node(const Hash32& hash) const = 0;
};

// Entries (leaves and pages) created by a StateTree update, not yet
// persisted. Thread-compatible. Entries sit in insertion order in one vector
// with an open-addressing index beside it: a block puts some 7,000 entries,
// and a node-based hash map's lookup and node allocation per put were a
// quarter of writing a page (issue 2).
class NodeWriteSet {
 public:
  using Entry = std::pair<Hash32, std::string>;

  // Adds the entry, or replaces the bytes of an entry with the same hash.
  void put(const Hash32& hash, std::string bytes);
  const std::string* find(const Hash32& hash) const;
  size_t size() const { return entries_.size(); }
  // Makes room for `n` entries in all without rehashing.
  void reserve(size_t n);
  bool empty() const { return entries_.empty(); }
  void clear();
  // Moves `other`'s entries in (committing several blocks at once).
  void merge(NodeWriteSet&& other);
  // Adds a put of every entry to `batch` under the on-disk keys above.
  void write_to(leveldb::WriteBatch& batch) const;
  // Every entry once, in the order first put.
  const std::vector<Entry>& nodes() const { return entries_; }

 private:
  size_t slot_of(const Hash32& hash) const { return Hash32Hasher()(hash) & (index_.size() - 1); }
  // Makes the index at least twice the entries' count plus `extra`.
  void grow_index(size_t extra);

  std::vector<Entry> entries_;
  std::vector<uint32_t> index_;  // size a power of two (or 0); 0 free, else 1 + entry index
};

// Reads entries from uncommitted write sets first (newest layer first), then
// from `base`. Lets the executor apply a second uncommitted block on top of
// the first one's entries. Does not own the layers; they must outlive it.
class OverlayNodeReader : public NodeReader {
 public:
  explicit OverlayNodeReader(const NodeReader& base) : base_(base) {}
  void push_layer(const NodeWriteSet& layer) { layers_.push_back(&layer); }
  // Drops the oldest layer (once its block is committed to `base`).
  void pop_oldest_layer();
  void clear_layers() { layers_.clear(); }
  size_t layer_count() const { return layers_.size(); }
  Result<std::optional<std::string>> read_node(const Hash32& hash) const override;

 private:
  const NodeReader& base_;
  std::vector<const NodeWriteSet*> layers_;  // oldest first
};

// Entries and per-version roots in a LevelDB database the caller owns.
// Thread-safe as LevelDB is.
class LevelDbNodeStore : public NodeReader {
 public:
  explicit LevelDbNodeStore(leveldb::DB& db) : db_(db) {}
  Result<std::optional<std::string>> read_node(const Hash32& hash) const override;

  // Adds the root of `version` to `batch` (committed with the block).
  static void put_root(leveldb::WriteBatch& batch, uint64_t version, const Hash32& root);
  // The root recorded for `version`, nullopt if none.
  Result<std::optional<Hash32>> read_root(uint64_t version) const;

  static std::string node_key(const Hash32& hash);
  static std::string root_key(uint64_t version);

 private:
  leveldb::DB& db_;
};

}  // namespace imi::ledger
