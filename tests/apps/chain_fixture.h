// A one-node chain for app tests: a temporary store, the governance and
// anchor apps, a genesis of n validators (keys from seeds 1..n), and a helper
// that executes and commits a block.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/anchor.h"
#include "apps/governance.h"
#include "ledger/executor.h"
#include "ledger/json.h"
#include "ledger/store_index.h"

namespace imi::apps::testing {

inline constexpr const char* kChain = "imi-test";

inline identity::KeyPair key(uint8_t n) {
  identity::Seed s{};
  s[0] = n;
  s[1] = 0x5a;
  return identity::KeyPair::from_seed(s);
}

inline rapidjson::Document json(std::string_view text) {
  return std::move(ledger::parse_strict(text).value());
}

inline std::string genesis_json(size_t n, std::string extra = "") {
  std::string vals;
  for (size_t i = 1; i <= n; ++i) {
    if (i > 1) vals += ",";
    auto k = key(static_cast<uint8_t>(i));
    vals += R"({"id":")" + k.did() + R"(","key":")" + to_hex(k.public_key()) + R"("})";
  }
  return R"({"v":1,"chain":")" + std::string(kChain) + R"(","time":1000,"validators":[)" + vals +
         "]" + extra + "}";
}

class Chain {
 public:
  explicit Chain(size_t validators, std::string genesis_extra = "")
      : Chain(validators, std::move(genesis_extra), {}, false) {}

  // With `extra_apps` besides governance and anchor, and the store's ordered
  // index given to the executor (`indexed`), so deadlines fire and queries
  // can scan (index()).
  Chain(size_t validators, std::string genesis_extra,
        std::vector<std::unique_ptr<ledger::App>> extra_apps, bool indexed) {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("imi-apps-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    store_ = std::move(ledger::Store::open(dir_.string()).value());
    nodes_ = std::make_unique<ledger::LevelDbNodeStore>(*store_->db());
    std::vector<std::unique_ptr<ledger::App>> apps;
    apps.push_back(std::make_unique<GovernanceApp>());
    apps.push_back(std::make_unique<AnchorApp>());
    for (auto& a : extra_apps) apps.push_back(std::move(a));
    ledger::ExecutorOptions options;
    if (indexed) {
      index_ = std::make_unique<ledger::StoreIndex>(*store_);
      options.index = index_.get();
    }
    exec_ = std::move(ledger::Executor::make(*nodes_, std::move(apps), options).value());
    auto g = ledger::Genesis::parse(genesis_json(validators, genesis_extra));
    REQUIRE(g.is_ok());
    auto gb = exec_->make_genesis(*g);
    REQUIRE(gb.is_ok());
    REQUIRE(exec_->commit(*store_, gb->first, nullptr, gb->second).is_ok());
    root_ = gb->second.state_root;
    prev_ = gb->first.id();
  }
  ~Chain() {
    exec_.reset();
    index_.reset();
    nodes_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint64_t height() const { return height_; }
  const Hash32& root() const { return root_; }
  ledger::Store& store() { return *store_; }
  ledger::Executor& exec() { return *exec_; }
  std::unique_ptr<ledger::StateReader> state() { return exec_->reader_at(root_); }
  // The ordered index (indexed chains only).
  const ledger::IndexReader& index() const { return *index_; }
  // The time of the last block (genesis: 1000).
  uint64_t time() const { return time_; }

  // Signs a transaction from did(k) with the account's next nonce.
  ledger::Transaction tx(const identity::KeyPair& k, std::string_view app, std::string_view op,
                         std::string_view args) {
    uint64_t& n = nonces_[k.did()];
    return ledger::make_transaction(k, kChain, n++, app, op, json(args)).value();
  }
  // Same, sent by delegate k on behalf of `principal`.
  ledger::Transaction tx_for(const identity::KeyPair& k, std::string_view principal,
                             std::string_view app, std::string_view op, std::string_view args) {
    uint64_t& n = nonces_[k.did()];
    return ledger::make_transaction_for(k, k.did(), principal, kChain, n++, app, op, json(args))
        .value();
  }

  // Executes and commits the next block (time = 1000 + 10 * height, or 10 ms
  // after the last block if block_at() moved time further).
  ledger::ExecutedBlock block(std::vector<ledger::Transaction> txs) {
    return block_at(std::max<uint64_t>(1000 + 10 * (height_ + 1), time_ + 10), std::move(txs));
  }

  // Runs `t` alone in the next block; its result.
  ledger::TxResult run_one(ledger::Transaction t) { return block({std::move(t)}).results.front(); }
  // Same, requiring success; the id of what it creates (first 32 hex of the tx id).
  std::string ok_id(ledger::Transaction t) {
    std::string id = t.id_hex().substr(0, 32);
    auto r = run_one(std::move(t));
    INFO(r.message());
    REQUIRE(r.code() == 0);
    return id;
  }
  // The committed value of app/key, a null document if absent.
  rapidjson::Document get_doc(std::string_view app, std::string_view key) {
    auto d = state()->get_json(app, key);
    REQUIRE(d.is_ok());
    if (!d->has_value()) return rapidjson::Document(rapidjson::kNullType);
    return std::move(**d);
  }

  // Executes and commits the next block at block time `time_ms`.
  ledger::ExecutedBlock block_at(uint64_t time_ms, std::vector<ledger::Transaction> txs) {
    ledger::BlockContext ctx{kChain, height_ + 1, time_ms, key(1).did()};
    auto ex = exec_->execute(root_, ctx, txs);
    REQUIRE(ex.is_ok());
    ledger::BlockHeader h;
    h.chain = kChain;
    h.height = ctx.height;
    h.prev = prev_;
    h.time_ms = ctx.time_ms;
    h.proposer = ctx.proposer;
    h.results_root = ex->results_root;
    h.state_root = ex->state_root;
    auto next = validator_set_at(*exec_->reader_after(*ex), ctx.height + 1);
    INFO(next.status().to_string());
    REQUIRE(next.is_ok());
    h.validators = next->hash();
    auto b = ledger::Block::make(h, std::move(txs));
    ledger::CommitCertificate cert{b.header().height, 0, b.id(), {}};
    REQUIRE(exec_->commit(*store_, b, &cert, *ex).is_ok());
    root_ = ex->state_root;
    prev_ = b.id();
    ++height_;
    time_ = time_ms;
    return std::move(ex).value();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<ledger::LevelDbNodeStore> nodes_;
  std::unique_ptr<ledger::StoreIndex> index_;
  std::unique_ptr<ledger::Executor> exec_;
  Hash32 root_{};
  Hash32 prev_{};
  uint64_t height_ = 0;
  uint64_t time_ = 1000;
  std::map<std::string, uint64_t> nonces_;
};

}  // namespace imi::apps::testing
