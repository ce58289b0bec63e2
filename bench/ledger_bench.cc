// The ledger figures of issue 2's closing note, in one program:
//   1. Ed25519 verifications per second, and transactions decoded + verified
//      per second, on one core;
//   2. applying a block of 1,000 transactions x 2 written keys (1,000 existing
//      keys overwritten, 1,000 new) on a state of N keys (default 1,000,000)
//      to the new root (StateTree::update), target <= 50 ms on one core; and
//      executing a 1,000-tx anchor block (2 keys each: the sender's account
//      and the anchor record) through the Executor on that state;
//   3. a synced commit of that block (~300-byte transactions) with its
//      results, index entries and state-tree nodes (Executor::commit),
//      target <= 20 ms.
// The machine is shared, so every figure is given as CPU time of the thread
// (CLOCK_THREAD_CPUTIME_ID) beside wall time; a synced commit also waits for
// the disk, which only wall time shows.
//
// The N-key state is built once in a Store under --dir (default
// /tmp/imi-ledger-bench-<N>) and reused by later runs; blocks are applied on
// the built root, so every run measures the same blocks.
//
// Usage: ledger_bench [--keys N] [--blocks B] [--dir D] [--seconds S]
//                     [--cache-mib M] [--compact] [--profile update|execute|commit]
// --compact compacts the whole store first (runs leave level-0 files behind).
// --cache-mib sets the state tree's node cache (default 64, imid's [storage]
// state_cache_mib; a 1M-key tree's nodes take about 400 MiB: with 64 a block
// reads ~3,100 nodes from LevelDB, with 512 ~300); each tree is warmed first (StateTree::warm, top
// levels first, up to 90% of the cache), as a node does at start.
// --profile runs only that step (no crypto figures) with callgrind's
// collection switched on around it:
//   valgrind --tool=callgrind --collect-atstart=no ledger_bench --keys 50000
//            --blocks 2 --profile update
#include <time.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "apps/anchor.h"
#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/executor.h"
#include "ledger/json.h"

using namespace imi;
using namespace imi::ledger;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTxs = 1000;
constexpr const char* kChain = "bench";
constexpr int kFormat = 3;  // bump when the state's on-disk form changes (3: pages)

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = thread_cpu_ms();
  double wall_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - wall).count();
  }
  double cpu_ms() const { return thread_cpu_ms() - cpu; }
};

struct Stats {
  std::vector<double> cpu, wall;
  void add(const Timer& t) {
    cpu.push_back(t.cpu_ms());
    wall.push_back(t.wall_ms());
  }
  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  void print(const char* what) const {
    auto [cmin, cmax] = std::minmax_element(cpu.begin(), cpu.end());
    std::printf("%-52s CPU median %7.2f ms (min %.2f, max %.2f)  wall median %7.2f ms  n=%zu\n",
                what, median(cpu), *cmin, *cmax, median(wall), cpu.size());
  }
};

[[noreturn]] void die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.to_string().c_str());
  std::exit(1);
}

template <typename T>
T take(Result<T> r, const std::string& what) {
  if (!r) die(what, r.status());
  return std::move(r).value();
}

identity::KeyPair key_of(uint64_t n, uint8_t kind) {
  identity::Seed s{};
  std::memcpy(s.data(), &n, sizeof n);
  s[31] = kind;
  return identity::KeyPair::from_seed(s);
}

std::string value_of(uint64_t n) { return R"({"balance":)" + std::to_string(n) + "}"; }
std::string state_key(uint64_t n) { return "acct/" + std::to_string(n); }

// Signed anchor transactions of block `b`: fresh senders (nonce 0), ~300 bytes.
std::vector<Transaction> anchor_txs(int b) {
  std::vector<Transaction> txs;
  txs.reserve(kTxs);
  for (int i = 0; i < kTxs; ++i) {
    auto k = key_of(uint64_t(b) * kTxs + i, 1);
    std::string hash = to_hex(sha256("doc " + std::to_string(b) + "/" + std::to_string(i)));
    auto args = take(parse_strict(R"({"hash":")" + hash + R"("})"), "args");
    txs.push_back(take(make_transaction(k, kChain, 0, "anchor", "anchor", args), "sign"));
  }
  return txs;
}

struct Options {
  uint64_t keys = 1000000;
  int blocks = 10;
  std::string dir;
  double seconds = 1.0;
  std::string profile;    // "", "update", "execute", "commit"
  size_t cache_mib = 64;  // imid's [storage] state_cache_mib default
  bool compact = false;   // compact the whole store before measuring
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--keys") {
      o.keys = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--blocks") {
      o.blocks = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--dir") {
      o.dir = next();
    } else if (a == "--seconds") {
      o.seconds = std::atof(next().c_str());
    } else if (a == "--cache-mib") {
      o.cache_mib = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--profile") {
      o.profile = next();
    } else if (a == "--compact") {
      o.compact = true;
    } else {
      std::fprintf(stderr,
                   "usage: ledger_bench [--keys N] [--blocks B] [--dir D] [--seconds S] "
                   "[--cache-mib M] [--compact] [--profile update|execute|commit]\n");
      std::exit(2);
    }
  }
  if (o.dir.empty()) {
    o.dir =
        (std::filesystem::temp_directory_path() / ("imi-ledger-bench-" + std::to_string(o.keys)))
            .string();
  }
  return o;
}

// ---------------------------------------------------------------- 1. crypto

void crypto_figures(double seconds) {
  std::vector<Transaction> txs = anchor_txs(1000000);  // senders unused elsewhere
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (const auto& tx : txs) {
    texts.push_back(tx.canonical());
    bytes += tx.canonical().size();
  }
  // Ed25519 verification of the transactions' signed bytes (strict).
  size_t n = 0, bad = 0;
  Timer t;
  while (t.cpu_ms() < seconds * 1000) {
    for (const auto& tx : txs) {
      bad += !identity::verify(identity::Domain::kTx, tx.key(), tx.unsigned_canonical(), tx.sig());
    }
    n += txs.size();
  }
  double verify_rate = n / (t.cpu_ms() / 1000);
  // Decode from text (form, limits, key validity, id) and verify.
  ValidityLimits limits;
  size_t m = 0;
  Timer t2;
  while (t2.cpu_ms() < seconds * 1000) {
    for (const auto& text : texts) {
      auto tx = Transaction::decode(text, limits);
      bad += !tx || !tx->verify_signature().is_ok();
    }
    m += texts.size();
  }
  double decode_rate = m / (t2.cpu_ms() / 1000);
  if (bad != 0) std::printf("!! %zu verifications failed\n", bad);
  std::printf(
      "ed25519 verify (IMI/tx/v1, strict), one core:         %8.0f /s (%zu distinct keys)\n",
      verify_rate, txs.size());
  std::printf("transactions decoded + verified, one core:            %8.0f /s (avg %zu bytes)\n",
              decode_rate, bytes / txs.size());
}

// ---------------------------------------------------------------- 2. state

struct BuiltState {
  Hash32 root{};
  uint64_t keys = 0;
};

// Removes a state an earlier run built in an older on-disk format (its
// bench_meta names the format): the store would refuse or misread it.
void remove_stale_state(const Options& o) {
  std::ifstream in(o.dir + "/bench_meta");
  int format = 0;
  if (!(in >> format) || format == kFormat) return;
  std::filesystem::remove_all(o.dir + "/store");
  std::filesystem::remove(o.dir + "/bench_meta");
  std::printf("removed the state in %s built in format %d (this build writes format %d)\n",
              o.dir.c_str(), format, kFormat);
}

// Builds the N-key state in `store` (heights 0..k, one per 250,000 keys) or
// reads it back from the meta file of an earlier run.
BuiltState build_or_load(Store& store, const Options& o) {
  const std::string meta_path = o.dir + "/bench_meta";
  BuiltState st;
  {
    std::ifstream in(meta_path);
    std::string root_hex;
    int format = 0;
    if (in >> format >> st.keys >> root_hex && format == kFormat && st.keys == o.keys) {
      auto root = from_hex_fixed<32>(root_hex);
      if (root) {
        st.root = *root;
        std::printf("reusing the %llu-key state in %s (root %s)\n",
                    static_cast<unsigned long long>(st.keys), o.dir.c_str(), root_hex.c_str());
        return st;
      }
    }
  }
  if (store.head()) {
    std::fprintf(stderr, "%s holds a store without a matching bench_meta: remove it\n",
                 o.dir.c_str());
    std::exit(1);
  }
  LevelDbNodeStore nodes(*store.db());
  StateTree tree(nodes);
  Timer t;
  uint64_t next = 0, height = 0;
  while (next < o.keys || height == 0) {
    std::vector<StateWrite> w;
    uint64_t end = std::min(o.keys, next + 250000);
    for (; next < end; ++next) w.push_back({"bench", state_key(next), value_of(next)});
    NodeWriteSet out;
    st.root = take(tree.update(st.root, w, out), "build");
    BlockCommit c;
    c.height = height;
    c.block_json = R"({"bench_build":)" + std::to_string(height) + "}";
    c.block_id = sha256(c.block_json);
    if (height > 0) c.cert_json = "{}";
    out.write_to(c.state_writes);
    LevelDbNodeStore::put_root(c.state_writes, height, st.root);
    if (Status s = store.commit_block(c); !s.is_ok()) die("build commit", s);
    ++height;
  }
  store.db()->CompactRange(nullptr, nullptr);
  st.keys = o.keys;
  std::printf("built the %llu-key state in %s: %.1f s wall, %.1f s CPU\n",
              static_cast<unsigned long long>(o.keys), o.dir.c_str(), t.wall_ms() / 1000,
              t.cpu_ms() / 1000);
  std::ofstream(meta_path) << kFormat << " " << st.keys << " " << to_hex(st.root) << "\n";
  return st;
}

// Block b of the tree-update figure: 1,000 existing keys and 1,000 new ones.
std::vector<StateWrite> update_block(int b, uint64_t keys) {
  std::mt19937_64 rng(b);
  std::vector<StateWrite> w;
  w.reserve(2 * kTxs);
  for (int i = 0; i < kTxs; ++i) {
    w.push_back({"bench", state_key(rng() % keys), value_of(rng())});
    w.push_back({"bench", state_key(keys + uint64_t(b) * kTxs + i), value_of(rng())});
  }
  return w;
}

void warm(StateTree& tree, const Hash32& root) {
  Timer t;
  size_t n = take(tree.warm(root, tree.cache_capacity() * 9 / 10), "warm");
  std::printf("  warmed the tree cache (%zu MiB): %zu nodes in %.1f s CPU, %.1f s wall\n",
              tree.cache_capacity() * 104 >> 20, n, t.cpu_ms() / 1000, t.wall_ms() / 1000);
}

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

void update_figures(Store& store, const BuiltState& st, const Options& o, bool profile) {
  LevelDbNodeStore leveldb_nodes(*store.db());
  CountingReader nodes(leveldb_nodes);
  StateTree tree(nodes, StateTreeOptions{.cache_bytes = o.cache_mib << 20});
  warm(tree, st.root);
  // Each block's entries are also committed alone, synced, into a scratch
  // store (the node's LevelDB options): the tree's share of a block commit.
  const std::string scratch_dir = o.dir + "/scratch";
  std::filesystem::remove_all(scratch_dir);
  auto scratch = take(Store::open(scratch_dir), "open scratch store");
  leveldb::WriteOptions synced;
  synced.sync = true;
  Stats commit_stats;
  const int warmup = 2;
  Stats stats;
  size_t created = 0, pages = 0, bytes = 0;
  for (int b = 0; b < warmup + o.blocks; ++b) {
    auto w = update_block(b, st.keys);
    NodeWriteSet out;
    if (b == warmup) nodes.reads = 0;
    if (profile && b >= warmup) CALLGRIND_TOGGLE_COLLECT;
    Timer t;
    take(tree.update(st.root, w, out), "update");
    if (b >= warmup) stats.add(t);
    if (profile && b >= warmup) CALLGRIND_TOGGLE_COLLECT;
    Timer c;
    leveldb::WriteBatch batch;
    out.write_to(batch);
    if (!scratch->db()->Write(synced, &batch).ok()) die("scratch commit", Status::ok());
    if (b >= warmup) commit_stats.add(c);
    if (b >= warmup) {
      created += out.size();
      // A page's bytes start with 0x02, a leaf's with 0x00 (ledger/smt_store.h).
      for (const auto& [hash, entry] : out.nodes()) {
        pages += !entry.empty() && entry[0] == 0x02;
        bytes += entry.size();
      }
    }
  }
  std::printf("apply 1,000 tx x 2 keys (1,000 existing + 1,000 new) to a %llu-key state\n",
              static_cast<unsigned long long>(st.keys));
  std::printf(
      "  after %d warm-up blocks; per block %zu entries written (%zu pages, %zu leaves; %zu KB), "
      "%zu reads reach LevelDB; tree cache %.1f MiB\n",
      warmup, created / o.blocks, pages / o.blocks, (created - pages) / o.blocks,
      bytes / o.blocks / 1000, nodes.reads / o.blocks, tree.cached_bytes() / 1048576.0);
  stats.print("  StateTree::update -> new root");
  commit_stats.print("  the tree's entries alone, one synced WriteBatch");
  scratch.reset();
  std::filesystem::remove_all(scratch_dir);
}

// ---------------------------------------------------------------- 3. executor + commit

void executor_figures(Store& store, const BuiltState& st, const Options& o,
                      const std::string& profile) {
  LevelDbNodeStore nodes(*store.db());
  std::vector<std::unique_ptr<App>> apps;
  apps.push_back(std::make_unique<apps::AnchorApp>());
  ExecutorOptions eo;
  eo.tree.cache_bytes = o.cache_mib << 20;
  auto exec = take(Executor::make(nodes, std::move(apps), eo), "executor");
  {
    Timer t;
    size_t n = take(exec->warm(st.root), "warm");
    std::printf("  warmed the executor's tree cache: %zu nodes in %.1f s CPU, %.1f s wall\n", n,
                t.cpu_ms() / 1000, t.wall_ms() / 1000);
  }
  std::vector<identity::KeyPair> validators;
  for (int v = 0; v < 4; ++v) validators.push_back(key_of(v, 2));

  const int warmup = 2;
  Stats exec_stats, commit_stats;
  size_t tx_bytes = 0, batch_nodes = 0;
  Hash32 root = st.root;
  for (int b = 0; b < warmup + o.blocks; ++b) {
    std::vector<Transaction> txs = anchor_txs(b);  // signed before timing
    for (const auto& tx : txs) tx_bytes += tx.canonical().size();
    uint64_t height = store.head()->height + 1;
    BlockContext ctx{kChain, height, 1000 + height, validators[0].did()};

    bool prof_exec = profile == "execute" && b >= warmup;
    if (prof_exec) CALLGRIND_TOGGLE_COLLECT;
    Timer t;
    auto ex = take(exec->execute(root, ctx, txs), "execute");
    if (b >= warmup) exec_stats.add(t);
    if (prof_exec) CALLGRIND_TOGGLE_COLLECT;
    batch_nodes += ex.new_nodes.size();

    BlockHeader h;
    h.chain = kChain;
    h.height = height;
    h.time_ms = ctx.time_ms;
    h.proposer = ctx.proposer;
    h.results_root = ex.results_root;
    h.state_root = ex.state_root;
    Block block = Block::make(h, std::move(txs));
    CommitCertificate cert{height, 0, block.id(), {}};
    for (int v = 0; v < 3; ++v) {
      cert.sigs.push_back(
          {validators[v].did(), sign_commit_vote(validators[v], kChain, height, 0, block.id())});
    }
    cert.sort_sigs();

    bool prof_commit = profile == "commit" && b >= warmup;
    if (prof_commit) CALLGRIND_TOGGLE_COLLECT;
    Timer c;
    if (Status s = exec->commit(store, block, &cert, ex); !s.is_ok()) die("commit", s);
    if (b >= warmup) commit_stats.add(c);
    if (prof_commit) CALLGRIND_TOGGLE_COLLECT;
    root = ex.state_root;
  }
  const int total = warmup + o.blocks;
  std::printf("execute a 1,000-tx anchor block (fresh senders: 2 keys written per tx)\n");
  std::printf("  after %d warm-up blocks; avg tx %zu bytes, %zu tree entries per block\n", warmup,
              tx_bytes / (total * kTxs), batch_nodes / total);
  exec_stats.print("  Executor::execute (in memory)");
  std::printf("  = %.1f us CPU per transaction\n", Stats::median(exec_stats.cpu) * 1000 / kTxs);
  commit_stats.print("  Executor::commit, synced (block, cert, results, index, nodes)");
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  std::printf("ledger_bench --keys %llu --blocks %d --cache-mib %zu --dir %s%s%s\n",
              static_cast<unsigned long long>(o.keys), o.blocks, o.cache_mib, o.dir.c_str(),
              o.profile.empty() ? "" : " --profile ", o.profile.c_str());
  double load[1] = {-1};
  ::getloadavg(load, 1);
  std::printf(
      "load average %.2f; figures are CPU time of this thread (CLOCK_THREAD_CPUTIME_ID) "
      "and wall time\n",
      load[0]);
  if (o.profile.empty()) crypto_figures(o.seconds);

  std::filesystem::create_directories(o.dir);
  remove_stale_state(o);
  auto store = take(Store::open(o.dir + "/store"), "open store");
  BuiltState st = build_or_load(*store, o);
  if (o.compact) {
    // Every run commits blocks to the store, which leaves level-0 files and
    // tables written with the options of the day; compacting first makes
    // runs comparable (every lookup then sees the same levels).
    Timer t;
    store->db()->CompactRange(nullptr, nullptr);
    std::printf("compacted the store: %.1f s wall\n", t.wall_ms() / 1000);
  }
  if (o.profile.empty() || o.profile == "update") update_figures(*store, st, o, !o.profile.empty());
  if (o.profile.empty() || o.profile == "execute" || o.profile == "commit") {
    executor_figures(*store, st, o, o.profile);
  }
  return 0;
}
