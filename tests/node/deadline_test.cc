// Deadlines on a live single-validator node: an idle chain cuts an empty
// block when a deadline is due (and none otherwise), the fired deadline's
// result is served with the block and in the event stream, and app queries
// answer proven values at one root.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <unistd.h>

#include "ledger/json.h"
#include "ledger/smt_proof.h"
#include "node/node.h"

namespace imi::node {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A test app: "set" {"key","at"} schedules deadline `key` at block time
// `at`; firing it writes "fired/<key>" = {"at","key"} and emits an event
// shaped like the share app's urgent_help (skill, cells).
class TimerApp : public ledger::App {
 public:
  std::string_view name() const override { return "timer"; }
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext&,
                                  const ledger::StateReader&) const override {
    if (tx.op() != "set") return ledger::TxOutcome::fail(ledger::kCodeUnknownOp, "no such op");
    return ledger::TxOutcome::success();
  }
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override {
    auto c = check(tx, ctx, state);
    if (!c || !c->ok()) return c;
    auto key = ledger::get_string(tx.args(), "key");
    auto at = ledger::get_uint(tx.args(), "at");
    if (!key || !at) return ledger::TxOutcome::fail(ledger::kCodeBadArgs, "key, at");
    IMI_RETURN_IF_ERROR(state.schedule(*key, *at));
    return ledger::TxOutcome::success();
  }
  Result<ledger::TxOutcome> on_deadline(std::string_view key, const ledger::BlockContext& ctx,
                                        ledger::AppState& state) const override {
    auto value = ledger::parse_strict("{\"at\":" + std::to_string(ctx.time_ms) + ",\"key\":\"" +
                                      std::string(key) + "\"}");
    IMI_RETURN_IF_ERROR(state.put("timer", "fired/" + std::string(key), *value));
    auto event = ledger::parse_strict(
        "{\"cells\":[\"r1c1\",\"r1c2\"],\"skill\":\"aed\",\"type\":\"fired\",\"key\":\"" +
        std::string(key) + "\"}");
    state.emit(*event);
    return ledger::TxOutcome::success();
  }
  bool indexed() const override { return true; }
  Result<ledger::QueryPage> query(std::string_view name, const ledger::QueryParams& params,
                                  std::string_view cursor, size_t limit,
                                  const ledger::IndexReader& index) const override {
    if (name != "fired") return Status::error("query.unknown", "no such query");
    if (!params.empty()) return Status::error("query.bad_param", params.begin()->first);
    return ledger::scan_query(index, "timer", "fired/", cursor, limit);
  }
  std::vector<std::string> query_names() const override { return {"fired"}; }
};

struct TimerHome {
  TimerHome() {
    std::string t = "/tmp/imi-deadline-test-XXXXXX";
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    dir = t;
    REQUIRE(write_file_atomic(dir + "/pw", "secret\n", 0600));
    InitOptions o;
    o.home = dir;
    o.chain_id = "deadline-test";
    o.password = "secret";
    o.password_file = "pw";
    o.api_listen = "127.0.0.1:0";
    REQUIRE(init_home(o));
  }
  ~TimerHome() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::unique_ptr<Node> open() {
    auto home = load_home(dir);
    REQUIRE(home);
    auto n = Node::open(std::move(*home), [] {
      auto apps = make_apps();
      apps.push_back(std::make_unique<TimerApp>());
      return apps;
    });
    REQUIRE_MESSAGE(n, n.status().to_string());
    REQUIRE((*n)->start());
    for (int i = 0; i < 200 && !(*n)->ready(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::move(*n);
  }
  std::string dir;
};

// Submits timer.set and waits until it commits; answers its height.
uint64_t set_timer(Node& n, const identity::KeyPair& k, uint64_t nonce, const std::string& key,
                   uint64_t at) {
  auto args = ledger::parse_strict("{\"at\":" + std::to_string(at) + ",\"key\":\"" + key + "\"}");
  auto tx = ledger::make_transaction(k, "deadline-test", nonce, "timer", "set", *args);
  REQUIRE(tx);
  std::promise<Result<api::TxAdmission>> admitted;
  n.submit_tx(tx->canonical(), [&](Result<api::TxAdmission> r) { admitted.set_value(r); });
  auto admission = admitted.get_future().get();
  REQUIRE_MESSAGE(admission, admission.status().to_string());
  std::promise<api::JsonReply> committed;
  auto owner = std::make_shared<int>(0);
  n.watch_tx(tx->id_hex(), owner, [&](api::JsonReply r) { committed.set_value(std::move(r)); });
  auto body = committed.get_future().get();
  REQUIRE(body);
  auto doc = ledger::parse_strict(*body);
  REQUIRE(std::string((*doc)["status"].GetString()) == "committed");
  REQUIRE((*doc)["result"]["code"].GetInt() == 0);
  return (*doc)["height"].GetUint64();
}

// Polls until the head is at least `height` or `ms` passed; answers the head.
uint64_t wait_height(Node& n, uint64_t height, int ms) {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  while (n.head_height() < height && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return n.head_height();
}

rapidjson::Document block_doc(Node& n, uint64_t height) {
  auto body = n.get_block(height);
  REQUIRE(body);
  auto doc = ledger::parse_strict(*body);
  REQUIRE(doc);
  return std::move(*doc);
}

TEST_CASE("an idle chain cuts an empty block when a deadline is due, and none otherwise") {
  TimerHome h;
  auto node = h.open();
  // Nothing pending: no empty blocks (the chain stays at genesis).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(node->head_height() == 0);

  auto key = identity::KeyPair::generate();
  const uint64_t at = wall_ms() + 1500;
  const uint64_t set_height = set_timer(*node, key, 0, "k1", at);
  CHECK(set_height == 1);
  // Before the deadline nothing is cut.
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(at) - static_cast<int64_t>(wall_ms()) - 300));
  CHECK(node->head_height() == set_height);

  // It fires within about one empty_block_period (1000 ms) of its time.
  const uint64_t fired_height = wait_height(*node, set_height + 1, 1300 + 1000);
  REQUIRE(fired_height == set_height + 1);
  const uint64_t seen_ms = wall_ms();
  CHECK(seen_ms < at + 1000);
  auto b = block_doc(*node, fired_height);
  CHECK(b["header"]["tx_count"].GetUint64() == 0);
  CHECK(b["txs"].Size() == 0);
  CHECK(b["header"]["time"].GetUint64() >= at);
  REQUIRE(b["deadlines"].Size() == 1);
  const auto& d = b["deadlines"][0];
  CHECK(std::string(d["app"].GetString()) == "timer");
  CHECK(std::string(d["key"].GetString()) == "k1");
  CHECK(d["time"].GetUint64() == at);
  CHECK(d["code"].GetInt() == 0);
  CHECK(d["position"].GetUint64() == 0);  // tx_count + 0
  CHECK(std::string(d["events"][0]["type"].GetString()) == "fired");
  // The block that scheduled it lists no deadline.
  CHECK(block_doc(*node, set_height)["deadlines"].Size() == 0);

  // The event stream: the deadline, and the skill / cell filters over events.
  auto all = node->block_events(fired_height, {});
  REQUIRE(all);
  CHECK(all->matched == 1);
  auto ev = ledger::parse_strict(all->json);
  REQUIRE(ev);
  CHECK(std::string((*ev)["deadlines"][0]["key"].GetString()) == "k1");
  CHECK((*ev)["txs"].Size() == 0);
  CHECK(node->block_events(fired_height, {"timer", "aed", "r1c2"})->matched == 1);
  CHECK(node->block_events(fired_height, {"", "", "r1c1"})->matched == 1);
  CHECK(node->block_events(fired_height, {"anchor", "", ""})->matched == 0);
  CHECK(node->block_events(fired_height, {"", "cpr", ""})->matched == 0);
  CHECK(node->block_events(fired_height, {"", "aed", "r9c9"})->matched == 0);
  // The transaction that set it has no such event: a skill filter drops it.
  CHECK(node->block_events(set_height, {"timer", "", ""})->matched == 1);
  CHECK(node->block_events(set_height, {"timer", "aed", ""})->matched == 0);

  // Fired and gone: the chain is idle again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(node->head_height() == fired_height);
}

TEST_CASE("app queries answer each key with its value and proof at one state root") {
  TimerHome h;
  auto node = h.open();
  auto key = identity::KeyPair::generate();
  // Deadlines already due fire in the next block (an empty one).
  const uint64_t at = wall_ms();
  set_timer(*node, key, 0, "a", at);
  set_timer(*node, key, 1, "b", at);
  set_timer(*node, key, 2, "c", at);
  REQUIRE(wait_height(*node, 4, 3000) >= 4);
  // Let the fired deadlines commit (each set fires by the following block).
  for (int i = 0; i < 300; ++i) {
    auto s = node->get_state("timer", "fired/c");
    REQUIRE(s);
    if (s->find("\"value\":null") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  api::AppQuery q;
  q.app = "timer";
  q.query = "fired";
  q.limit = 2;
  auto page = node->app_query(q);
  REQUIRE_MESSAGE(page, page.status().to_string());
  auto doc = ledger::parse_strict(*page);
  REQUIRE(doc);
  CHECK(std::string((*doc)["app"].GetString()) == "timer");
  CHECK(std::string((*doc)["query"].GetString()) == "fired");
  const auto root = *from_hex_fixed<32>((*doc)["state_root"].GetString());
  const auto& items = (*doc)["items"];
  REQUIRE(items.Size() == 2);
  CHECK(std::string(items[0]["key"].GetString()) == "fired/a");
  CHECK(std::string(items[1]["key"].GetString()) == "fired/b");
  for (const auto& item : items.GetArray()) {
    auto proof = ledger::state_proof_from_json(ledger::jcs(item["proof"]));
    REQUIRE(proof);
    CHECK(ledger::verify_state_proof(root, "timer", item["key"].GetString(),
                                     ledger::jcs(item["value"]), *proof));
  }
  REQUIRE((*doc)["next"].IsString());
  q.cursor = (*doc)["next"].GetString();
  auto next = ledger::parse_strict(*node->app_query(q));
  REQUIRE((*next)["items"].Size() == 1);
  CHECK(std::string((*next)["items"][0]["key"].GetString()) == "fired/c");
  CHECK((*next)["next"].IsNull());

  q.cursor.clear();
  q.params["x"] = "1";
  CHECK(node->app_query(q).status().code() == "query.bad_param");
  q.params.clear();
  q.query = "nosuch";
  auto unknown = node->app_query(q);
  CHECK(unknown.status().code() == "query.unknown");
  CHECK(unknown.status().message().find("its queries: fired") != std::string::npos);
  q.app = "anchor";
  CHECK(node->app_query(q).status().code() == "query.unknown");
  q.app = "nosuch";
  CHECK(node->app_query(q).status().code() == "query.unknown_app");
  // The built-in delegation app is on every chain and answers its queries.
  q.app = "delegation";
  q.query = "granted";
  q.params["principal"] = key.did();
  auto granted = node->app_query(q);
  REQUIRE_MESSAGE(granted, granted.status().to_string());
  CHECK((*ledger::parse_strict(*granted))["items"].Size() == 0);
}

TEST_CASE("a deadline scheduled before a restart fires after it") {
  TimerHome h;
  auto key = identity::KeyPair::generate();
  uint64_t at = 0;
  uint64_t set_height = 0;
  {
    auto node = h.open();
    at = wall_ms() + 800;
    set_height = set_timer(*node, key, 0, "late", at);
    node->shutdown();
  }
  auto node = h.open();
  REQUIRE(wait_height(*node, set_height + 1, 3000) == set_height + 1);
  auto b = block_doc(*node, set_height + 1);
  REQUIRE(b["deadlines"].Size() == 1);
  CHECK(std::string(b["deadlines"][0]["key"].GetString()) == "late");
}

// Four validators with the timer app, in this process (`port_slot` keeps
// two networks of one test binary apart).
std::vector<std::unique_ptr<Node>> start_four(const TimerHome& scratch, uint16_t port_slot) {
  TestnetOptions o;
  o.out = scratch.dir + "/net";
  o.chain_id = "deadline-test";
  o.validators = 4;
  const uint16_t base =
      static_cast<uint16_t>(30000 + (::getpid() % 1000) * 16 + port_slot * 8);
  o.api_base_port = base;
  o.p2p_base_port = static_cast<uint16_t>(base + 4);
  auto homes = init_testnet(o);
  REQUIRE(homes);
  std::vector<std::unique_ptr<Node>> nodes;
  for (const TestnetNode& t : *homes) {
    auto home = load_home(t.home);
    REQUIRE(home);
    auto n = Node::open(std::move(*home), [] {
      auto apps = make_apps();
      apps.push_back(std::make_unique<TimerApp>());
      return apps;
    });
    REQUIRE_MESSAGE(n, n.status().to_string());
    REQUIRE((*n)->start());
    nodes.push_back(std::move(*n));
  }
  // start() returns before the node admits transactions (node.not_ready).
  for (auto& n : nodes)
    for (int i = 0; i < 400 && !n->ready(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return nodes;
}

std::string status_field(Node& n, const char* field) {
  auto body = n.status();
  REQUIRE(body);
  auto doc = ledger::parse_strict(*body);
  REQUIRE(doc);
  return (*doc)[field].GetString();
}

TEST_CASE("four validators: the primary's empty deadline block is validated and committed by all") {
  TimerHome scratch;  // a temporary directory for the testnet
  auto nodes = start_four(scratch, 0);
  auto key = identity::KeyPair::generate();
  const uint64_t at = wall_ms() + 1000;
  const uint64_t set_height = set_timer(*nodes[1], key, 0, "q", at);
  for (auto& n : nodes) REQUIRE(wait_height(*n, set_height + 1, 6000) >= set_height + 1);
  // Every validator committed the same empty block with the fired deadline.
  std::string id;
  for (auto& n : nodes) {
    auto b = block_doc(*n, set_height + 1);
    CHECK(b["header"]["tx_count"].GetUint64() == 0);
    REQUIRE(b["deadlines"].Size() == 1);
    CHECK(std::string(b["deadlines"][0]["key"].GetString()) == "q");
    CHECK(b["header"]["time"].GetUint64() >= at);
    if (id.empty()) id = b["id"].GetString();
    CHECK(id == b["id"].GetString());
  }
  for (auto& n : nodes) n->shutdown();
}

TEST_CASE("four validators, idle: a deadline due while the primary is down fires after a view change") {
  TimerHome scratch;
  auto nodes = start_four(scratch, 1);
  const std::string primary = status_field(*nodes[0], "primary");
  size_t down = nodes.size();
  for (size_t i = 0; i < nodes.size(); ++i)
    if (status_field(*nodes[i], "node") == primary) down = i;
  REQUIRE(down < nodes.size());
  const size_t other = (down + 1) % nodes.size();
  auto key = identity::KeyPair::generate();
  const uint64_t at = wall_ms() + 1500;
  const uint64_t set_height = set_timer(*nodes[other], key, 0, "late", at);
  for (auto& n : nodes) REQUIRE(wait_height(*n, set_height, 6000) >= set_height);
  // The primary stops before the deadline and nothing else is sent: only the
  // overdue deadline itself can make the others change view.
  nodes[down]->shutdown();
  const uint64_t got = wait_height(*nodes[other], set_height + 1, 20000);
  REQUIRE(got >= set_height + 1);
  auto b = block_doc(*nodes[other], set_height + 1);
  CHECK(b["header"]["tx_count"].GetUint64() == 0);
  REQUIRE(b["deadlines"].Size() == 1);
  CHECK(std::string(b["deadlines"][0]["key"].GetString()) == "late");
  CHECK(std::string(b["header"]["proposer"].GetString()) != primary);
  auto st = ledger::parse_strict(*nodes[other]->status());
  REQUIRE(st);
  CHECK((*st)["view"].GetUint64() > 0);
  for (size_t i = 0; i < nodes.size(); ++i)
    if (i != down) nodes[i]->shutdown();
}

}  // namespace
}  // namespace imi::node
