// The node's durable store: one LevelDB database holding committed blocks,
// their commit certificates, the transaction index, the results, the nodes of
// the state tree and a meta record.
//
// Atomicity: commit_block() writes a block and everything it changes in ONE
// synced WriteBatch, the head record last. LevelDB applies a batch whole or not
// at all, so after a crash at any point the store reopens at the last whole
// block: everything of that block present, nothing of a later one. A
// commit_block() that returned ok survives any crash.
//
// Key layout (heights are 8-byte big-endian so keys sort by height, positions
// 4-byte big-endian, ids raw 32 bytes):
//   "m/schema"                      -> 4-byte BE schema version (kStoreSchemaVersion)
//   "m/head"                        -> 8-byte BE height ‖ 32-byte block id (written last)
//   "b/" ‖ height                   -> block JSON (JCS of the whole block)
//   "i/" ‖ block id                 -> 8-byte BE height
//   "c/" ‖ height                   -> commit certificate JSON (JCS); none for genesis
//   "t/" ‖ tx id                    -> 8-byte BE height ‖ 4-byte BE position
//   "r/" ‖ height ‖ position        -> result JSON (JCS of {"code","events"})
//   "r/" ‖ height ‖ position           positions tx_count.. hold the results of
//                                      the deadlines the block fired, in order
//   kStatePrefix ("s/") ‖ ...       -> state-tree nodes; the state tree owns this
//                                      range and defines its keys (ledger/smt.h)
//   kIndexPrefix ("x/") ‖ app ‖ "/" ‖ key -> value bytes (JCS): the ordered
//                                      index of the committed values of indexed
//                                      namespaces (ledger/app.h "Queries"),
//                                      written in the block's batch, so it is
//                                      always at the head block's state
// No other prefix is used; a new one needs a schema version bump.
//
// Thread-safety: all reads may run concurrently with each other and with one
// commit_block(); commit_block() calls are serialised internally.
#pragma once

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::ledger {

// 2: the state tree stores its internal nodes in pages (ledger/smt_store.h,
// issue 2). 3: the ordered index "x/" and deadline results (issue 17). A
// store of version 2 opens only with StoreOptions::accept_schema_2 (what
// `imid reindex` does: it builds the index, then calls
// write_current_schema()); otherwise it is refused with store.schema saying
// so. Any other version is refused, never misread.
constexpr uint32_t kStoreSchemaVersion = 3;
// Key prefix reserved for the state tree's nodes.
constexpr std::string_view kStatePrefix = "s/";
// Key prefix of the ordered index of committed values.
constexpr std::string_view kIndexPrefix = "x/";

// One change to the ordered index: value bytes, or nullopt to delete.
struct IndexWrite {
  std::string app, key;
  std::optional<std::string> value;
};

struct StoreOptions {
  // File-access seam (ledger/db_env.h). nullptr: leveldb::Env::Default().
  // Not owned; must outlive the Store.
  leveldb::Env* env = nullptr;
  // Create an empty store if none exists at the path (default: yes).
  bool create_if_missing = true;
  // LevelDB memtable size. A block of 1,000 transactions writes about 3.4 MB
  // (7,000 entries, most of them state-tree pages) and LevelDB inserts each
  // entry into the memtable's skip list, one search from the top: the bigger
  // the memtable, the more of that search misses the CPU cache. ledger_bench
  // (1M keys, 1,000-tx blocks, CPU of the committing thread, median of 30):
  // 4 MiB 16.8 ms, 8 MiB 20.0 ms, 16 MiB 21.6 ms, 32 MiB 22-23 ms, with the
  // process's total CPU (flushes and compactions included) no higher.
  size_t write_buffer_bytes = 4 << 20;
  // LevelDB block cache for reads. (LevelDB maps table files into memory on
  // 64-bit systems and then reads their blocks from the mapping, not this
  // cache.)
  size_t block_cache_bytes = 32 << 20;
  // LevelDB table block size and table file size (LevelDB's defaults).
  size_t block_bytes = 4 << 10;
  size_t max_file_bytes = 2 << 20;
  // Table files LevelDB keeps open, each with its index and Bloom filter in
  // memory (about 50 KB per 2 MiB file). LevelDB's default of 1,000 covers a
  // 2 GB store: past that, reads reopen and re-parse tables (a 1M-key state
  // with 1,155 files took 192 ms to apply a block instead of 45). Capped at
  // open to the process's open-file limit (RLIMIT_NOFILE) less 256 for
  // sockets and other files; imid raises its soft limit to the hard one.
  int max_open_files = 20000;
  // Open a schema 2 store as it is (no index yet) so ledger/reindex can
  // build its index and then write_current_schema().
  bool accept_schema_2 = false;
  // Snappy compression of tables. Off: most bytes are SHA-256 hashes, which
  // do not compress, and compressing costs CPU on every compaction.
  bool compress = false;
};

// The last committed block.
struct StoreHead {
  uint64_t height = 0;
  Hash32 block_id{};
};

// Where a transaction sits in the chain.
struct TxLocation {
  uint64_t height = 0;
  uint32_t position = 0;  // index in the block's transaction list
};

// Everything one block changes, already encoded. The store does not parse the
// JSON: the executor builds this from the records (ledger/executor.h).
struct BlockCommit {
  uint64_t height = 0;
  Hash32 block_id{};
  std::string block_json;                // JCS of the block
  std::string cert_json;                 // JCS of its commit certificate; empty only at height 0
  std::vector<Hash32> tx_ids;            // in block order
  // One per transaction, same order, then one per fired deadline.
  std::vector<std::string> result_json;
  // The block's net changes to indexed namespaces.
  std::vector<IndexWrite> index_writes;
  // State-tree nodes to persist; every key must start with kStatePrefix.
  leveldb::WriteBatch state_writes;
  // false: written without waiting for the disk (block sync applying a run
  // of certified blocks it can fetch again). The batch is still all or
  // nothing; a crash may lose the unsynced tail of blocks, never half of one,
  // and the next synced write makes every earlier one durable.
  bool sync = true;
};

class Store {
 public:
  // Opens (or creates) the store at `path` and recovers to the last whole
  // block. Errors: store.io (LevelDB could not open the directory, e.g. it is
  // locked by another process), store.corrupt (the head names a block that is
  // missing or differs, or a block exists above the head), store.schema (the
  // store was written by another schema version: a newer one needs a newer
  // node, an older one a resync into an empty data directory).
  static Result<std::unique_ptr<Store>> open(const std::string& path,
                                             const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The last committed block, or nullopt for an empty store (no genesis yet).
  std::optional<StoreHead> head() const;

  // Writes `commit` in one synced batch and makes it the head. Errors:
  // store.height (not head+1, or not 0 on an empty store), store.bad_commit
  // (missing certificate above height 0, results not one per transaction, or
  // a state write outside kStatePrefix), store.duplicate_tx (a transaction id
  // twice in the block; across blocks the nonce rule already excludes replays,
  // so the index is not read here), store.io (the write or sync
  // failed: the block may or may not be durable; stop and reopen the store,
  // which then tells the truth; after a failed write this Store refuses
  // further commits with store.failed).
  // The rvalue form writes `commit.state_writes` itself, with the block's own
  // records appended, instead of a copy: a caller that keeps one BlockCommit
  // and Clear()s its batch for the next block reuses the buffer (megabytes
  // a block, otherwise regrown and faulted in every time). Afterwards the
  // batch holds what was written.
  Status commit_block(BlockCommit&& commit);
  Status commit_block(const BlockCommit& commit) {
    BlockCommit copy = commit;
    return commit_block(std::move(copy));
  }

  // Rebuilding the index (ledger/reindex.h) outside commits: deletes the
  // whole "x/" range, or applies `writes` in one synced batch. store.io on
  // failure. Only for an offline store (no commits running).
  Status clear_index();
  // Records kStoreSchemaVersion (after a rebuilt index made a schema 2 store
  // whole). store.io on failure.
  Status write_current_schema();
  Status apply_index(const std::vector<IndexWrite>& writes);

  // True after a commit written with sync = false, until a synced commit or
  // sync(): the newest blocks may still be lost to a power cut.
  bool unsynced() const {
    std::lock_guard<std::mutex> lock(mu_);
    return unsynced_;
  }
  // Makes every commit so far durable (an empty synced write); nothing to do
  // when unsynced() is false. Call before writing anything elsewhere that
  // speaks of those blocks (the node's consensus state). Errors: store.io
  // (then, as after a failed commit, this Store refuses further commits).
  Status sync();

  // Reads. Each returns store.not_found if absent and store.io on a read error.
  Result<std::string> block_json(uint64_t height) const;
  Result<std::string> block_json_by_id(const Hash32& block_id) const;
  Result<uint64_t> height_of(const Hash32& block_id) const;
  Result<std::string> cert_json(uint64_t height) const;
  Result<TxLocation> tx_location(const Hash32& tx_id) const;
  Result<std::string> result_json(uint64_t height, uint32_t position) const;
  // The ordered index at the head: up to `limit` (key, value) of namespace
  // `app` whose key starts with `prefix` and sorts after `start_after`.
  Result<std::vector<std::pair<std::string, std::string>>> scan_index(
      std::string_view app, std::string_view prefix, std::string_view start_after,
      size_t limit) const;

  // The database, for the state tree's reads of its own nodes (kStatePrefix).
  // Writes go only through commit_block().
  leveldb::DB* db() const { return db_.get(); }

  // Key encodings (exposed for tests and tools that inspect a store).
  static std::string block_key(uint64_t height);
  static std::string block_id_key(const Hash32& id);
  static std::string cert_key(uint64_t height);
  static std::string tx_key(const Hash32& tx_id);
  static std::string result_key(uint64_t height, uint32_t position);
  static std::string index_key(std::string_view app, std::string_view key);

 private:
  Store(std::unique_ptr<leveldb::Env> env, std::unique_ptr<leveldb::DB> db,
        std::unique_ptr<leveldb::Cache> cache, std::unique_ptr<const leveldb::FilterPolicy> filter);
  Status recover();
  Result<std::string> get(const std::string& key) const;

  // Constant after construction. Env, cache and filter must outlive the db
  // (declared first, so destroyed last).
  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;

  bool accept_schema_2_ = false;  // set once at open

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::optional<StoreHead> head_;
  bool failed_ = false;    // a write failed: refuse further commits
  bool unsynced_ = false;  // see unsynced()
};

}  // namespace imi::ledger
