// Sparse Merkle state tree and RFC 6962 Merkle root figures (issue 2):
//   - a state of N keys (default 1,000,000) built in LevelDB in a temp dir,
//     persisted in batches;
//   - applying a block of 1,000 transactions that each write 2 keys (2,000
//     writes: half existing keys, half new) to the new root, on one core,
//     with a warm cache and after a reopen with a cold one; target <= 50 ms;
//   - a synced commit of that block's new nodes;
//   - merkle_root over 1,000 32-byte leaves (a block's txs_root).
// Usage: smt_bench [keys] [blocks] [tree cache MiB]
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "ledger/merkle.h"
#include "ledger/smt.h"

using namespace imi;
using namespace imi::ledger;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// CPU time of this thread: the one-core figure even when other processes
// share the machine's cores (wall time is printed too).
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

std::string value_of(uint64_t n) { return R"({"balance":)" + std::to_string(n) + "}"; }

struct Db {
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB> db;
};

Db open_db(const std::string& dir) {
  Db d;
  d.cache.reset(leveldb::NewLRUCache(64u << 20));
  d.filter.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options o;
  o.create_if_missing = true;
  o.block_cache = d.cache.get();
  o.filter_policy = d.filter.get();
  o.write_buffer_size = 32u << 20;
  o.max_file_size = 16u << 20;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), s.ToString().c_str());
    std::exit(1);
  }
  d.db.reset(raw);
  return d;
}

double commit(leveldb::DB& db, const NodeWriteSet& nodes, uint64_t version, const Hash32& root,
              bool sync) {
  auto t = Clock::now();
  leveldb::WriteBatch batch;
  nodes.write_to(batch);
  LevelDbNodeStore::put_root(batch, version, root);
  leveldb::WriteOptions wo;
  wo.sync = sync;
  leveldb::Status s = db.Write(wo, &batch);
  if (!s.ok()) {
    std::fprintf(stderr, "write failed: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  return ms_since(t);
}

// One block: 1,000 transactions x 2 writes; one write to an existing key and
// one to a new key each.
std::vector<StateWrite> make_block(std::mt19937_64& rng, uint64_t& next_key) {
  std::vector<StateWrite> w;
  w.reserve(2000);
  for (int i = 0; i < 1000; ++i) {
    w.push_back({"bench", "acct/" + std::to_string(rng() % next_key), value_of(rng())});
    w.push_back({"bench", "acct/" + std::to_string(next_key++), value_of(rng())});
  }
  return w;
}

// Counts the node reads that miss the tree's cache and go to LevelDB.
class CountingReader : public NodeReader {
 public:
  explicit CountingReader(const NodeReader& base) : base_(base) {}
  Result<std::optional<std::string>> read_node(const Hash32& hash) const override {
    ++reads;
    return base_.read_node(hash);
  }
  mutable size_t reads = 0;

 private:
  const NodeReader& base_;
};

struct Stats {
  std::vector<double> ms;
  void print(const char* what) {
    std::sort(ms.begin(), ms.end());
    std::printf("%-48s median %7.2f ms  min %7.2f  max %7.2f  (%zu blocks)\n", what,
                ms[ms.size() / 2], ms.front(), ms.back(), ms.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  const uint64_t keys = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int blocks = std::max(1, argc > 2 ? std::atoi(argv[2]) : 10);
  StateTreeOptions tree_options;
  if (argc > 3) tree_options.cache_bytes = std::strtoull(argv[3], nullptr, 10) << 20;
  std::printf("keys %llu, blocks %d, interior-node cache limit %zu MiB\n",
              static_cast<unsigned long long>(keys), blocks, tree_options.cache_bytes >> 20);
  auto dir = std::filesystem::temp_directory_path() /
             ("imi_smt_bench_" + std::to_string(std::random_device{}()));
  std::filesystem::remove_all(dir);
  std::mt19937_64 rng(42);
  uint64_t next_key = 0;
  uint64_t version = 0;
  Hash32 root{};

  // -- merkle_root over 1,000 transaction ids.
  {
    std::vector<Hash32> ids(1000);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = sha256(std::to_string(i));
    const int reps = 2000;
    Hash32 sink{};
    auto t = Clock::now();
    double c = thread_cpu_ms();
    for (int r = 0; r < reps; ++r) sink[r % 32] ^= merkle_root(ids)[0];
    std::printf("merkle_root, 1,000 leaves: %.1f us wall, %.1f us CPU (%d reps, sink %02x)\n",
                ms_since(t) * 1000 / reps, (thread_cpu_ms() - c) * 1000 / reps, reps, sink[0]);
  }

  // -- Build the state.
  {
    Db d = open_db(dir.string());
    LevelDbNodeStore leveldb_store(*d.db);
    CountingReader store(leveldb_store);
    StateTree tree(store, tree_options);
    const uint64_t batch_keys = 250000;
    auto t = Clock::now();
    size_t nodes = 0;
    while (next_key < keys) {
      std::vector<StateWrite> w;
      uint64_t end = std::min(keys, next_key + batch_keys);
      for (; next_key < end; ++next_key)
        w.push_back({"bench", "acct/" + std::to_string(next_key), value_of(next_key)});
      NodeWriteSet out;
      root = *tree.update(root, w, out);
      nodes += out.size();
      commit(*d.db, out, ++version, root, false);
    }
    d.db->CompactRange(nullptr, nullptr);
    std::fflush(stdout);
    std::printf("built %llu keys in %.1f s (%zu nodes written, versions 1..%llu)\n",
                static_cast<unsigned long long>(keys), ms_since(t) / 1000, nodes,
                static_cast<unsigned long long>(version));

    // -- Blocks with the cache warmed by building the state.
    Stats update, update_cpu, sync_commit;
    size_t new_nodes = 0;
    store.reads = 0;
    for (int b = 0; b < blocks; ++b) {
      auto w = make_block(rng, next_key);
      NodeWriteSet out;
      auto t0 = Clock::now();
      double c0 = thread_cpu_ms();
      auto r = tree.update(root, w, out);
      update_cpu.ms.push_back(thread_cpu_ms() - c0);
      update.ms.push_back(ms_since(t0));
      if (!r) {
        std::fprintf(stderr, "%s\n", r.status().to_string().c_str());
        return 1;
      }
      root = *r;
      new_nodes += out.size();
      sync_commit.ms.push_back(commit(*d.db, out, ++version, root, true));
    }
    std::printf("interior-node cache: %.1f MiB\n", tree.cached_bytes() / 1048576.0);
    std::printf("new nodes per block: %zu, LevelDB node reads per block: %zu\n", new_nodes / blocks,
                store.reads / blocks);
    update.print("block of 2,000 writes -> new root (warm cache)");
    update_cpu.print("  the same, thread CPU time");
    sync_commit.print("synced commit of the block's nodes");
  }

  // -- Reopen: empty tree cache, empty LevelDB block cache.
  {
    Db d = open_db(dir.string());
    LevelDbNodeStore store(*d.db);
    StateTree tree(store, tree_options);
    Stats first, later, first_cpu, later_cpu;
    for (int b = 0; b < blocks; ++b) {
      auto w = make_block(rng, next_key);
      NodeWriteSet out;
      auto t0 = Clock::now();
      double c0 = thread_cpu_ms();
      auto r = tree.update(root, w, out);
      (b == 0 ? first : later).ms.push_back(ms_since(t0));
      (b == 0 ? first_cpu : later_cpu).ms.push_back(thread_cpu_ms() - c0);
      if (!r) {
        std::fprintf(stderr, "%s\n", r.status().to_string().c_str());
        return 1;
      }
      root = *r;
      commit(*d.db, out, ++version, root, true);
    }
    first.print("after reopen: first block (cold caches)");
    first_cpu.print("  the same, thread CPU time");
    if (!later.ms.empty()) {
      later.print("after reopen: following blocks");
      later_cpu.print("  the same, thread CPU time");
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
