// Storage of the sparse Merkle state tree's nodes (see ledger/smt.h).
//
// Nodes are content-addressed: a node is stored under its own hash, which
// commits to its whole subtree. Versions therefore share unchanged nodes for
// free, every earlier root stays provable as long as its nodes are kept, and a
// cache keyed by hash can never be stale.
//
// Node bytes (never hashed as such except the internal node, whose bytes are
// exactly the preimage of its hash):
//   internal: 0x01 ‖ left hash (32) ‖ right hash (32)         (65 bytes)
//   leaf:     0x00 ‖ path (32) ‖ value bytes (JCS of the value) (33 + n bytes)
//   An empty subtree (hash = 32 zero bytes) is never stored.
//
// On-disk format in LevelDB (shared with the block store's keys):
//   "s/n/" ‖ node hash (32 raw bytes)          → node bytes
//   "s/r/" ‖ version (8 bytes, big-endian)     → root hash (32 raw bytes)
// versions are block heights. Nothing is ever deleted yet: pruning nodes
// reachable only from roots older than a retention window (mark from the kept
// roots, sweep the rest) is a follow-up.
#pragma once

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::ledger {

struct Hash32Hasher {
  size_t operator()(const Hash32& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);  // already uniformly distributed
    return v;
  }
};

// Read side of node storage: the seam tests and overlays substitute.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // The node bytes stored under `hash`, nullopt if there is none, or an
  // error if the storage failed ("state.storage").
  virtual Result<std::optional<std::string>> read_node(const Hash32& hash) const = 0;
};

// Nodes created by a StateTree update, not yet persisted. Thread-compatible.
class NodeWriteSet {
 public:
  void put(const Hash32& hash, std::string bytes) {
    nodes_.insert_or_assign(hash, std::move(bytes));
  }
  const std::string* find(const Hash32& hash) const {
    auto it = nodes_.find(hash);
    return it == nodes_.end() ? nullptr : &it->second;
  }
  size_t size() const { return nodes_.size(); }
  // Makes room for `n` nodes in all without rehashing.
  void reserve(size_t n) { nodes_.reserve(n); }
  bool empty() const { return nodes_.empty(); }
  void clear() { nodes_.clear(); }
  // Moves `other`'s nodes in (committing several blocks at once).
  void merge(NodeWriteSet&& other);
  // Adds a put of every node to `batch` under the on-disk keys above.
  void write_to(leveldb::WriteBatch& batch) const;
  const std::unordered_map<Hash32, std::string, Hash32Hasher>& nodes() const { return nodes_; }

 private:
  std::unordered_map<Hash32, std::string, Hash32Hasher> nodes_;
};

// Reads nodes from uncommitted write sets first (newest layer first), then
// from `base`. Lets the executor apply a second uncommitted block on top of
// the first one's nodes. Does not own the layers; they must outlive it.
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

// Nodes and per-version roots in a LevelDB database the caller owns.
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
