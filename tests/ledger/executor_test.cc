#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "ledger/executor.h"
#include "ledger/executor_account.h"
#include "ledger/json.h"
#include "tests/ledger/temp_dir.h"

using namespace imi;
using namespace imi::ledger;

namespace {

using imi::test::TempDir;

constexpr const char* kChain = "imi-test";

identity::KeyPair key(uint8_t n) {
  identity::Seed s{};
  s[0] = n;
  return identity::KeyPair::from_seed(s);
}

rapidjson::Document json(std::string_view text) { return std::move(parse_strict(text).value()); }

// A tiny app: "set" writes kv/<k> = v, "fail" returns code 100 after writing,
// "add_key" adds args.key to the sender's account keys.
class KvApp : public App {
 public:
  std::string_view name() const override { return "kv"; }
  Result<TxOutcome> check(const Transaction& tx, const BlockContext&,
                          const StateReader&) const override {
    if (tx.op() == "set" || tx.op() == "fail" || tx.op() == "add_key") return TxOutcome::success();
    return TxOutcome::fail(kCodeUnknownOp, "no op " + tx.op());
  }
  Result<TxOutcome> apply(const Transaction& tx, const BlockContext& ctx,
                          AppState& state) const override {
    if (tx.op() == "add_key") {
      auto acct = read_account(state, tx.from());
      if (!acct) return acct.status();
      Account a = **acct;
      a.keys.push_back(*from_hex_fixed<32>(*get_string(tx.args(), "key")));
      IMI_RETURN_IF_ERROR(state.put(kAccountApp, tx.from(), account_to_json(a)));
      return TxOutcome::success();
    }
    std::string k(*get_string(tx.args(), "k"));
    rapidjson::Document v(rapidjson::kObjectType);
    v.AddMember("v", rapidjson::Value(*get_int(tx.args(), "v")), v.GetAllocator());
    v.AddMember("t", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), v.GetAllocator());
    IMI_RETURN_IF_ERROR(state.put("kv", k, v));
    state.emit(v);
    if (tx.op() == "fail") return TxOutcome::fail(100, "asked to fail");
    return TxOutcome::success();
  }
};


struct Chain {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<LevelDbNodeStore> nodes;
  std::unique_ptr<Executor> exec;
  Hash32 root{};
  uint64_t height = 0;

  explicit Chain(size_t value_cache_bytes = ExecutorOptions{}.value_cache_bytes) {
    store = std::move(Store::open(dir.path()).value());
    nodes = std::make_unique<LevelDbNodeStore>(*store->db());
    std::vector<std::unique_ptr<App>> apps;
    apps.push_back(std::make_unique<KvApp>());
    ExecutorOptions options;
    options.value_cache_bytes = value_cache_bytes;
    exec = std::move(Executor::make(*nodes, std::move(apps), options).value());
  }
  BlockContext ctx() const { return {kChain, height + 1, 1000 + height + 1, key(1).did()}; }
  // Executes and commits `txs` as the next block.
  ExecutedBlock commit(const std::vector<Transaction>& txs) {
    auto ex = exec->execute(root, ctx(), txs);
    REQUIRE(ex.is_ok());
    BlockHeader h;
    h.chain = kChain;
    h.height = height + 1;
    h.prev = store->head() ? store->head()->block_id : Hash32{};
    h.time_ms = ctx().time_ms;
    h.proposer = key(1).did();
    h.results_root = ex->results_root;
    h.state_root = ex->state_root;
    Block b = Block::make(h, txs);
    CommitCertificate cert{b.header().height, 0, b.id(), {}};
    if (!store->head()) REQUIRE(store->commit_block(genesis_commit()).is_ok());
    REQUIRE(exec->commit(*store, b, &cert, *ex).is_ok());
    root = ex->state_root;
    ++height;
    return std::move(ex).value();
  }
  static BlockCommit genesis_commit() {
    BlockCommit c;
    c.block_json = "{}";
    return c;
  }
  std::optional<std::string> get(std::string_view app, std::string_view k) {
    return exec->get(root, app, k).value();
  }
};

Transaction tx(const identity::KeyPair& k, uint64_t nonce, std::string_view op,
               std::string_view args, std::string_view app = "kv") {
  return make_transaction(k, kChain, nonce, app, op, json(args)).value();
}

}  // namespace

TEST_CASE("nonces start at 0, increase by one, and a gap or replay invalidates the block") {
  Chain c;
  auto a = key(10);
  c.commit({tx(a, 0, "set", R"({"k":"x","v":1})"), tx(a, 1, "set", R"({"k":"y","v":2})")});
  auto acct = read_account(*c.exec->reader_at(c.root), a.did());
  REQUIRE(acct.is_ok());
  REQUIRE(acct->has_value());
  CHECK((*acct)->next_nonce == 2);

  std::vector<Transaction> replay{tx(a, 1, "set", R"({"k":"z","v":3})")};
  auto r = c.exec->execute(c.root, c.ctx(), replay);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == "exec.bad_nonce");
  CHECK(r.status().message().starts_with("txs[0]: "));

  std::vector<Transaction> gap{tx(a, 3, "set", R"({"k":"z","v":3})")};
  CHECK(c.exec->execute(c.root, c.ctx(), gap).status().code() == "exec.bad_nonce");

  auto b = key(11);
  std::vector<Transaction> first_not_zero{tx(b, 1, "set", R"({"k":"z","v":3})")};
  CHECK(c.exec->execute(c.root, c.ctx(), first_not_zero).status().code() == "exec.bad_nonce");
}

TEST_CASE("a proposer leaves out transactions that break the sender rule") {
  Chain c;
  auto a = key(10);
  std::vector<Transaction> txs{tx(a, 0, "set", R"({"k":"x","v":1})"),
                               tx(a, 2, "set", R"({"k":"y","v":2})"),  // gap
                               tx(a, 1, "set", R"({"k":"z","v":3})")};
  auto p = c.exec->propose(c.root, c.ctx(), txs);
  REQUIRE(p.is_ok());
  REQUIRE(p->txs.size() == 2);
  CHECK(p->txs[1].nonce() == 1);
  REQUIRE(p->excluded.size() == 1);
  CHECK(p->excluded[0].index == 1);
  CHECK(p->excluded[0].reason.code() == "exec.bad_nonce");
  // The proposal, executed as a block, gives the same roots.
  auto again = c.exec->execute(c.root, c.ctx(), p->txs);
  REQUIRE(again.is_ok());
  CHECK(again->state_root == p->state_root);
  CHECK(again->results_root == p->results_root);
}

TEST_CASE("sender rule: first tx from did(key), later only current keys, rotation works") {
  Chain c;
  auto a = key(10), other = key(12);
  // First transaction naming an account that is not did(key).
  std::vector<Transaction> forged{
      make_transaction_from(other, a.did(), kChain, 0, "kv", "set", json(R"({"k":"x","v":1})"))
          .value()};
  CHECK(c.exec->execute(c.root, c.ctx(), forged).status().code() == "tx.key_mismatch");

  auto first = c.commit({tx(a, 0, "set", R"({"k":"x","v":1})")});
  // The sender rule created the account: no app changed its keys.
  CHECK(first.accounts_rekeyed.empty());
  // Account exists; another key may not sign for it.
  std::vector<Transaction> wrong_key{
      make_transaction_from(other, a.did(), kChain, 1, "kv", "set", json(R"({"k":"x","v":2})"))
          .value()};
  CHECK(c.exec->execute(c.root, c.ctx(), wrong_key).status().code() == "exec.key_not_current");

  // Add `other` as a key of a's account; then it may sign for a.
  auto added =
      c.commit({tx(key(11), 0, "set", R"({"k":"y","v":1})"),
                tx(a, 1, "add_key", R"({"key":")" + to_hex(other.public_key()) + R"("})")});
  // An app wrote a's account: listed (the node re-reads a's keys); the other
  // sender's nonce write is not.
  CHECK(added.accounts_rekeyed == std::vector<std::string>{a.did()});
  auto used = c.commit(
      {make_transaction_from(other, a.did(), kChain, 2, "kv", "set", json(R"({"k":"x","v":2})"))
           .value()});
  CHECK(used.accounts_rekeyed.empty());
  CHECK(*c.get("kv", "x") == R"({"t":1003,"v":2})");
}

TEST_CASE("unknown app and op are result codes; failed apps keep the nonce but drop writes") {
  Chain c;
  auto a = key(10);
  auto ex =
      c.commit({tx(a, 0, "set", R"({"k":"x","v":1})", "nosuchapp"), tx(a, 1, "frobnicate", R"({})"),
                tx(a, 2, "fail", R"({"k":"y","v":1})"), tx(a, 3, "set", R"({"k":"z","v":7})")});
  REQUIRE(ex.results.size() == 4);
  CHECK(ex.results[0].code() == kCodeUnknownApp);
  CHECK(ex.results[1].code() == kCodeUnknownOp);
  CHECK(ex.results[2].code() == 100);
  CHECK(ex.results[2].canonical() == R"({"code":100,"events":[]})");
  CHECK(ex.results[3].code() == 0);
  CHECK(ex.results[3].canonical() == R"({"code":0,"events":[{"t":1001,"v":7}]})");
  CHECK_FALSE(c.get("kv", "y").has_value());
  CHECK(c.get("kv", "z").has_value());
  CHECK((*read_account(*c.exec->reader_at(c.root), a.did()))->next_nonce == 4);
  // Stored with the block.
  auto loc = c.store->tx_location(ex.txs[2].id());
  REQUIRE(loc.is_ok());
  CHECK(loc->position == 2);
  CHECK(*c.store->result_json(1, 2) == R"({"code":100,"events":[]})");
}

TEST_CASE("execution is deterministic: same block, same roots, on another node too") {
  auto a = key(10), b = key(11);
  std::vector<Transaction> txs;
  for (uint64_t i = 0; i < 20; ++i) {
    txs.push_back(tx(i % 2 ? a : b, i / 2, "set",
                     R"({"k":"k)" + std::to_string(i % 7) + R"(","v":)" + std::to_string(i) + "}"));
  }
  Chain c1, c2;
  auto e1 = c1.exec->execute(c1.root, c1.ctx(), txs);
  auto e2 = c1.exec->execute(c1.root, c1.ctx(), txs);
  auto e3 = c2.exec->execute(c2.root, c2.ctx(), txs);
  REQUIRE((e1.is_ok() && e2.is_ok() && e3.is_ok()));
  CHECK(e1->state_root == e2->state_root);
  CHECK(e1->state_root == e3->state_root);
  CHECK(e1->results_root == e3->results_root);
  CHECK(e1->state_root != Hash32{});
  // Executing in memory wrote nothing.
  CHECK_FALSE(c1.get("kv", "k0").has_value());
}

TEST_CASE("execute_block checks the header's roots") {
  Chain c;
  auto a = key(10);
  std::vector<Transaction> txs{tx(a, 0, "set", R"({"k":"x","v":1})")};
  auto ex = c.exec->execute(c.root, c.ctx(), txs);
  REQUIRE(ex.is_ok());
  BlockHeader h;
  h.chain = kChain;
  h.height = 1;
  h.time_ms = c.ctx().time_ms;
  h.proposer = key(1).did();
  h.results_root = ex->results_root;
  h.state_root = ex->state_root;
  CHECK(c.exec->execute_block(Block::make(h, txs), c.root).is_ok());
  BlockHeader bad_state = h;
  bad_state.state_root[0] ^= 1;
  CHECK(c.exec->execute_block(Block::make(bad_state, txs), c.root).status().code() ==
        "exec.state_root_mismatch");
  BlockHeader bad_results = h;
  bad_results.results_root[0] ^= 1;
  CHECK(c.exec->execute_block(Block::make(bad_results, txs), c.root).status().code() ==
        "exec.results_root_mismatch");
  // Committing with a mismatched execution is refused.
  CommitCertificate cert{1, 0, Block::make(bad_state, txs).id(), {}};
  REQUIRE(c.store->commit_block(Chain::genesis_commit()).is_ok());
  CHECK(c.exec->commit(*c.store, Block::make(bad_state, txs), &cert, *ex).code() ==
        "exec.mismatch");
}

TEST_CASE("executor refuses apps with reserved or duplicate names") {
  TempDir dir;
  auto store = std::move(Store::open(dir.path()).value());
  LevelDbNodeStore nodes(*store->db());
  std::vector<std::unique_ptr<App>> apps;
  apps.push_back(std::make_unique<KvApp>());
  apps.push_back(std::make_unique<KvApp>());
  CHECK(Executor::make(nodes, std::move(apps)).status().code() == "exec.bad_app");
}

TEST_CASE("the executor's value cache never changes an answer") {
  // Three executors run the same chain: cache off, a tiny cache (its
  // generations turn over every few values) and the default. Between blocks
  // the cached ones also execute blocks that never commit (on the head, and
  // on an older root, which moves the cache away from the head). Every block
  // must give the same results and state roots, and reads the same values.
  Chain off(0), tiny(700), normal;
  std::vector<identity::KeyPair> senders{key(20), key(21), key(22), key(23)};
  std::vector<uint64_t> nonce(senders.size(), 0);
  uint64_t seed = 7;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  Hash32 older{};
  for (int block = 0; block < 30; ++block) {
    // A block that never commits, on the head: it reads (and caches) values
    // at the head but its writes must not reach the cache.
    std::vector<Transaction> other{tx(senders[0], nonce[0], "set", R"({"k":"k1","v":-1})")};
    std::vector<Transaction> txs;
    for (int i = 0; i < 6; ++i) {
      size_t s = next() % senders.size();
      const char* op = next() % 5 == 0 ? "fail" : "set";
      txs.push_back(tx(senders[s], nonce[s]++, op,
                       R"({"k":"k)" + std::to_string(next() % 9) + R"(","v":)" +
                           std::to_string(next() % 1000) + "}"));
    }
    REQUIRE(tiny.exec->execute(tiny.root, tiny.ctx(), other).is_ok());
    REQUIRE(normal.exec->execute(normal.root, normal.ctx(), other).is_ok());
    if (block % 7 == 6) {
      // One on an older root: the cache starts over there; the next block on
      // the head starts it over again.
      REQUIRE(normal.exec->execute(older, normal.ctx(), {}).is_ok());
    }
    if (block % 5 == 0) older = normal.root;
    ExecutedBlock a = off.commit(txs), b = tiny.commit(txs), c = normal.commit(txs);
    CAPTURE(block);
    CHECK(a.state_root == b.state_root);
    CHECK(a.state_root == c.state_root);
    CHECK(a.results_root == b.results_root);
    CHECK(a.results_root == c.results_root);
    for (int k = 0; k < 9; ++k) {
      const std::string name = "k" + std::to_string(k);
      CHECK(off.get("kv", name) == normal.get("kv", name));
    }
  }
}
