#include "ledger/smt_store.h"

#include <algorithm>

namespace imi::ledger {
namespace {

constexpr std::string_view kNodePrefix = "s/n/";
constexpr std::string_view kRootPrefix = "s/r/";

Status storage_error(const leveldb::Status& s) {
  return Status::error("state.storage", "reading the state tree from LevelDB failed: " +
                                            s.ToString() + "; check the data directory and disk");
}

}  // namespace

void NodeWriteSet::merge(NodeWriteSet&& other) {
  if (nodes_.empty()) {
    nodes_ = std::move(other.nodes_);
  } else {
    nodes_.merge(other.nodes_);  // equal hashes mean equal bytes: duplicates can be dropped
  }
  other.nodes_.clear();
}

void NodeWriteSet::write_to(leveldb::WriteBatch& batch) const {
  // In key order: LevelDB inserts a batch into its memtable (a skip list) one
  // key at a time, each a search from the top; consecutive keys that are
  // close share most of that search path in the CPU cache, random ones miss
  // it at almost every step (the insert was 70% of a block's commit).
  std::vector<const std::pair<const Hash32, std::string>*> sorted;
  sorted.reserve(nodes_.size());
  for (const auto& entry : nodes_) sorted.push_back(&entry);
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
