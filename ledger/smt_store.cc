#include "ledger/smt_store.h"

#include <algorithm>

#include "ledger/smt_proof.h"

namespace imi::ledger {
namespace {

constexpr std::string_view kNodePrefix = "s/n/";
constexpr std::string_view kRootPrefix = "s/r/";
constexpr uint8_t kPageTag = 0x02;

Status corrupt_page(const Hash32& hash, const std::string& why) {
  return Status::error("state.corrupt_node", "state tree page " + to_hex(hash) + " " + why +
                                                 "; the database is damaged: restore it or "
                                                 "resync the node");
}

Status storage_error(const leveldb::Status& s) {
  return Status::error("state.storage", "reading the state tree from LevelDB failed: " +
                                            s.ToString() + "; check the data directory and disk");
}

}  // namespace

size_t StatePage::find(const Hash32& hash) const {
  for (size_t pos = 1; pos < kPositions; ++pos) {
    if (has(pos) && nodes[pos].hash == hash) return pos;
  }
  return 0;
}

const StatePage::Child* StatePage::find_leaf(const Hash32& hash) const {
  for (size_t pos = 1; pos < kPositions; ++pos) {
    if (!has(pos)) continue;
    for (const Child& c : nodes[pos].child) {
      if (c.kind == ChildKind::kLeaf && c.hash == hash) return &c;
    }
  }
  return nullptr;
}

namespace {

constexpr uint8_t kChildEmpty = 0x00;
constexpr uint8_t kChildLeaf = 0x01;
constexpr uint8_t kChildHash = 0x02;

void append(std::string& bytes, const Hash32& h) {
  bytes.append(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

std::string encode_page(const StatePage& page) {
  std::string bytes;
  bytes.reserve(3 + 65 * StatePage::kPositions);
  bytes.push_back(static_cast<char>(kPageTag));
  bytes.push_back(static_cast<char>(page.held >> 8));
  bytes.push_back(static_cast<char>(page.held & 0xff));
  for (size_t pos = 1; pos < StatePage::kPositions; ++pos) {
    if (!page.has(pos)) continue;
    for (const StatePage::Child& c : page.nodes[pos].child) {
      switch (c.kind) {
        case StatePage::ChildKind::kInPage:
          break;
        case StatePage::ChildKind::kEmpty:
          bytes.push_back(static_cast<char>(kChildEmpty));
          break;
        case StatePage::ChildKind::kLeaf:
          bytes.push_back(static_cast<char>(kChildLeaf));
          append(bytes, c.path);
          append(bytes, c.value_hash);
          break;
        case StatePage::ChildKind::kHash:
          bytes.push_back(static_cast<char>(kChildHash));
          append(bytes, c.hash);
          break;
      }
    }
  }
  return bytes;
}

Status decode_page(const Hash32& hash, std::string_view bytes, StatePage& page) {
  using Kind = StatePage::ChildKind;
  if (bytes.size() < 3 || static_cast<uint8_t>(bytes[0]) != kPageTag) {
    return corrupt_page(hash, "is not a page");
  }
  page.held =
      static_cast<uint16_t>(static_cast<uint8_t>(bytes[1]) << 8 | static_cast<uint8_t>(bytes[2]));
  if (!page.has(1) || page.has(0)) return corrupt_page(hash, "has no root position");
  size_t at = 3;
  auto take = [&](Hash32& out) {
    if (bytes.size() - at < 32) return false;
    std::memcpy(out.data(), bytes.data() + at, 32);
    at += 32;
    return true;
  };
  for (size_t pos = 1; pos < StatePage::kPositions; ++pos) {
    if (!page.has(pos)) continue;
    if (pos > 1 && !page.has(pos / 2)) return corrupt_page(hash, "holds a node without its parent");
    const bool last_level = pos >= StatePage::kPositions / 2;
    for (int side = 0; side < 2; ++side) {
      StatePage::Child& c = page.nodes[pos].child[side];
      if (!last_level && page.has(2 * pos + side)) {
        c.kind = Kind::kInPage;
        continue;
      }
      if (at == bytes.size()) return corrupt_page(hash, "is truncated");
      const uint8_t tag = static_cast<uint8_t>(bytes[at++]);
      if (tag == kChildEmpty) {
        c.kind = Kind::kEmpty;
        c.hash = empty_subtree_hash();
      } else if (tag == kChildLeaf) {
        c.kind = Kind::kLeaf;
        if (!take(c.path) || !take(c.value_hash)) return corrupt_page(hash, "is truncated");
        c.hash = state_leaf_hash(c.path, c.value_hash);
      } else if (tag == kChildHash && last_level) {
        c.kind = Kind::kHash;
        if (!take(c.hash)) return corrupt_page(hash, "is truncated");
        if (c.hash == empty_subtree_hash()) return corrupt_page(hash, "names an empty page root");
      } else {
        return corrupt_page(hash, "has a child of unknown kind");
      }
    }
  }
  if (at != bytes.size()) return corrupt_page(hash, "has trailing bytes");
  // Bottom-up, so a node's children in the page are hashed before it.
  for (size_t pos = StatePage::kPositions; pos-- > 1;) {
    if (!page.has(pos)) continue;
    StatePage::Node& n = page.nodes[pos];
    for (int side = 0; side < 2; ++side) {
      if (n.child[side].kind == Kind::kInPage) n.child[side].hash = page.nodes[2 * pos + side].hash;
    }
    // A canonical tree has no internal node over fewer than two leaves.
    const Kind l = n.child[0].kind, r = n.child[1].kind;
    if ((l == Kind::kEmpty && r != Kind::kInPage && r != Kind::kHash) ||
        (r == Kind::kEmpty && l != Kind::kInPage && l != Kind::kHash)) {
      return corrupt_page(hash, "holds a node over fewer than two leaves");
    }
    n.hash = state_internal_hash(n.child[0].hash, n.child[1].hash);
  }
  if (page.nodes[1].hash != hash) return corrupt_page(hash, "does not match its hash");
  return Status::ok();
}

void NodeWriteSet::grow_index(size_t extra) {
  const size_t want = 2 * (entries_.size() + extra);
  if (index_.size() >= want) return;
  size_t slots = index_.empty() ? 64 : index_.size();
  while (slots < want) slots *= 2;
  index_.assign(slots, 0);
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t slot = slot_of(entries_[i].first);
    while (index_[slot] != 0) slot = (slot + 1) & (index_.size() - 1);
    index_[slot] = static_cast<uint32_t>(i + 1);
  }
}

void NodeWriteSet::reserve(size_t n) {
  entries_.reserve(n);
  if (n > entries_.size()) grow_index(n - entries_.size());
}

void NodeWriteSet::put(const Hash32& hash, std::string bytes) {
  grow_index(1);
  size_t slot = slot_of(hash);
  for (; index_[slot] != 0; slot = (slot + 1) & (index_.size() - 1)) {
    Entry& e = entries_[index_[slot] - 1];
    if (e.first == hash) {
      e.second = std::move(bytes);
      return;
    }
  }
  entries_.emplace_back(hash, std::move(bytes));
  index_[slot] = static_cast<uint32_t>(entries_.size());
}

const std::string* NodeWriteSet::find(const Hash32& hash) const {
  if (index_.empty()) return nullptr;
  for (size_t slot = slot_of(hash); index_[slot] != 0; slot = (slot + 1) & (index_.size() - 1)) {
    const Entry& e = entries_[index_[slot] - 1];
    if (e.first == hash) return &e.second;
  }
  return nullptr;
}

void NodeWriteSet::clear() {
  entries_.clear();
  std::fill(index_.begin(), index_.end(), 0);
}

void NodeWriteSet::merge(NodeWriteSet&& other) {
  if (entries_.empty()) {
    entries_ = std::move(other.entries_);
    index_ = std::move(other.index_);
  } else {
    grow_index(other.entries_.size());
    for (Entry& e : other.entries_) {
      // Equal hashes mean equal bytes: an entry already here is kept.
      if (!find(e.first)) put(e.first, std::move(e.second));
    }
  }
  other.entries_.clear();
  other.index_.clear();
}

void NodeWriteSet::write_to(leveldb::WriteBatch& batch) const {
  // In key order: LevelDB inserts a batch into its memtable (a skip list) one
  // key at a time, each a search from the top; consecutive keys that are
  // close share most of that search path in the CPU cache, random ones miss
  // it at almost every step (the insert was 70% of a block's commit).
  std::vector<const Entry*> sorted;
  sorted.reserve(entries_.size());
  for (const Entry& entry : entries_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string key(kNodePrefix);
  key.resize(kNodePrefix.size() + 32);
  for (const auto* entry : sorted) {
    std::memcpy(key.data() + kNodePrefix.size(), entry->first.data(), 32);
    batch.Put(key, entry->second);
  }
}

void OverlayNodeReader::pop_oldest_layer() {
  if (!layers_.empty()) layers_.erase(layers_.begin());
}

Result<std::optional<std::string>> OverlayNodeReader::read_node(const Hash32& hash) const {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (const std::string* bytes = (*it)->find(hash)) return std::optional<std::string>(*bytes);
  }
  return base_.read_node(hash);
}

std::string LevelDbNodeStore::node_key(const Hash32& hash) {
  std::string key(kNodePrefix);
  key.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return key;
}

std::string LevelDbNodeStore::root_key(uint64_t version) {
  std::string key(kRootPrefix);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(version >> shift));
  return key;
}

Result<std::optional<std::string>> LevelDbNodeStore::read_node(const Hash32& hash) const {
  std::string value;
  leveldb::Status s = db_.Get(leveldb::ReadOptions(), node_key(hash), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return storage_error(s);
  return std::optional<std::string>(std::move(value));
}

void LevelDbNodeStore::put_root(leveldb::WriteBatch& batch, uint64_t version, const Hash32& root) {
  batch.Put(root_key(version),
            leveldb::Slice(reinterpret_cast<const char*>(root.data()), root.size()));
}

Result<std::optional<Hash32>> LevelDbNodeStore::read_root(uint64_t version) const {
  std::string value;
  leveldb::Status s = db_.Get(leveldb::ReadOptions(), root_key(version), &value);
  if (s.IsNotFound()) return std::optional<Hash32>();
  if (!s.ok()) return storage_error(s);
  if (value.size() != 32) {
    return Status::error("state.corrupt_node", "the state root stored for version " +
                                                   std::to_string(version) +
                                                   " is not 32 bytes; the database is damaged");
  }
  Hash32 root;
  std::memcpy(root.data(), value.data(), 32);
  return std::optional<Hash32>(root);
}

}  // namespace imi::ledger
