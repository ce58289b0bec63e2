// Store and executor figures (issue 2): a synced commit of a block of 1,000
// transactions of ~300 bytes with results, index entries and state-tree
// nodes (target <= 20 ms), and executing + committing a 1,000-tx anchor block.
// Usage: store_bench [dir]   (default: a fresh directory under /tmp)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "apps/anchor.h"
#include "apps/governance.h"
#include "base/sha256.h"
#include "ledger/executor.h"
#include "ledger/json.h"

using namespace imi;
using namespace imi::ledger;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-48s median %.2f ms  min %.2f  max %.2f  (n=%zu)\n", what, v[v.size() / 2], v[0],
              v.back(), v.size());
}

identity::KeyPair key(uint32_t n) {
  identity::Seed s{};
  s[0] = n & 0xff;
  s[1] = (n >> 8) & 0xff;
  s[2] = 0xbe;
  return identity::KeyPair::from_seed(s);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path base = argc > 1 ? std::filesystem::path(argv[1])
                                        : std::filesystem::temp_directory_path() /
                                              ("imi-store-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  constexpr int kTxs = 1000, kBlocks = 20;

  // 1. Raw synced commit: 1,000 txs of ~300 B, results, index, ~2 state nodes per tx.
  {
    auto store = std::move(Store::open((base / "raw").string()).value());
    std::vector<double> times;
    for (int h = 0; h <= kBlocks; ++h) {
      BlockCommit c;
      c.height = h;
      std::string block;
      for (int i = 0; i < kTxs; ++i) {
        Hash32 id = sha256("tx " + std::to_string(h) + "/" + std::to_string(i));
        block += std::string(300, 'x');
        c.tx_ids.push_back(id);
        c.result_json.push_back(R"({"code":0,"events":[{"hash":")" + to_hex(id) +
                                R"(","type":"anchored"}]})");
        Hash32 n1 = sha256("leaf" + to_hex(id)), n2 = sha256("node" + to_hex(id));
        c.state_writes.Put("s/n/" + std::string(n1.begin(), n1.end()), std::string(150, 'l'));
        c.state_writes.Put("s/n/" + std::string(n2.begin(), n2.end()), std::string(65, 'i'));
      }
      c.block_json = block;
      c.block_id = sha256(block);
      if (h > 0) c.cert_json = std::string(600, 'c');
      auto t = Clock::now();
      Status s = store->commit_block(c);
      double ms = ms_since(t);
      if (!s.is_ok()) {
        std::fprintf(stderr, "commit failed: %s\n", s.to_string().c_str());
        return 1;
      }
      if (h > 0) times.push_back(ms);
    }
    report("synced commit, 1000 tx block (~0.6 MB batch)", times);
  }

  // 2. Execute + commit 1,000-tx anchor blocks through the executor.
  {
    auto store = std::move(Store::open((base / "exec").string()).value());
    LevelDbNodeStore nodes(*store->db());
    std::vector<std::unique_ptr<App>> apps;
    apps.push_back(std::make_unique<apps::GovernanceApp>());
    apps.push_back(std::make_unique<apps::AnchorApp>());
    auto exec = std::move(Executor::make(nodes, std::move(apps)).value());
    auto v = key(0);
    auto g = Genesis::parse(R"({"v":1,"chain":"bench","time":1,"validators":[{"id":")" + v.did() +
                            R"(","key":")" + to_hex(v.public_key()) + R"("}]})");
    auto gb = exec->make_genesis(*g);
    if (!gb || !exec->commit(*store, gb->first, nullptr, gb->second).is_ok()) return 1;
    Hash32 root = gb->second.state_root, prev = gb->first.id();
    std::vector<identity::KeyPair> senders;
    for (int i = 0; i < kTxs; ++i) senders.push_back(key(i + 1));
    std::vector<double> exec_ms, commit_ms;
    for (int h = 1; h <= 10; ++h) {
      std::vector<Transaction> txs;
      for (int i = 0; i < kTxs; ++i) {
        std::string hash = to_hex(sha256("doc " + std::to_string(h) + "/" + std::to_string(i)));
        auto args = parse_strict(R"({"hash":")" + hash + R"(","note":"bench"})");
        txs.push_back(
            make_transaction(senders[i], "bench", h - 1, "anchor", "anchor", *args).value());
      }
      BlockContext ctx{"bench", static_cast<uint64_t>(h), static_cast<uint64_t>(1 + h), v.did()};
      auto t = Clock::now();
      auto ex = exec->execute(root, ctx, txs);
      exec_ms.push_back(ms_since(t));
      if (!ex) {
        std::fprintf(stderr, "execute failed: %s\n", ex.status().to_string().c_str());
        return 1;
      }
      BlockHeader hd;
      hd.chain = "bench";
      hd.height = h;
      hd.prev = prev;
      hd.time_ms = ctx.time_ms;
      hd.proposer = v.did();
      hd.results_root = ex->results_root;
      hd.state_root = ex->state_root;
      hd.validators = gb->first.header().validators;
      Block b = Block::make(hd, txs);
      CommitCertificate cert{static_cast<uint64_t>(h), 0, b.id(), {}};
      t = Clock::now();
      Status s = exec->commit(*store, b, &cert, *ex);
      commit_ms.push_back(ms_since(t));
      if (!s.is_ok()) {
        std::fprintf(stderr, "commit failed: %s\n", s.to_string().c_str());
        return 1;
      }
      root = ex->state_root;
      prev = b.id();
    }
    report("execute 1000-tx anchor block (in memory)", exec_ms);
    report("commit it (block JSON, results, index, nodes)", commit_ms);
  }
  std::filesystem::remove_all(base);
  return 0;
}
