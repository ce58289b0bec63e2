#include "ledger/store.h"

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <cassert>
#include <memory>

namespace imi::ledger {
namespace {

const std::string kSchemaKey = "m/schema";
const std::string kHeadKey = "m/head";

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::string_view in, size_t offset, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[offset + i]);
  return v;
}

std::string with_hash(std::string_view prefix, const Hash32& h) {
  std::string k(prefix);
  k.append(reinterpret_cast<const char*>(h.data()), h.size());
  return k;
}

leveldb::Slice slice(const std::string& s) { return leveldb::Slice(s.data(), s.size()); }

Status io_error(const leveldb::Status& s, std::string_view what) {
  return Status::error("store.io", std::string(what) + ": " + s.ToString() +
                                       " (check the disk; reopen the store to recover)");
}

std::string encode_head(const StoreHead& h) {
  std::string v;
  put_be(v, h.height, 8);
  v.append(reinterpret_cast<const char*>(h.block_id.data()), h.block_id.size());
  return v;
}

// Checks that every key of a WriteBatch lies in the state tree's range.
class PrefixChecker : public leveldb::WriteBatch::Handler {
 public:
  void Put(const leveldb::Slice& key, const leveldb::Slice&) override { check(key); }
  void Delete(const leveldb::Slice& key) override { check(key); }
  bool ok = true;

 private:
  void check(const leveldb::Slice& key) {
    if (!key.starts_with(leveldb::Slice(kStatePrefix.data(), kStatePrefix.size()))) ok = false;
  }
};

// Names LevelDB's one background thread (memtable flushes and compactions)
// "leveldb-bg". Unnamed, it inherits the name of the thread that first
// writes, the loop thread, and `top -H` or a profile adds its work to the
// loop's: a bench profile read 53% "imid-loop" of which 22% was compaction.
// A write-ahead log that is synced as LevelDB closes it. LevelDB (1.23)
// closes the log it leaves at a memtable switch without syncing it; a later
// synced write then covers only the new log, and a power cut before the old
// memtable reaches a table could keep later blocks and lose earlier ones.
// One extra sync per memtable (megabytes), none per write.
class SyncOnCloseFile : public leveldb::WritableFile {
 public:
  explicit SyncOnCloseFile(leveldb::WritableFile* target) : target_(target) {}
  // LevelDB deletes a log it switches away from (and the current one at
  // shutdown) without calling Close(): the sync happens here too.
  ~SyncOnCloseFile() override {
    if (!closed_) (void)target_->Sync();
  }
  leveldb::Status Append(const leveldb::Slice& data) override { return target_->Append(data); }
  leveldb::Status Close() override {
    closed_ = true;
    leveldb::Status s = target_->Sync();
    leveldb::Status c = target_->Close();
    return s.ok() ? c : s;
  }
  leveldb::Status Flush() override { return target_->Flush(); }
  leveldb::Status Sync() override { return target_->Sync(); }

 private:
  const std::unique_ptr<leveldb::WritableFile> target_;
  bool closed_ = false;
};

bool is_write_ahead_log(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

// The env every store opens LevelDB with, over the caller's (or the default)
// env: logs synced on close (above), and LevelDB's background thread named
// leveldb-bg, so that `top -H` and perf tell its flushes and compactions
// from the consensus loop.
class StoreEnv : public leveldb::EnvWrapper {
 public:
  explicit StoreEnv(leveldb::Env* base) : EnvWrapper(base) {}
  void Schedule(void (*fn)(void*), void* arg) override {
    target()->Schedule(&run, new Job{fn, arg});
  }
  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(fname, result);
    if (s.ok() && is_write_ahead_log(fname)) *result = new SyncOnCloseFile(*result);
    return s;
  }
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewAppendableFile(fname, result);
    if (s.ok() && is_write_ahead_log(fname)) *result = new SyncOnCloseFile(*result);
    return s;
  }

 private:
  struct Job {
    void (*fn)(void*);
    void* arg;
  };
  static void run(void* p) {
    std::unique_ptr<Job> job(static_cast<Job*>(p));
    thread_local bool named = false;
    if (!named) {
      named = true;
      pthread_setname_np(pthread_self(), "leveldb-bg");
    }
    job->fn(job->arg);
  }
};

}  // namespace

std::string Store::block_key(uint64_t height) {
  std::string k = "b/";
  put_be(k, height, 8);
  return k;
}
std::string Store::block_id_key(const Hash32& id) { return with_hash("i/", id); }
std::string Store::cert_key(uint64_t height) {
  std::string k = "c/";
  put_be(k, height, 8);
  return k;
}
std::string Store::tx_key(const Hash32& tx_id) { return with_hash("t/", tx_id); }
std::string Store::result_key(uint64_t height, uint32_t position) {
  std::string k = "r/";
  put_be(k, height, 8);
  put_be(k, position, 4);
  return k;
}

Store::Store(std::unique_ptr<leveldb::Env> env, std::unique_ptr<leveldb::DB> db,
             std::unique_ptr<leveldb::Cache> cache,
             std::unique_ptr<const leveldb::FilterPolicy> filter)
    : env_(std::move(env)),
      cache_(std::move(cache)),
      filter_(std::move(filter)),
      db_(std::move(db)) {}

Store::~Store() {
  // LevelDB deletes its current log without syncing it: blocks written
  // unsynced go to disk now (a node stopping mid-sync keeps them).
  (void)sync();
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const StoreOptions& options) {
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(options.block_cache_bytes));
  std::unique_ptr<const leveldb::FilterPolicy> filter(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options lo;
  auto env =
      std::make_unique<StoreEnv>(options.env != nullptr ? options.env : leveldb::Env::Default());
  lo.env = env.get();
  lo.create_if_missing = options.create_if_missing;
  lo.write_buffer_size = options.write_buffer_bytes;
  lo.block_cache = cache.get();
  lo.filter_policy = filter.get();
  lo.block_size = options.block_bytes;
  lo.max_file_size = options.max_file_bytes;
  lo.max_open_files = options.max_open_files;
  if (struct rlimit rl; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const auto room = static_cast<int64_t>(rl.rlim_cur) - 256;
    lo.max_open_files =
        static_cast<int>(std::min<int64_t>(lo.max_open_files, std::max<int64_t>(room, 64)));
  }
  lo.compression = options.compress ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(lo, path, &raw);
  if (!s.ok()) return io_error(s, "cannot open store at " + path);
  std::unique_ptr<Store> store(new Store(std::move(env), std::unique_ptr<leveldb::DB>(raw),
                                         std::move(cache), std::move(filter)));
  store->accept_schema_2_ = options.accept_schema_2;
  if (Status r = store->recover(); !r.is_ok()) return r;
  return store;
}

Status Store::recover() {
  auto schema = get(kSchemaKey);
  if (!schema.is_ok() && schema.status().code() != "store.not_found") return schema.status();
  auto head = get(kHeadKey);
  if (!head.is_ok() && head.status().code() != "store.not_found") return head.status();

  if (schema.is_ok()) {
    if (schema->size() != 4) return Status::error("store.corrupt", "schema record is malformed");
    uint32_t version = static_cast<uint32_t>(get_be(*schema, 0, 4));
    if (version > kStoreSchemaVersion) {
      return Status::error("store.schema", "store schema version " + std::to_string(version) +
                                               " is newer than this node's " +
                                               std::to_string(kStoreSchemaVersion) +
                                               ": upgrade the node");
    }
    if (version == 2 && !accept_schema_2_) {
      return Status::error("store.schema",
                           "store schema version 2 has no index for app queries and deadlines; "
                           "stop the node and run `imid reindex --home DIR` once to build it");
    }
    if (version == 2) version = kStoreSchemaVersion;  // reindex converts it
    if (version < kStoreSchemaVersion) {
      return Status::error("store.schema", "store schema version " + std::to_string(version) +
                                               " is older than this node's " +
                                               std::to_string(kStoreSchemaVersion) +
                                               " and is not converted: resync the node into an "
                                               "empty data directory");
    }
  } else if (head.is_ok()) {
    return Status::error("store.corrupt", "head record without a schema record");
  }

  std::optional<StoreHead> recovered;
  if (head.is_ok()) {
    if (head->size() != 8 + 32) return Status::error("store.corrupt", "head record is malformed");
    StoreHead h;
    h.height = get_be(*head, 0, 8);
    std::copy(head->begin() + 8, head->end(), reinterpret_cast<char*>(h.block_id.data()));
    // The head is written in the same batch as its block; both or neither exist.
    auto at = get(block_id_key(h.block_id));
    if (!at.is_ok() || at->size() != 8 || get_be(*at, 0, 8) != h.height) {
      return Status::error("store.corrupt", "head names block at height " +
                                                std::to_string(h.height) +
                                                " whose id index is missing or differs");
    }
    if (auto b = get(block_key(h.height)); !b.is_ok()) {
      return Status::error("store.corrupt",
                           "head block " + std::to_string(h.height) + " is missing");
    }
    recovered = h;
  }
  // Nothing may exist above the head (a block is never written without it).
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  std::string probe = recovered ? block_key(recovered->height + 1) : block_key(0);
  it->Seek(probe);
  if (it->Valid() && it->key().starts_with("b/")) {
    return Status::error("store.corrupt", "a block exists above the head record");
  }
  if (!it->status().ok()) return io_error(it->status(), "scanning blocks");

  std::lock_guard<std::mutex> lock(mu_);
  head_ = recovered;
  return Status::ok();
}

std::optional<StoreHead> Store::head() const {
  std::lock_guard<std::mutex> lock(mu_);
  return head_;
}

Status Store::commit_block(BlockCommit&& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) {
    return Status::error("store.failed",
                         "an earlier write failed; reopen the store before committing again");
  }
  uint64_t expected = head_ ? head_->height + 1 : 0;
  if (c.height != expected) {
    return Status::error("store.height", "cannot commit height " + std::to_string(c.height) +
                                             ": the next height is " + std::to_string(expected));
  }
  if (c.block_json.empty()) return Status::error("store.bad_commit", "block JSON is empty");
  if (c.cert_json.empty() && c.height != 0) {
    return Status::error("store.bad_commit", "a block above genesis needs its commit certificate");
  }
  if (c.result_json.size() < c.tx_ids.size()) {
    return Status::error("store.bad_commit", "need one result per transaction");
  }
  if (c.result_json.size() > UINT32_MAX)
    return Status::error("store.bad_commit", "too many transactions");
  {
    std::vector<Hash32> sorted = c.tx_ids;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return Status::error("store.duplicate_tx", "a transaction appears twice in the block");
    }
  }
  PrefixChecker checker;
  if (!c.state_writes.Iterate(&checker).ok() || !checker.ok) {
    return Status::error("store.bad_commit", "state writes must stay under the state prefix");
  }

  // The state writes (often megabytes) are the batch the block's own
  // records join, not copied into another one (leveldb::WriteBatch has no
  // move: std::move would copy).
  leveldb::WriteBatch& batch = c.state_writes;
  if (!head_) {
    std::string v;
    put_be(v, kStoreSchemaVersion, 4);
    batch.Put(kSchemaKey, v);
  }
  batch.Put(block_key(c.height), c.block_json);
  std::string h8;
  put_be(h8, c.height, 8);
  batch.Put(block_id_key(c.block_id), h8);
  if (!c.cert_json.empty()) batch.Put(cert_key(c.height), c.cert_json);
  for (size_t i = 0; i < c.tx_ids.size(); ++i) {
    std::string loc = h8;
    put_be(loc, i, 4);
    batch.Put(tx_key(c.tx_ids[i]), loc);
    batch.Put(result_key(c.height, static_cast<uint32_t>(i)), c.result_json[i]);
  }
  for (size_t i = c.tx_ids.size(); i < c.result_json.size(); ++i)
    batch.Put(result_key(c.height, static_cast<uint32_t>(i)), c.result_json[i]);
  for (const IndexWrite& w : c.index_writes) {
    if (w.value)
      batch.Put(index_key(w.app, w.key), *w.value);
    else
      batch.Delete(index_key(w.app, w.key));
  }
  StoreHead next{c.height, c.block_id};
  batch.Put(kHeadKey, encode_head(next));  // last: the record that says the block is whole

  leveldb::WriteOptions wo;
  wo.sync = c.sync;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) {
    failed_ = true;
    return io_error(s, "committing block " + std::to_string(c.height));
  }
  head_ = next;
  unsynced_ = !c.sync;
  return Status::ok();
}

Status Store::sync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!unsynced_) return Status::ok();
  if (failed_) return Status::error("store.failed", "an earlier write failed; reopen the store");
  leveldb::WriteBatch empty;
  leveldb::WriteOptions wo;
  wo.sync = true;
  leveldb::Status s = db_->Write(wo, &empty);
  if (!s.ok()) {
    failed_ = true;
    return io_error(s, "syncing the blocks written unsynced");
  }
  unsynced_ = false;
  return Status::ok();
}

Result<std::string> Store::get(const std::string& key) const {
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), slice(key), &value);
  if (s.IsNotFound()) return Status::error("store.not_found", "no such record");
  if (!s.ok()) return io_error(s, "reading the store");
  return value;
}

Result<std::string> Store::block_json(uint64_t height) const {
  auto r = get(block_key(height));
  if (!r.is_ok() && r.status().code() == "store.not_found") {
    return Status::error("store.not_found", "no block at height " + std::to_string(height));
  }
  return r;
}

Result<uint64_t> Store::height_of(const Hash32& block_id) const {
  auto r = get(block_id_key(block_id));
  if (!r.is_ok()) {
    if (r.status().code() == "store.not_found") {
      return Status::error("store.not_found", "no committed block with id " + to_hex(block_id));
    }
    return r.status();
  }
  if (r->size() != 8) return Status::error("store.corrupt", "block id index entry is malformed");
  return get_be(*r, 0, 8);
}

Result<std::string> Store::block_json_by_id(const Hash32& block_id) const {
  auto h = height_of(block_id);
  if (!h.is_ok()) return h.status();
  return block_json(*h);
}

Result<std::string> Store::cert_json(uint64_t height) const {
  auto r = get(cert_key(height));
  if (!r.is_ok() && r.status().code() == "store.not_found") {
    return Status::error("store.not_found",
                         "no commit certificate at height " + std::to_string(height));
  }
  return r;
}

Result<TxLocation> Store::tx_location(const Hash32& tx_id) const {
  auto r = get(tx_key(tx_id));
  if (!r.is_ok()) {
    if (r.status().code() == "store.not_found") {
      return Status::error("store.not_found", "no committed transaction " + to_hex(tx_id));
    }
    return r.status();
  }
  if (r->size() != 12)
    return Status::error("store.corrupt", "transaction index entry is malformed");
  return TxLocation{get_be(*r, 0, 8), static_cast<uint32_t>(get_be(*r, 8, 4))};
}

Status Store::write_current_schema() {
  std::string v;
  put_be(v, kStoreSchemaVersion, 4);
  leveldb::WriteOptions wo;
  wo.sync = true;
  if (leveldb::Status s = db_->Put(wo, kSchemaKey, v); !s.ok())
    return io_error(s, "writing the schema version");
  return Status::ok();
}

Status Store::clear_index() {
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string prefix(kIndexPrefix);
  leveldb::WriteBatch batch;
  size_t n = 0;
  leveldb::WriteOptions wo;
  wo.sync = true;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    batch.Delete(it->key());
    if (++n % 10000 == 0) {
      if (leveldb::Status s = db_->Write(wo, &batch); !s.ok()) return io_error(s, "clearing the index");
      batch.Clear();
    }
  }
  if (!it->status().ok()) return io_error(it->status(), "scanning the index");
  if (leveldb::Status s = db_->Write(wo, &batch); !s.ok()) return io_error(s, "clearing the index");
  return Status::ok();
}

Status Store::apply_index(const std::vector<IndexWrite>& writes) {
  leveldb::WriteBatch batch;
  for (const IndexWrite& w : writes) {
    if (w.value)
      batch.Put(index_key(w.app, w.key), *w.value);
    else
      batch.Delete(index_key(w.app, w.key));
  }
  leveldb::WriteOptions wo;
  wo.sync = true;
  if (leveldb::Status s = db_->Write(wo, &batch); !s.ok()) return io_error(s, "writing the index");
  return Status::ok();
}

std::string Store::index_key(std::string_view app, std::string_view key) {
  std::string k(kIndexPrefix);
  k.append(app);
  k.push_back('/');
  k.append(key);
  return k;
}

Result<std::vector<std::pair<std::string, std::string>>> Store::scan_index(
    std::string_view app, std::string_view prefix, std::string_view start_after,
    size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string ns = index_key(app, "");
  const std::string from = ns + std::string(prefix);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  if (start_after.empty() || start_after < prefix) {
    it->Seek(from);
  } else {
    it->Seek(ns + std::string(start_after));
    if (it->Valid() && it->key() == leveldb::Slice(ns + std::string(start_after))) it->Next();
  }
  for (; it->Valid() && out.size() < limit; it->Next()) {
    leveldb::Slice k = it->key();
    if (!k.starts_with(from)) break;
    out.emplace_back(std::string(k.data() + ns.size(), k.size() - ns.size()),
                     it->value().ToString());
  }
  if (!it->status().ok()) return io_error(it->status(), "scanning the index of " + std::string(app));
  return out;
}

Result<std::string> Store::result_json(uint64_t height, uint32_t position) const {
  auto r = get(result_key(height, position));
  if (!r.is_ok() && r.status().code() == "store.not_found") {
    return Status::error("store.not_found", "no result at height " + std::to_string(height) +
                                                " position " + std::to_string(position));
  }
  return r;
}

}  // namespace imi::ledger
