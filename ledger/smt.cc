#include "ledger/smt.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/sha256.h"

namespace imi::ledger {
namespace {

constexpr size_t kPathBits = 256;
constexpr uint8_t kLeafTag = 0x00;
constexpr uint8_t kInternalTag = 0x01;

Status corrupt(const Hash32& hash, const std::string& why) {
  return Status::error("state.corrupt_node", "state tree node " + to_hex(hash) + " " + why +
                                                 "; the database is damaged: restore it or "
                                                 "resync the node");
}

std::string encode_internal(const Hash32& left, const Hash32& right) {
  std::string bytes(65, '\0');
  bytes[0] = static_cast<char>(kInternalTag);
  std::memcpy(bytes.data() + 1, left.data(), 32);
  std::memcpy(bytes.data() + 33, right.data(), 32);
  return bytes;
}

std::string encode_leaf(const Hash32& path, const std::string& value) {
  std::string bytes;
  bytes.reserve(33 + value.size());
  bytes.resize(33);
  bytes[0] = static_cast<char>(kLeafTag);
  std::memcpy(bytes.data() + 1, path.data(), 32);
  bytes += value;
  return bytes;
}

// SHA-256 through the incremental interface: base/sha256.h's sha256() goes
// through OpenSSL 3's SHA256(), which fetches the digest on every call
// (EVP_Q_digest), measured as a third of a 65-byte hash's cost.
Hash32 hash_bytes(ByteView data) { return sha256_concat({data}); }

}  // namespace

// ---------------------------------------------------------------- reading

StateTree::StateTree(const NodeReader& reader, StateTreeOptions options)
    : reader_(reader), cache_(options.cache_bytes) {}

// Reads `hash` from the reader, checks it against its hash and caches its
// shape.
Result<StateTree::Node> StateTree::read(const Hash32& hash) {
  auto read = reader_.read_node(hash);
  if (!read) return read.status();
  if (!read->has_value()) {
    return Status::error("state.missing_node",
                         "the state tree has no node " + to_hex(hash) +
                             "; the root is not one this node has committed, or it was pruned");
  }
  std::string& bytes = **read;
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  Node node;
  if (bytes.size() == 65 && data[0] == kInternalTag) {
    if (hash_bytes(ByteView(data, bytes.size())) != hash)
      return corrupt(hash, "does not match its hash");
    node.kind = Kind::kInternal;
    std::memcpy(node.left.data(), data + 1, 32);
    std::memcpy(node.right.data(), data + 33, 32);
    cache_.put(hash, NodeShapeCache::Shape{false, node.left, node.right});
    return node;
  }
  if (bytes.size() >= 33 && data[0] == kLeafTag) {
    node.kind = Kind::kLeaf;
    std::memcpy(node.path.data(), data + 1, 32);
    node.value_hash = hash_bytes(ByteView(data + 33, bytes.size() - 33));
    if (state_leaf_hash(node.path, node.value_hash) != hash) {
      return corrupt(hash, "does not match its hash");
    }
    bytes.erase(0, 33);
    node.value = std::move(bytes);
    cache_.put(hash, NodeShapeCache::Shape{true, node.path, node.value_hash});
    return node;
  }
  return corrupt(hash, "has an unknown encoding");
}

Result<StateTree::Node> StateTree::load(const Hash32& hash, bool with_value) {
  Node node;
  if (hash == empty_subtree_hash()) return node;
  NodeShapeCache::Shape shape;
  if (cache_.get(hash, shape) && !(shape.leaf && with_value)) {
    if (shape.leaf) {
      node.kind = Kind::kLeaf;
      node.path = shape.a;
      node.value_hash = shape.b;
    } else {
      node.kind = Kind::kInternal;
      node.left = shape.a;
      node.right = shape.b;
    }
    return node;
  }
  return read(hash);
}

Result<size_t> StateTree::warm(const Hash32& root, size_t max_nodes) {
  // Breadth first, so the top levels (which every update passes) are loaded
  // first; `order` keeps the loaded nodes in that order.
  std::vector<Hash32> order;
  size_t level_begin = 0;
  if (root != empty_subtree_hash() && max_nodes > 0) order.push_back(root);
  for (size_t depth = 0; level_begin < order.size(); ++depth) {
    if (depth > kPathBits) return corrupt(root, "has a path deeper than 256 levels");
    const size_t level_end = order.size();
    for (size_t i = level_begin; i < level_end; ++i) {
      auto node = load(order[i], false);
      if (!node) return node.status();
      if (node->kind != Kind::kInternal) continue;
      for (const Hash32& child : {node->left, node->right}) {
        if (child != empty_subtree_hash() && order.size() < max_nodes) order.push_back(child);
      }
    }
    level_begin = level_end;
  }
  // Once the cache is full (or one of its sets is), each load above evicts
  // the least recently used node: the top levels, loaded first. Going over
  // the nodes again deepest first makes the top levels the most recently
  // used, reloading the few that were evicted, so later evictions take deep
  // nodes, which fewer updates pass.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto node = load(*it, false);
    if (!node) return node.status();
  }
  return order.size();
}

Result<StateTree::Kind> StateTree::kind_of(const Hash32& hash) {
  auto node = load(hash, false);
  if (!node) return node.status();
  return node->kind;
}

Result<ProvenValue> StateTree::prove(const Hash32& root, std::string_view app,
                                     std::string_view key) {
  const Hash32 path = state_path(app, key);
  ProvenValue out;
  Hash32 at = root;
  for (size_t depth = 0;; ++depth) {
    auto node = load(at, false);
    if (!node) return node.status();
    switch (node->kind) {
      case Kind::kEmpty:
        return out;
      case Kind::kLeaf:
        out.proof.leaf = StateProofLeaf{node->path, node->value_hash};
        if (node->path == path) {
          if (!node->value) {
            node = load(at, true);
            if (!node) return node.status();
          }
          out.value = std::move(node->value);
        }
        return out;
      case Kind::kInternal:
        if (depth >= kPathBits) return corrupt(at, "lies deeper than 256 levels");
        if (path_bit(path, depth) == 0) {
          out.proof.siblings.push_back(node->right);
          at = node->left;
        } else {
          out.proof.siblings.push_back(node->left);
          at = node->right;
        }
        break;
      case Kind::kUnknown:
        return corrupt(at, "has no kind");
    }
  }
}

Result<std::optional<std::string>> StateTree::get(const Hash32& root, std::string_view app,
                                                  std::string_view key) {
  const Hash32 path = state_path(app, key);
  Hash32 at = root;
  for (size_t depth = 0;; ++depth) {
    auto node = load(at, false);
    if (!node) return node.status();
    if (node->kind == Kind::kEmpty) return std::optional<std::string>();
    if (node->kind == Kind::kLeaf) {
      if (node->path != path) return std::optional<std::string>();
      if (!node->value) {
        node = load(at, true);
        if (!node) return node.status();
      }
      return std::move(node->value);
    }
    if (depth >= kPathBits) return corrupt(at, "lies deeper than 256 levels");
    at = path_bit(path, depth) == 0 ? node->left : node->right;
  }
}

// ---------------------------------------------------------------- updating

Result<Hash32> StateTree::update(const Hash32& root, std::span<const StateWrite> writes,
                                 NodeWriteSet& out_new_nodes) {
  if (writes.empty()) return root;
  std::vector<Item> ops;
  ops.reserve(writes.size());
  for (const StateWrite& w : writes) {
    ops.push_back(Item{state_path(w.app, w.key), w.value ? &*w.value : nullptr, std::nullopt});
  }
  // Stable sort, then keep the last write of each path.
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Item& a, const Item& b) { return a.path < b.path; });
  size_t kept = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i + 1 < ops.size() && ops[i + 1].path == ops[i].path) continue;
    ops[kept++] = ops[i];
  }
  ops.resize(kept);
  // A write creates its leaf and about log2(N) - log2(k) internal nodes.
  out_new_nodes.reserve(out_new_nodes.size() + 16 * ops.size());

  auto sub = update_subtree(root, 0, ops, out_new_nodes);
  if (!sub) return sub.status();
  return sub->hash;
}

Result<StateTree::Sub> StateTree::update_subtree(const Hash32& hash, size_t depth,
                                                 std::span<const Item> ops, NodeWriteSet& out) {
  auto node = load(hash, false);
  if (!node) return node.status();
  if (node->kind == Kind::kEmpty) return build(depth, ops, out);

  if (node->kind == Kind::kLeaf) {
    // The subtree becomes: the old leaf (unless a write names its path) plus
    // the writes. Merge the leaf into the sorted writes.
    std::vector<Item> items;
    items.reserve(ops.size() + 1);
    auto pos = std::lower_bound(ops.begin(), ops.end(), node->path,
                                [](const Item& a, const Hash32& p) { return a.path < p; });
    items.insert(items.end(), ops.begin(), pos);
    if (pos == ops.end() || pos->path != node->path) {
      items.push_back(Item{node->path, nullptr, hash});
    }
    items.insert(items.end(), pos, ops.end());
    return build(depth, items, out);
  }

  if (depth >= kPathBits) return corrupt(hash, "lies deeper than 256 levels");
  // Writes are sorted by path and share the first `depth` bits, so those
  // going left come first.
  auto split = std::partition_point(
      ops.begin(), ops.end(), [depth](const Item& i) { return path_bit(i.path, depth) == 0; });
  std::span<const Item> lops(ops.begin(), split), rops(split, ops.end());
  Sub left{node->left, node->left == empty_subtree_hash() ? Kind::kEmpty : Kind::kUnknown};
  Sub right{node->right, node->right == empty_subtree_hash() ? Kind::kEmpty : Kind::kUnknown};
  if (!lops.empty()) {
    auto l = update_subtree(node->left, depth + 1, lops, out);
    if (!l) return l.status();
    left = *l;
  }
  if (!rops.empty()) {
    auto r = update_subtree(node->right, depth + 1, rops, out);
    if (!r) return r.status();
    right = *r;
  }
  return combine(left, right, out);
}

// Builds the canonical subtree at `depth` holding exactly the leaves in
// `items` that are not deletes (sorted by path, distinct, sharing `depth` bits).
Result<StateTree::Sub> StateTree::build(size_t depth, std::span<const Item> items,
                                        NodeWriteSet& out) {
  const Item* first = nullptr;
  size_t count = 0;
  for (const Item& i : items) {
    if (i.value || i.existing) {
      if (!first) first = &i;
      if (++count > 1) break;
    }
  }
  if (count == 0) return Sub{empty_subtree_hash(), Kind::kEmpty};
  if (count == 1) {
    if (first->existing) return Sub{*first->existing, Kind::kLeaf};
    Hash32 value_hash = hash_bytes(as_bytes(*first->value));
    Hash32 h = state_leaf_hash(first->path, value_hash);
    out.put(h, encode_leaf(first->path, *first->value));
    cache_.put(h, NodeShapeCache::Shape{true, first->path, value_hash});
    return Sub{h, Kind::kLeaf};
  }
  // Two distinct paths always differ before bit 256.
  assert(depth < kPathBits);
  auto split = std::partition_point(
      items.begin(), items.end(), [depth](const Item& i) { return path_bit(i.path, depth) == 0; });
  auto left = build(depth + 1, std::span<const Item>(items.begin(), split), out);
  if (!left) return left.status();
  auto right = build(depth + 1, std::span<const Item>(split, items.end()), out);
  if (!right) return right.status();
  return combine(*left, *right, out);
}

// The subtree with these two children, collapsed to a shortcut leaf (or
// empty) when it holds fewer than two leaves.
Result<StateTree::Sub> StateTree::combine(const Sub& left, const Sub& right, NodeWriteSet& out) {
  if (left.kind == Kind::kEmpty || right.kind == Kind::kEmpty) {
    Sub other = left.kind == Kind::kEmpty ? right : left;
    if (other.kind == Kind::kUnknown) {
      auto kind = kind_of(other.hash);
      if (!kind) return kind.status();
      other.kind = *kind;
    }
    if (other.kind != Kind::kInternal) return other;  // empty or a lone leaf moves up
  }
  Hash32 h = state_internal_hash(left.hash, right.hash);
  out.put(h, encode_internal(left.hash, right.hash));
  cache_.put(h, NodeShapeCache::Shape{false, left.hash, right.hash});
  return Sub{h, Kind::kInternal};
}

}  // namespace imi::ledger
