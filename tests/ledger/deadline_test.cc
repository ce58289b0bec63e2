// Deadlines fired by the executor and transactions sent on behalf of a
// principal (ledger/app.h, ledger/delegation.h), on a real Store with its
// ordered index.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "ledger/delegation.h"
#include "ledger/executor.h"
#include "ledger/json.h"
#include "ledger/reindex.h"
#include "ledger/store_index.h"
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

std::string arg(const Transaction& tx, const char* f) { return std::string(*get_string(tx.args(), f)); }

// "at" {k,t} schedules deadline k at t; "cancel" {k}; "touch" {k} writes
// tm/<k> = "touched". A deadline writes tm/<k> = "fired" and emits
// {"type":"fired","key"}; keys starting "fail" answer code 100 after writing,
// keys starting "again" schedule themselves 10 ms later once.
class TimerApp : public App {
 public:
  explicit TimerApp(bool delegable = true) : delegable_(delegable) {}
  std::string_view name() const override { return "tm"; }
  bool accepts_delegation() const override { return delegable_; }
  Result<TxOutcome> check(const Transaction& tx, const BlockContext&,
                          const StateReader&) const override {
    if (tx.op() == "at" || tx.op() == "cancel" || tx.op() == "touch") return TxOutcome::success();
    return TxOutcome::fail(kCodeUnknownOp, "no op " + tx.op());
  }
  Result<TxOutcome> apply(const Transaction& tx, const BlockContext&,
                          AppState& state) const override {
    std::string k = arg(tx, "k");
    if (tx.op() == "at") return ok(state.schedule(k, *get_uint(tx.args(), "t")));
    if (tx.op() == "cancel") return ok(state.cancel(k));
    rapidjson::Document v(rapidjson::kObjectType);
    v.AddMember("by", rapidjson::Value(tx.actor().c_str(), v.GetAllocator()), v.GetAllocator());
    v.AddMember("what", "touched", v.GetAllocator());
    return ok(state.put("tm", k, v));
  }
  Result<TxOutcome> on_deadline(std::string_view key, const BlockContext& ctx,
                                AppState& state) const override {
    rapidjson::Document v(rapidjson::kObjectType);
    v.AddMember("what", "fired", v.GetAllocator());
    v.AddMember("at", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), v.GetAllocator());
    IMI_RETURN_IF_ERROR(state.put("tm", key, v));
    rapidjson::Document ev(rapidjson::kObjectType);
    ev.AddMember("key", rapidjson::Value(key.data(), key.size(), ev.GetAllocator()),
                 ev.GetAllocator());
    ev.AddMember("type", "fired", ev.GetAllocator());
    state.emit(ev);
    if (key.starts_with("fail")) return TxOutcome::fail(100, "asked to fail");
    if (key == "again")
      IMI_RETURN_IF_ERROR(state.schedule(std::string(key) + "!", ctx.time_ms + 10));
    return TxOutcome::success();
  }

 private:
  static Result<TxOutcome> ok(Status s) {
    if (!s) return s;
    return TxOutcome::success();
  }
  bool delegable_;
};


struct Chain {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<LevelDbNodeStore> nodes;
  std::unique_ptr<StoreIndex> index;
  std::unique_ptr<Executor> exec;
  Hash32 root{};
  uint64_t height = 0;
  uint64_t time = 1000;

  explicit Chain(size_t per_block = 256, bool delegable = true) {
    store = std::move(Store::open(dir.path()).value());
    nodes = std::make_unique<LevelDbNodeStore>(*store->db());
    index = std::make_unique<StoreIndex>(*store);
    std::vector<std::unique_ptr<App>> apps;
    apps.push_back(std::make_unique<TimerApp>(delegable));
    apps.push_back(std::make_unique<DelegationApp>());
    ExecutorOptions options;
    options.index = index.get();
    options.deadlines_per_block_max = per_block;
    exec = std::move(Executor::make(*nodes, std::move(apps), options).value());
    BlockCommit g;
    g.block_json = "{}";
    REQUIRE(store->commit_block(std::move(g)).is_ok());
  }
  BlockContext ctx(uint64_t t) const { return {kChain, height + 1, t, key(1).did()}; }
  // Executes and commits `txs` as the next block at block time `t`.
  ExecutedBlock commit(const std::vector<Transaction>& txs, uint64_t t) {
    auto ex = exec->execute(root, ctx(t), txs);
    REQUIRE(ex.is_ok());
    BlockHeader h;
    h.chain = kChain;
    h.height = height + 1;
    h.prev = store->head()->block_id;
    h.time_ms = t;
    h.proposer = key(1).did();
    h.results_root = ex->results_root;
    h.state_root = ex->state_root;
    Block b = Block::make(h, txs);
    CommitCertificate cert{b.header().height, 0, b.id(), {}};
    REQUIRE(exec->commit(*store, b, &cert, *ex).is_ok());
    root = ex->state_root;
    ++height;
    time = t;
    return std::move(ex).value();
  }
  std::optional<std::string> get(std::string_view app, std::string_view k) {
    return exec->get(root, app, k).value();
  }
};

struct Sender {
  identity::KeyPair k;
  uint64_t nonce = 0;
  Transaction tx(std::string_view app, std::string_view op, std::string_view args,
                 std::string_view principal = {}) {
    return make_transaction_for(k, k.did(), principal, kChain, nonce++, app, op, json(args))
        .value();
  }
};

std::vector<std::string> fired_keys(const ExecutedBlock& ex) {
  std::vector<std::string> out;
  for (size_t i = ex.txs.size(); i < ex.results.size(); ++i) {
    REQUIRE(ex.results[i].deadline().has_value());
    out.push_back(ex.results[i].deadline()->key);
  }
  return out;
}

}  // namespace

TEST_CASE("deadlines fire at the start of the first block at or after their time, in (time, key) order") {
  Chain c;
  Sender a{key(10)};
  c.commit({a.tx("tm", "at", R"({"k":"k1","t":1010})"), a.tx("tm", "at", R"({"k":"k3","t":1005})"),
            a.tx("tm", "at", R"({"k":"k2","t":1005})")},
           1001);
  CHECK(c.exec->next_deadline().value() == std::optional<uint64_t>(1005));
  // Not due yet: nothing fires, the block holds only its transaction.
  auto early = c.commit({a.tx("tm", "touch", R"({"k":"x"})")}, 1004);
  CHECK(early.results.size() == 1);
  // Due: all three, after the block's one transaction, in time then key order.
  auto due = c.commit({a.tx("tm", "touch", R"({"k":"y"})")}, 1010);
  REQUIRE(due.results.size() == 4);
  CHECK_FALSE(due.results[0].deadline().has_value());
  CHECK(fired_keys(due) == std::vector<std::string>{"k2", "k3", "k1"});
  CHECK(due.results[1].canonical() ==
        R"({"code":0,"deadline":{"app":"tm","key":"k2","time":1005},"events":[{"key":"k2","type":"fired"}]})");
  CHECK(due.results_root == compute_results_root(due.results));
  CHECK(c.get("tm", "k1") == std::optional<std::string>(R"({"at":1010,"what":"fired"})"));
  // The schedule is empty again, in state and in the index.
  CHECK(c.exec->next_deadline().value() == std::nullopt);
  CHECK_FALSE(c.get("deadline", "by/tm/k1").has_value());
  auto left = c.store->scan_index("deadline", "", "", 10);
  REQUIRE(left.is_ok());
  CHECK(left->empty());
  // A later block fires nothing more.
  CHECK(c.commit({}, 1020).results.empty());
}

TEST_CASE("at most deadlines_per_block_max fire per block; the rest fire in the next") {
  Chain c(2);
  Sender a{key(10)};
  c.commit({a.tx("tm", "at", R"({"k":"a","t":1002})"), a.tx("tm", "at", R"({"k":"b","t":1002})"),
            a.tx("tm", "at", R"({"k":"c","t":1003})")},
           1001);
  CHECK(fired_keys(c.commit({}, 1005)) == std::vector<std::string>{"a", "b"});
  CHECK(fired_keys(c.commit({}, 1006)) == std::vector<std::string>{"c"});
}

TEST_CASE("a cancelled deadline never fires; scheduling again moves it") {
  Chain c;
  Sender a{key(10)};
  c.commit({a.tx("tm", "at", R"({"k":"c2","t":2000})"), a.tx("tm", "at", R"({"k":"m2","t":2000})")},
           1100);
  c.commit({a.tx("tm", "cancel", R"({"k":"c2"})"), a.tx("tm", "at", R"({"k":"m2","t":3000})")}, 1200);
  CHECK(c.exec->next_deadline().value() == std::optional<uint64_t>(3000));
  CHECK(c.get("deadline", "by/tm/m2") == std::optional<std::string>(R"({"time":3000})"));
  CHECK(fired_keys(c.commit({}, 2500)).empty());
  CHECK(fired_keys(c.commit({}, 3000)) == std::vector<std::string>{"m2"});
  CHECK_FALSE(c.get("tm", "c2").has_value());
}

TEST_CASE("a deadline and a transaction on the same key in one block: the deadline runs first") {
  Chain c;
  Sender a{key(10)};
  c.commit({a.tx("tm", "at", R"({"k":"k","t":1002})")}, 1001);
  // The block's transaction cancels k and then writes it; k was due, so it
  // fired first (its result follows the transactions'), and the cancel finds
  // nothing to cancel.
  auto ex = c.commit({a.tx("tm", "cancel", R"({"k":"k"})"), a.tx("tm", "touch", R"({"k":"k"})")}, 1002);
  CHECK(fired_keys(ex) == std::vector<std::string>{"k"});
  CHECK(ex.results[0].code() == 0);
  CHECK(c.get("tm", "k")->find("touched") != std::string::npos);
}

TEST_CASE("a failing deadline hook keeps no writes but leaves the schedule; a hook may schedule again") {
  Chain c;
  Sender a{key(10)};
  c.commit({a.tx("tm", "at", R"({"k":"fail1","t":1002})"), a.tx("tm", "at", R"({"k":"again","t":1002})")},
           1001);
  auto ex = c.commit({}, 1003);
  REQUIRE(ex.results.size() == 2);
  CHECK(ex.results[0].deadline()->key == "again");
  CHECK(ex.results[1].code() == 100);
  CHECK(ex.results[1].canonical() ==
        R"({"code":100,"deadline":{"app":"tm","key":"fail1","time":1002},"events":[]})");
  CHECK_FALSE(c.get("tm", "fail1").has_value());
  CHECK(c.exec->next_deadline().value() == std::optional<uint64_t>(1013));
  CHECK(fired_keys(c.commit({}, 1013)) == std::vector<std::string>{"again!"});
  CHECK(c.exec->next_deadline().value() == std::nullopt);
}

TEST_CASE("two executors replaying the same blocks agree on every root") {
  Chain c1, c2;
  Sender a{key(10)}, b{key(11)};
  std::vector<std::pair<std::vector<Transaction>, uint64_t>> blocks;
  blocks.push_back({{a.tx("tm", "at", R"({"k":"p","t":1003})"), a.tx("tm", "at", R"({"k":"q","t":1004})"),
                     b.tx("delegation", "grant",
                          R"({"delegate":")" + key(10).did() + R"(","scope":["tm"],"expires":5000})")},
                    1001});
  blocks.push_back({{a.tx("tm", "touch", R"({"k":"r"})", key(11).did())}, 1004});
  blocks.push_back({{}, 1010});
  for (const auto& [txs, t] : blocks) {
    auto e1 = c1.commit(txs, t);
    auto e2 = c2.commit(txs, t);
    CHECK(e1.results_root == e2.results_root);
    CHECK(e1.state_root == e2.state_root);
  }
}

TEST_CASE("a delegate acts for the principal within the grant's scope, until it expires or is revoked") {
  Chain c;
  Sender mother{key(20)}, daughter{key(21)}, stranger{key(22)};
  const std::string m = key(20).did(), d = key(21).did();
  // Without a grant: code 4, the delegate's nonce is still used.
  auto none = c.commit({daughter.tx("tm", "touch", R"({"k":"a"})", m)}, 1001);
  CHECK(none.results[0].code() == kCodeForbidden);
  CHECK(none.results[0].message().find("has not delegated") != std::string::npos);

  c.commit({mother.tx("delegation", "grant",
                      R"({"delegate":")" + d + R"(","scope":["tm/touch"],"expires":2000})")},
           1002);
  auto in_scope = c.commit({daughter.tx("tm", "touch", R"({"k":"a"})", m)}, 1003);
  CHECK(in_scope.results[0].code() == 0);
  CHECK(c.get("tm", "a") == std::optional<std::string>(R"({"by":")" + m + R"(","what":"touched"})"));
  CHECK(in_scope.txs[0].from() == d);
  CHECK(in_scope.txs[0].on_behalf_of() == m);

  auto out_of_scope = c.commit({daughter.tx("tm", "at", R"({"k":"b","t":9000})", m)}, 1004);
  CHECK(out_of_scope.results[0].code() == kCodeForbidden);
  CHECK(out_of_scope.results[0].message().find("does not cover tm/at") != std::string::npos);
  // Someone else cannot use the mother's grant to the daughter.
  CHECK(c.commit({stranger.tx("tm", "touch", R"({"k":"c"})", m)}, 1005).results[0].code() ==
        kCodeForbidden);
  // The delegation app itself is never delegated.
  CHECK(c.commit({daughter.tx("delegation", "revoke", R"({"delegate":")" + d + R"("})", m)}, 1006)
            .results[0]
            .code() == kCodeForbidden);

  // Revoked at once: the next transaction in the same block already fails.
  auto revoked = c.commit({mother.tx("delegation", "revoke", R"({"delegate":")" + d + R"("})"),
                           daughter.tx("tm", "touch", R"({"k":"d"})", m)},
                          1007);
  CHECK(revoked.results[0].code() == 0);
  CHECK(revoked.results[1].code() == kCodeForbidden);
  CHECK(c.commit({mother.tx("delegation", "revoke", R"({"delegate":")" + d + R"("})")}, 1008)
            .results[0]
            .code() == kCodeNotFound);

  // Expired: granted until 1100, used at 1100.
  c.commit({mother.tx("delegation", "grant",
                      R"({"delegate":")" + d + R"(","scope":["tm"],"expires":1100})")},
           1009);
  CHECK(c.commit({daughter.tx("tm", "touch", R"({"k":"e"})", m)}, 1050).results[0].code() == 0);
  auto expired = c.commit({daughter.tx("tm", "touch", R"({"k":"f"})", m)}, 1100);
  CHECK(expired.results[0].code() == kCodeForbidden);
  CHECK(expired.results[0].message().find("expired") != std::string::npos);
}

TEST_CASE("delegation grants: bad arguments name the field; queries list grants both ways") {
  Chain c;
  Sender p{key(30)};
  const std::string d = key(31).did();
  auto bad = c.commit({p.tx("delegation", "grant", R"({"delegate":"x","scope":["tm"],"expires":5000})"),
                       p.tx("delegation", "grant",
                            R"({"delegate":")" + d + R"(","scope":["delegation"],"expires":5000})"),
                       p.tx("delegation", "grant",
                            R"({"delegate":")" + d + R"(","scope":["tm"],"expires":10})"),
                       p.tx("delegation", "grant",
                            R"({"delegate":")" + key(30).did() + R"(","scope":["tm"],"expires":5000})"),
                       p.tx("delegation", "nope", "{}")},
                      1001);
  CHECK(bad.results[0].code() == kCodeBadArgs);
  CHECK(bad.results[0].message().find("delegate") != std::string::npos);
  CHECK(bad.results[1].code() == kCodeBadArgs);
  CHECK(bad.results[1].message().find("scope") != std::string::npos);
  CHECK(bad.results[2].code() == kCodeBadArgs);
  CHECK(bad.results[2].message().find("expires") != std::string::npos);
  CHECK(bad.results[3].code() == kCodeConflict);
  CHECK(bad.results[4].code() == kCodeUnknownOp);

  c.commit({p.tx("delegation", "grant", R"({"delegate":")" + d + R"(","scope":["tm"],"expires":5000})"),
            p.tx("delegation", "grant",
                 R"({"delegate":")" + key(32).did() + R"(","scope":["tm"],"expires":5000})")},
           1002);
  const App* app = c.exec->app("delegation");
  QueryParams by_principal{{"principal", key(30).did()}};
  auto page1 = app->query("granted", by_principal, "", 1, *c.index);
  REQUIRE(page1.is_ok());
  REQUIRE(page1->keys.size() == 1);
  REQUIRE_FALSE(page1->next.empty());
  auto page2 = app->query("granted", by_principal, page1->next, 1, *c.index);
  REQUIRE(page2.is_ok());
  REQUIRE(page2->keys.size() == 1);
  CHECK(page1->keys[0] != page2->keys[0]);
  auto page3 = app->query("granted", by_principal, page2->next, 1, *c.index);
  CHECK(page3->keys.empty());
  CHECK(page3->next.empty());
  auto held = app->query("held", {{"delegate", d}}, "", 10, *c.index);
  REQUIRE(held.is_ok());
  CHECK(held->keys == std::vector<std::string>{key(30).did() + "/" + d});
  CHECK(c.get("delegation", held->keys[0]).has_value());
  CHECK(app->query("held", {}, "", 10, *c.index).status().code() == "query.bad_param");
  CHECK(app->query("nope", {}, "", 10, *c.index).status().code() == "query.unknown");
}

TEST_CASE("an app that does not take delegation refuses transactions on behalf of someone") {
  Chain c(256, false);
  Sender p{key(40)}, d{key(41)};
  c.commit({p.tx("delegation", "grant",
                 R"({"delegate":")" + key(41).did() + R"(","scope":["tm"],"expires":5000})")},
           1001);
  auto ex = c.commit({d.tx("tm", "touch", R"({"k":"a"})", key(40).did())}, 1002);
  CHECK(ex.results[0].code() == kCodeForbidden);
  CHECK(ex.results[0].message().find("does not take") != std::string::npos);
}

TEST_CASE("a block on another parent than the committed head is refused, not run on the wrong schedule") {
  Chain c;
  Sender a{key(10)};
  c.commit({a.tx("tm", "at", R"({"k":"k","t":5000})")}, 1001);
  auto r = c.exec->execute(Hash32{}, c.ctx(1002), {});
  CHECK(r.status().code() == "exec.index_behind");
}

TEST_CASE("the index is rebuilt from the chain: the same entries, and pending deadlines still fire") {
  TempDir dir;
  auto store = std::move(Store::open(dir.path()).value());
  LevelDbNodeStore nodes(*store->db());
  StoreIndex index(*store);
  auto make_exec = [&] {
    std::vector<std::unique_ptr<App>> apps;
    apps.push_back(std::make_unique<TimerApp>());
    apps.push_back(std::make_unique<DelegationApp>());
    ExecutorOptions options;
    options.index = &index;
    return std::move(Executor::make(nodes, std::move(apps), options).value());
  };
  auto exec = make_exec();
  const std::string gtext = R"({"v":1,"chain":"imi-test","time":1000,"validators":[{"id":")" +
                            key(1).did() + R"(","key":")" + to_hex(key(1).public_key()) + R"("}]})";
  Genesis genesis = std::move(Genesis::parse(gtext).value());
  auto gb = exec->make_genesis(genesis);
  REQUIRE(gb.is_ok());
  REQUIRE(exec->commit(*store, gb->first, nullptr, gb->second).is_ok());
  Hash32 root = gb->second.state_root;
  Sender a{key(10)}, p{key(11)};
  auto commit = [&](std::vector<Transaction> txs, uint64_t h, uint64_t t) {
    BlockContext ctx{"imi-test", h, t, key(1).did()};
    auto ex = exec->execute(root, ctx, txs);
    REQUIRE(ex.is_ok());
    BlockHeader hd;
    hd.chain = "imi-test";
    hd.height = h;
    hd.prev = store->head()->block_id;
    hd.time_ms = t;
    hd.proposer = key(1).did();
    hd.results_root = ex->results_root;
    hd.state_root = ex->state_root;
    hd.validators = genesis.validators().hash();
    Block b = Block::make(hd, txs);
    CommitCertificate cert{h, 0, b.id(), {}};
    REQUIRE(exec->commit(*store, b, &cert, *ex).is_ok());
    root = ex->state_root;
    return std::move(ex).value();
  };
  commit({a.tx("tm", "at", R"({"k":"x","t":1003})"), a.tx("tm", "at", R"({"k":"y","t":5000})"),
          p.tx("delegation", "grant",
               R"({"delegate":")" + key(10).did() + R"(","scope":["tm"],"expires":9000})")},
         1, 1001);
  CHECK(fired_keys(commit({}, 2, 1004)) == std::vector<std::string>{"x"});
  auto before_deadlines = store->scan_index("deadline", "", "", 100).value();
  auto before_grants = store->scan_index("delegation", "", "", 100).value();
  REQUIRE(before_deadlines.size() == 2);  // y: its at/ and by/ entries
  REQUIRE(before_grants.size() == 2);

  REQUIRE(store->clear_index().is_ok());
  CHECK(store->scan_index("deadline", "", "", 100)->empty());
  auto fresh = make_exec();
  std::vector<uint64_t> done;
  REQUIRE(rebuild_index(*store, *fresh, genesis, [&](uint64_t h) { done.push_back(h); }).is_ok());
  CHECK(done == std::vector<uint64_t>{1, 2});
  CHECK(store->scan_index("deadline", "", "", 100).value() == before_deadlines);
  CHECK(store->scan_index("delegation", "", "", 100).value() == before_grants);
  exec = std::move(fresh);
  CHECK(fired_keys(commit({}, 3, 5000)) == std::vector<std::string>{"y"});
}
