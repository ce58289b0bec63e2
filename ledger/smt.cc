#include "ledger/smt.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <vector>

#include "base/sha256.h"

namespace imi::ledger {
namespace {

constexpr size_t kPathBits = 256;
constexpr uint8_t kLeafTag = 0x00;
constexpr uint8_t kPageTag = 0x02;
constexpr size_t kPageLevels = StatePage::kLevels;
// Pages kept decoded (about 3.6 KB each): an update rewrites a page soon
// after reading it (the descent below it is short), so a few hundred cover
// it while staying in the CPU's caches.
constexpr size_t kMemoPages = 256;

Status missing(const Hash32& hash) {
  return Status::error("state.missing_node",
                       "the state tree has no node " + to_hex(hash) +
                           "; the root is not one this node has committed, or it was pruned");
}

Status corrupt(const Hash32& hash, const std::string& why) {
  return Status::error("state.corrupt_node", "state tree node " + to_hex(hash) + " " + why +
                                                 "; the database is damaged: restore it or "
                                                 "resync the node");
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
    : reader_(reader), cache_(options.cache_bytes), memo_(kMemoPages) {}

StateTree::Place StateTree::child_place(const Place& at, const Hash32& hash, const Node& node,
                                        int side) {
  return Place{at.depth + 1, at.depth % kPageLevels == 0 ? hash : at.page_root,
               side == 0 ? node.left_kind : node.right_kind};
}

StateTree::Kind StateTree::kind_in_page(StatePage::ChildKind kind) {
  switch (kind) {
    case StatePage::ChildKind::kEmpty:
      return Kind::kEmpty;
    case StatePage::ChildKind::kLeaf:
      return Kind::kLeaf;
    case StatePage::ChildKind::kInPage:
      return Kind::kInternal;
    case StatePage::ChildKind::kHash:
      break;
  }
  return Kind::kUnknown;  // a page root, not read yet
}

StateTree::Node StateTree::shape_node(const NodeShapeCache::Shape& shape) {
  Node node;
  if (shape.leaf) {
    node.kind = Kind::kLeaf;
    node.path = shape.a;
    node.value_hash = shape.b;
    return node;
  }
  node.kind = Kind::kInternal;
  node.left = shape.a;
  node.right = shape.b;
  node.left_kind = node.left == empty_subtree_hash() ? Kind::kEmpty : Kind(shape.a_kind);
  node.right_kind = node.right == empty_subtree_hash() ? Kind::kEmpty : Kind(shape.b_kind);
  return node;
}

// The internal node at `pos` of `page`.
StateTree::Node StateTree::page_node(const StatePage& page, size_t pos) {
  const StatePage::Node& n = page.nodes[pos];
  Node node;
  node.kind = Kind::kInternal;
  node.left = n.child[0].hash;
  node.right = n.child[1].hash;
  node.left_kind = kind_in_page(n.child[0].kind);
  node.right_kind = kind_in_page(n.child[1].kind);
  return node;
}

Result<const StatePage*> StateTree::decode_into_memo(const Hash32& root, std::string_view bytes) {
  StatePage& page = memo_.add(root);
  if (Status s = decode_page(root, bytes, page); !s.is_ok()) {
    memo_.drop_last();
    return s;
  }
  for (size_t pos = 1; pos < StatePage::kPositions; ++pos) {
    if (!page.has(pos)) continue;
    cache_.prefetch(page.nodes[pos].hash);
    for (const StatePage::Child& c : page.nodes[pos].child) {
      if (c.kind == StatePage::ChildKind::kLeaf) cache_.prefetch(c.hash);
    }
  }
  // Deepest first, so the page root ends up the most recently used.
  for (size_t pos = StatePage::kPositions; pos-- > 1;) {
    if (!page.has(pos)) continue;
    for (const StatePage::Child& c : page.nodes[pos].child) {
      if (c.kind == StatePage::ChildKind::kLeaf) {
        cache_.put(c.hash, NodeShapeCache::Shape{true, c.path, c.value_hash});
      }
    }
    const Node node = page_node(page, pos);
    cache_.put(page.nodes[pos].hash, NodeShapeCache::Shape{false, node.left, node.right,
                                                           static_cast<uint8_t>(node.left_kind),
                                                           static_cast<uint8_t>(node.right_kind)});
  }
  return &page;
}

Result<const StatePage*> StateTree::read_page(const Hash32& root) {
  if (const StatePage* page = memo_.find(root)) return page;
  auto read = reader_.read_node(root);
  if (!read) return read.status();
  if (!read->has_value()) return missing(root);
  return decode_into_memo(root, **read);
}

Result<StateTree::Node> StateTree::read_entry(const Hash32& hash, size_t depth) {
  auto read = reader_.read_node(hash);
  if (!read) return read.status();
  if (!read->has_value()) return missing(hash);
  std::string& bytes = **read;
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!bytes.empty() && data[0] == kPageTag) {
    if (depth % kPageLevels != 0) return corrupt(hash, "is a page below a page root's depth");
    auto page = decode_into_memo(hash, bytes);
    if (!page) return page.status();
    return page_node(**page, 1);
  }
  if (bytes.size() >= 33 && data[0] == kLeafTag) {
    Node node;
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

Result<StateTree::Node> StateTree::load(const Hash32& hash, const Place& at, bool with_value) {
  Node node;
  if (hash == empty_subtree_hash()) return node;
  NodeShapeCache::Shape shape;
  if (cache_.get(hash, shape) && !(shape.leaf && with_value)) return shape_node(shape);
  // In a page decoded lately: the page of the parent (which names a leaf
  // child's shape), or the node's own page if it is a page root.
  if (const StatePage* page = memo_.find(at.page_root)) {
    if (at.depth % kPageLevels != 0) {
      if (size_t pos = page->find(hash)) return page_node(*page, pos);
    }
    const StatePage::Child* leaf = with_value ? nullptr : page->find_leaf(hash);
    if (leaf) {
      node.kind = Kind::kLeaf;
      node.path = leaf->path;
      node.value_hash = leaf->value_hash;
      return node;
    }
  }
  if (at.depth % kPageLevels == 0) {
    if (const StatePage* page = memo_.find(hash)) return page_node(*page, 1);
  }
  // A page root, or a leaf: stored under its own hash.
  if (at.depth % kPageLevels == 0 || at.kind == Kind::kLeaf) return read_entry(hash, at.depth);
  // An internal node inside the page of at.page_root (or, if the parent did
  // not know, perhaps a leaf).
  auto page = read_page(at.page_root);
  if (!page) return page.status();
  if (size_t pos = (*page)->find(hash)) return page_node(**page, pos);
  if (at.kind == Kind::kUnknown) return read_entry(hash, at.depth);
  return corrupt(at.page_root, "does not hold its node " + to_hex(hash));
}

Result<size_t> StateTree::warm(const Hash32& root, size_t max_nodes) {
  memo_.clear();
  // Breadth first, so the top levels (which every update passes) are loaded
  // first; `order` keeps the loaded nodes in that order.
  std::vector<std::pair<Hash32, Place>> order;
  size_t level_begin = 0;
  if (root != empty_subtree_hash() && max_nodes > 0) order.push_back({root, Place{}});
  for (size_t depth = 0; level_begin < order.size(); ++depth) {
    if (depth > kPathBits) return corrupt(root, "has a path deeper than 256 levels");
    const size_t level_end = order.size();
    for (size_t i = level_begin; i < level_end; ++i) {
      const auto [hash, at] = order[i];
      auto node = load(hash, at, false);
      if (!node) return node.status();
      if (node->kind != Kind::kInternal) continue;
      for (int side = 0; side < 2; ++side) {
        const Hash32& child = side == 0 ? node->left : node->right;
        if (child != empty_subtree_hash() && order.size() < max_nodes) {
          order.push_back({child, child_place(at, hash, *node, side)});
        }
      }
    }
    level_begin = level_end;
  }
  // Once the cache is full (or one of its sets is), each load above evicts
  // the least recently used node: the top levels, loaded first. Going over
  // the nodes again deepest first makes the top levels the most recently
  // used, reloading the few that were evicted, so later evictions take deep
  // nodes, which fewer updates pass.
  // A node found in the memo is not in the cache: put makes every node
  // cached and the most recently used.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto node = load(it->first, it->second, false);
    if (!node) return node.status();
    if (node->kind == Kind::kLeaf) {
      cache_.put(it->first, NodeShapeCache::Shape{true, node->path, node->value_hash});
    } else if (node->kind == Kind::kInternal) {
      cache_.put(it->first, NodeShapeCache::Shape{false, node->left, node->right,
                                                  static_cast<uint8_t>(node->left_kind),
                                                  static_cast<uint8_t>(node->right_kind)});
    }
  }
  return order.size();
}

Result<StateTree::Kind> StateTree::kind_of(const Hash32& hash, const Place& at) {
  auto node = load(hash, at, false);
  if (!node) return node.status();
  return node->kind;
}

Result<ProvenValue> StateTree::prove(const Hash32& root, std::string_view app,
                                     std::string_view key) {
  memo_.clear();
  const Hash32 path = state_path(app, key);
  ProvenValue out;
  Hash32 at = root;
  Place place;
  for (;;) {
    auto node = load(at, place, false);
    if (!node) return node.status();
    switch (node->kind) {
      case Kind::kEmpty:
        return out;
      case Kind::kLeaf:
        out.proof.leaf = StateProofLeaf{node->path, node->value_hash};
        if (node->path == path) {
          if (!node->value) {
            node = load(at, place, true);
            if (!node) return node.status();
          }
          out.value = std::move(node->value);
        }
        return out;
      case Kind::kInternal: {
        if (place.depth >= kPathBits) return corrupt(at, "lies deeper than 256 levels");
        const int bit = path_bit(path, place.depth);
        out.proof.siblings.push_back(bit == 0 ? node->right : node->left);
        place = child_place(place, at, *node, bit);
        at = bit == 0 ? node->left : node->right;
        break;
      }
      case Kind::kUnknown:
        return corrupt(at, "has no kind");
    }
  }
}

Result<std::optional<std::string>> StateTree::get(const Hash32& root, std::string_view app,
                                                  std::string_view key) {
  memo_.clear();
  const Hash32 path = state_path(app, key);
  Hash32 at = root;
  Place place;
  for (;;) {
    auto node = load(at, place, false);
    if (!node) return node.status();
    if (node->kind == Kind::kEmpty) return std::optional<std::string>();
    if (node->kind == Kind::kLeaf) {
      if (node->path != path) return std::optional<std::string>();
      if (!node->value) {
        node = load(at, place, true);
        if (!node) return node.status();
      }
      return std::move(node->value);
    }
    if (place.depth >= kPathBits) return corrupt(at, "lies deeper than 256 levels");
    const int bit = path_bit(path, place.depth);
    place = child_place(place, at, *node, bit);
    at = bit == 0 ? node->left : node->right;
  }
}

// ---------------------------------------------------------------- updating

Result<Hash32> StateTree::update(const Hash32& root, std::span<const StateWrite> writes,
                                 NodeWriteSet& out_new_nodes) {
  if (writes.empty()) return root;
  memo_.clear();
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
  // A write creates its leaf and about (log2(N) - log2(k)) / 4 pages.
  out_new_nodes.reserve(out_new_nodes.size() + 4 * ops.size());
  fresh_.clear();
  fresh_.reserve(16 * ops.size());
  leaves_.clear();
  leaves_.reserve(2 * ops.size());

  auto sub = update_subtree(root, Place{}, ops, out_new_nodes);
  if (sub) cache_created();
  fresh_.clear();
  leaves_.clear();
  if (!sub) return sub.status();
  return sub->hash;
}

Result<StateTree::Sub> StateTree::update_subtree(const Hash32& hash, const Place& at,
                                                 std::span<const Item> ops, NodeWriteSet& out) {
  auto node = load(hash, at, false);
  if (!node) return node.status();
  if (node->kind == Kind::kEmpty) return build(at.depth, ops, out);

  if (node->kind == Kind::kLeaf) {
    // The subtree becomes: the old leaf (unless a write names its path) plus
    // the writes. Merge the leaf into the sorted writes.
    std::vector<Item> items;
    items.reserve(ops.size() + 1);
    auto pos = std::lower_bound(ops.begin(), ops.end(), node->path,
                                [](const Item& a, const Hash32& p) { return a.path < p; });
    items.insert(items.end(), ops.begin(), pos);
    if (pos == ops.end() || pos->path != node->path) {
      items.push_back(Item{node->path, nullptr, hash, node->value_hash});
    }
    items.insert(items.end(), pos, ops.end());
    return build(at.depth, items, out);
  }

  const size_t depth = at.depth;
  if (depth >= kPathBits) return corrupt(hash, "lies deeper than 256 levels");
  // Writes are sorted by path and share the first `depth` bits, so those
  // going left come first.
  auto split = std::partition_point(
      ops.begin(), ops.end(), [depth](const Item& i) { return path_bit(i.path, depth) == 0; });
  std::span<const Item> lops(ops.begin(), split), rops(split, ops.end());
  const Place left_at = child_place(at, hash, *node, 0);
  const Place right_at = child_place(at, hash, *node, 1);
  Sub left{node->left, node->left_kind};
  Sub right{node->right, node->right_kind};
  // Both children's lookups start now: the right one's is done by the time
  // the left subtree is.
  if (!lops.empty()) cache_.prefetch(node->left);
  if (!rops.empty()) cache_.prefetch(node->right);
  if (!lops.empty()) {
    auto l = update_subtree(node->left, left_at, lops, out);
    if (!l) return l.status();
    left = *l;
  }
  if (!rops.empty()) {
    auto r = update_subtree(node->right, right_at, rops, out);
    if (!r) return r.status();
    right = *r;
  }
  auto sub = combine(left, right, left_at);
  if (!sub) return sub.status();
  if (depth % kPageLevels == 0 && sub->kind == Kind::kInternal) {
    if (Status s = emit_page(*sub, &hash, out); !s.is_ok()) return s;
  }
  return sub;
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
    // A leaf's shape is kept for the page that will hold it.
    leaves_.push_back(Leaf{first->path, first->value_hash});
    const auto index = static_cast<int32_t>(leaves_.size() - 1);
    if (first->existing) return Sub{*first->existing, Kind::kLeaf, index};
    Hash32 value_hash = hash_bytes(as_bytes(*first->value));
    leaves_.back().value_hash = value_hash;
    Hash32 h = state_leaf_hash(first->path, value_hash);
    out.put(h, encode_leaf(first->path, *first->value));
    leaves_.back().hash = h;
    leaves_.back().created = true;  // cached at the end of the update
    return Sub{h, Kind::kLeaf, index};
  }
  // Two distinct paths always differ before bit 256.
  assert(depth < kPathBits);
  auto split = std::partition_point(
      items.begin(), items.end(), [depth](const Item& i) { return path_bit(i.path, depth) == 0; });
  auto left = build(depth + 1, std::span<const Item>(items.begin(), split), out);
  if (!left) return left.status();
  auto right = build(depth + 1, std::span<const Item>(split, items.end()), out);
  if (!right) return right.status();
  // Every internal node below was created here, so the children's kinds
  // are known and their place is not needed.
  auto sub = combine(*left, *right, Place{depth + 1});
  if (!sub) return sub.status();
  if (depth % kPageLevels == 0 && sub->kind == Kind::kInternal) {
    if (Status s = emit_page(*sub, nullptr, out); !s.is_ok()) return s;
  }
  return sub;
}

// The subtree with these two children, collapsed to a shortcut leaf (or
// empty) when it holds fewer than two leaves.
Result<StateTree::Sub> StateTree::combine(const Sub& left, const Sub& right,
                                          const Place& children) {
  Sub l = left, r = right;
  if (l.kind == Kind::kEmpty || r.kind == Kind::kEmpty) {
    Sub& other = l.kind == Kind::kEmpty ? r : l;
    if (other.kind == Kind::kUnknown) {
      auto kind = kind_of(other.hash, Place{children.depth, children.page_root, Kind::kUnknown});
      if (!kind) return kind.status();
      other.kind = *kind;
    }
    if (other.kind != Kind::kInternal) return other;  // empty or a lone leaf moves up
  }
  Hash32 h = state_internal_hash(l.hash, r.hash);
  fresh_.push_back(Fresh{h, l, r});  // cached at the end of the update
  return Sub{h, Kind::kInternal, static_cast<int32_t>(fresh_.size() - 1)};
}

// ---------------------------------------------------------------- writing pages

void StateTree::cache_created() {
  // In creation order (children before parents, so the root ends up the most
  // recently used), in groups whose sets are prefetched together: each put
  // is a memory miss, and one after another they were a fifth of an update.
  constexpr size_t kGroup = 16;
  for (size_t i = 0; i < leaves_.size(); i += kGroup) {
    const size_t end = std::min(leaves_.size(), i + kGroup);
    for (size_t j = i; j < end; ++j) {
      if (leaves_[j].created) cache_.prefetch(leaves_[j].hash);
    }
    for (size_t j = i; j < end; ++j) {
      const Leaf& l = leaves_[j];
      if (l.created) cache_.put(l.hash, NodeShapeCache::Shape{true, l.path, l.value_hash});
    }
  }
  for (size_t i = 0; i < fresh_.size(); i += kGroup) {
    const size_t end = std::min(fresh_.size(), i + kGroup);
    for (size_t j = i; j < end; ++j) cache_.prefetch(fresh_[j].hash);
    for (size_t j = i; j < end; ++j) {
      const Fresh& f = fresh_[j];
      cache_.put(f.hash, NodeShapeCache::Shape{false, f.left.hash, f.right.hash,
                                               static_cast<uint8_t>(f.left.kind),
                                               static_cast<uint8_t>(f.right.kind)});
    }
  }
}

Result<StateTree::Node> StateTree::unchanged_node(const Hash32& hash, const Hash32* old_root) {
  // The old page itself, when this update has just read it.
  if (const StatePage* page = old_root ? memo_.find(*old_root) : nullptr) {
    if (size_t pos = page->find(hash)) return page_node(*page, pos);
  }
  NodeShapeCache::Shape shape;
  if (cache_.get(hash, shape) && !shape.leaf) return shape_node(shape);
  if (!old_root) return corrupt(hash, "is not a node the update created nor an old one");
  auto page = read_page(*old_root);
  if (!page) return page.status();
  if (size_t pos = (*page)->find(hash)) return page_node(**page, pos);
  return corrupt(*old_root, "does not hold its node " + to_hex(hash));
}

Result<StatePage::Child> StateTree::leaf_child(const Sub& leaf) {
  StatePage::Child c{StatePage::ChildKind::kLeaf, leaf.hash};
  if (leaf.fresh >= 0) {
    c.path = leaves_[leaf.fresh].path;
    c.value_hash = leaves_[leaf.fresh].value_hash;
    return c;
  }
  // An unchanged leaf: its shape was cached when its page (or itself) was
  // read; if evicted since, it is read again.
  auto node = load(leaf.hash, Place{0, {}, Kind::kLeaf}, false);
  if (!node) return node.status();
  if (node->kind != Kind::kLeaf) return corrupt(leaf.hash, "is not the leaf its parent names");
  c.path = node->path;
  c.value_hash = node->value_hash;
  return c;
}

Status StateTree::emit_page(const Sub& root, const Hash32* old_root, NodeWriteSet& out) {
  // Level by level, top down: a level's nodes are placed by the level above.
  // A node keeps its position in its page, so an unchanged node, and an
  // unchanged leaf child that did not move, are copied from the old page
  // when this operation decoded it. The others are looked up in the cache,
  // each level's nodes and then their leaf children after prefetching them
  // all, so the memory misses overlap.
  StatePage& page = emit_;
  std::array<Sub, StatePage::kPositions> subs;
  std::array<std::array<Sub, 2>, StatePage::kPositions> kids;
  std::array<bool, StatePage::kPositions> copied{};
  subs[1] = root;
  page.held = 1u << 1;
  // Looked up again after every call that may read a page (and so reuse
  // the memo's slots).
  const StatePage* old = old_root ? memo_.find(*old_root) : nullptr;
  auto old_node = [&](size_t pos, const Hash32& hash) -> const StatePage::Node* {
    return old && old->has(pos) && old->nodes[pos].hash == hash ? &old->nodes[pos] : nullptr;
  };
  for (size_t level = 0; level < kPageLevels; ++level) {
    const size_t begin = size_t{1} << level, end = begin * 2;
    const bool last_level = level + 1 == kPageLevels;
    for (size_t pos = begin; pos < end; ++pos) {
      if (!page.has(pos)) continue;
      copied[pos] = subs[pos].fresh < 0 && old_node(pos, subs[pos].hash) != nullptr;
      if (subs[pos].fresh < 0 && !copied[pos]) cache_.prefetch(subs[pos].hash);
    }
    for (size_t pos = begin; pos < end; ++pos) {
      if (!page.has(pos)) continue;
      const Sub& sub = subs[pos];
      if (copied[pos]) {
        if (const StatePage::Node* was = old_node(pos, sub.hash)) {
          StatePage::Node& n = page.nodes[pos];
          n = *was;
          for (int side = 0; side < 2; ++side) {
            if (n.child[side].kind != StatePage::ChildKind::kInPage) continue;
            page.held |= static_cast<uint16_t>(1u << (2 * pos + side));
            subs[2 * pos + side] = Sub{n.child[side].hash, Kind::kInternal};
          }
          continue;
        }
        copied[pos] = false;  // the memo started over: look it up as below
      }
      if (sub.fresh >= 0) {
        kids[pos] = {fresh_[sub.fresh].left, fresh_[sub.fresh].right};
      } else {
        auto node = unchanged_node(sub.hash, old_root);
        if (!node) return node.status();
        old = old_root ? memo_.find(*old_root) : nullptr;
        kids[pos] = {Sub{node->left, node->left_kind}, Sub{node->right, node->right_kind}};
      }
      const StatePage::Node* was = old_node(pos, sub.hash);
      for (int side = 0; side < 2; ++side) {
        const Sub& c = kids[pos][side];
        if (c.kind == Kind::kLeaf && c.fresh < 0 &&
            !(was && was->child[side].kind == StatePage::ChildKind::kLeaf &&
              was->child[side].hash == c.hash)) {
          cache_.prefetch(c.hash);
        }
      }
    }
    for (size_t pos = begin; pos < end; ++pos) {
      if (!page.has(pos) || copied[pos]) continue;
      StatePage::Node& n = page.nodes[pos];
      n.hash = subs[pos].hash;
      for (int side = 0; side < 2; ++side) {
        const Sub& c = kids[pos][side];
        switch (c.kind) {
          case Kind::kEmpty:
            n.child[side].kind = StatePage::ChildKind::kEmpty;
            n.child[side].hash = empty_subtree_hash();
            break;
          case Kind::kLeaf: {
            // A leaf the update did not move is at the same place in the
            // old page (the node there may have changed).
            if (const StatePage::Child* was = old ? &old->nodes[pos].child[side] : nullptr;
                c.fresh < 0 && was && old->has(pos) && was->kind == StatePage::ChildKind::kLeaf &&
                was->hash == c.hash) {
              n.child[side] = *was;
              break;
            }
            auto leaf = leaf_child(c);
            if (!leaf) return leaf.status();
            old = old_root ? memo_.find(*old_root) : nullptr;
            n.child[side] = *leaf;
            break;
          }
          case Kind::kInternal:
          case Kind::kUnknown:
            // Above the last level every child's kind is known (from the
            // page it was read from, or from its creation); below it, a
            // child of unknown kind is one a page named by hash: a page root.
            n.child[side].hash = c.hash;
            if (last_level) {
              n.child[side].kind = StatePage::ChildKind::kHash;
              break;
            }
            if (c.kind == Kind::kUnknown) {
              return corrupt(n.hash, "has a child of unknown kind inside its page");
            }
            n.child[side].kind = StatePage::ChildKind::kInPage;
            page.held |= static_cast<uint16_t>(1u << (2 * pos + side));
            subs[2 * pos + side] = c;
            break;
        }
      }
    }
  }
  out.put(root.hash, encode_page(page));
  return Status::ok();
}

}  // namespace imi::ledger
