// The Node in-process: admission, commit, proofs, restart.
#include "node/node.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <future>
#include <set>

#include "base/sha256.h"
#include "ledger/json.h"
#include "ledger/merkle.h"
#include "ledger/smt_proof.h"

namespace imi::node {
namespace {

namespace fs = std::filesystem;

struct TempHome {
  TempHome() {
    std::string t = "/tmp/imi-node-test-XXXXXX";
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    dir = t;
    REQUIRE(write_file_atomic(dir + "/pw", "secret\n", 0600));
    InitOptions o;
    o.home = dir;
    o.chain_id = "node-test";
    o.password = "secret";
    o.password_file = "pw";
    o.api_listen = "127.0.0.1:0";
    REQUIRE(init_home(o));
  }
  ~TempHome() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::unique_ptr<Node> open(std::function<void(Home&)> tune = nullptr) {
    auto home = load_home(dir);
    REQUIRE(home);
    if (tune) tune(*home);
    auto n = Node::open(std::move(*home));
    REQUIRE(n);
    REQUIRE((*n)->start());
    for (int i = 0; i < 200 && !(*n)->ready(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::move(*n);
  }
  std::string dir;
};

Result<api::TxAdmission> submit(Node& n, const std::string& body) {
  std::promise<Result<api::TxAdmission>> p;
  n.submit_tx(body, [&](Result<api::TxAdmission> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

api::JsonReply wait_commit(Node& n, const std::string& id) {
  std::promise<api::JsonReply> p;
  auto owner = std::make_shared<int>(0);
  n.watch_tx(id, owner, [&](api::JsonReply r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

ledger::Transaction anchor(const identity::KeyPair& k, uint64_t nonce, char fill,
                           const std::string& chain = "node-test") {
  auto args = ledger::parse_strict("{\"hash\":\"" + std::string(64, fill) + "\"}");
  return *ledger::make_transaction(k, chain, nonce, "anchor", "anchor", *args);
}

TEST_CASE("init writes a complete home and refuses to overwrite it") {
  TempHome h;
  CHECK(fs::exists(h.dir + "/imid.conf"));
  CHECK(fs::exists(h.dir + "/genesis.json"));
  CHECK(fs::exists(h.dir + "/validator.key"));
  InitOptions again;
  again.home = h.dir;
  again.password = "x";
  CHECK(init_home(again).code() == "node.home_exists");
  auto home = load_home(h.dir);
  REQUIRE(home);
  CHECK(home->genesis.chain() == "node-test");
  CHECK(home->genesis.validators().find(home->key.did()) != nullptr);
}

TEST_CASE("a submitted transaction commits with a verifiable inclusion and state proof") {
  TempHome h;
  auto node = h.open();
  auto key = identity::KeyPair::generate();
  auto tx = anchor(key, 0, 'b');
  auto admitted = submit(*node, tx.canonical());
  REQUIRE(admitted);
  CHECK(admitted->id == tx.id_hex());
  // Resubmitting gives the same id.
  auto again = submit(*node, tx.canonical());
  REQUIRE_MESSAGE(again, again.status().to_string());
  CHECK(again->id == tx.id_hex());

  auto body = wait_commit(*node, tx.id_hex());
  REQUIRE(body);
  auto doc = ledger::parse_strict(*body);
  REQUIRE(doc);
  CHECK(std::string((*doc)["status"].GetString()) == "committed");
  const auto& proof = (*doc)["proof"];
  std::vector<Hash32> path;
  for (const auto& p : proof["audit_path"].GetArray())
    path.push_back(*from_hex_fixed<32>(p.GetString()));
  auto root = *from_hex_fixed<32>(proof["root"].GetString());
  CHECK(ledger::verify_leaf_inclusion(tx.id(), proof["index"].GetUint64(),
                                      proof["tree_size"].GetUint64(), path, root));
  // The block's txs_root is that root.
  auto block = node->get_block((*doc)["height"].GetUint64());
  REQUIRE(block);
  auto bdoc = ledger::parse_strict(*block);
  CHECK(std::string((*bdoc)["header"]["txs_root"].GetString()) == to_hex(root));
  CHECK((*bdoc)["certificate"].IsObject());

  // The anchor record with its proof against the state root.
  auto state = node->get_state("anchor", std::string(64, 'b'));
  REQUIRE(state);
  auto sdoc = ledger::parse_strict(*state);
  auto sroot = *from_hex_fixed<32>((*sdoc)["state_root"].GetString());
  auto sproof = ledger::state_proof_from_json(ledger::jcs((*sdoc)["proof"]));
  REQUIRE(sproof);
  const std::string value = ledger::jcs((*sdoc)["value"]);
  CHECK(ledger::verify_state_proof(sroot, "anchor", std::string(64, 'b'), value, *sproof));
  // An absent key proves absence.
  auto absent = ledger::parse_strict(*node->get_state("anchor", std::string(64, 'c')));
  CHECK((*absent)["value"].IsNull());
  // The account's next nonce is readable (the CLI uses it).
  auto acct = ledger::parse_strict(*node->get_state("account", key.did()));
  CHECK((*acct)["value"]["nonce"].GetUint64() == 1);
  CHECK(node->get_state("nosuch", "k").status().code() == "state.unknown_app");
}

TEST_CASE("admission errors carry stable codes and rejected ids remember why") {
  TempHome h;
  auto node = h.open();
  auto key = identity::KeyPair::generate();
  CHECK(submit(*node, "{").status().code() == "json.syntax");
  CHECK(submit(*node, anchor(key, 0, 'd', "other-chain").canonical()).status().code() ==
        "tx.wrong_chain");
  // Nonce 5 of a new account: the first transaction must use nonce 0, and
  // the pool takes only a sender's next nonce (nothing can be parked there
  // that never becomes ready).
  auto ahead = submit(*node, anchor(key, 5, 'd').canonical());
  CHECK(ahead.status().code() == "tx.nonce_gap");
  CHECK(ahead.status().message().find("next nonce is 0") != std::string::npos);
  auto args = ledger::parse_strict("{}");
  auto unknown = *ledger::make_transaction(key, "node-test", 0, "nosuch", "op", *args);
  CHECK(submit(*node, unknown.canonical()).status().code() == "tx.unknown_app");
  auto badop = *ledger::make_transaction(key, "node-test", 0, "anchor", "nope", *args);
  CHECK(submit(*node, badop.canonical()).status().code() == "tx.unknown_op");
  auto rejected = ledger::parse_strict(*node->get_tx(badop.id_hex()));
  CHECK(std::string((*rejected)["status"].GetString()) == "rejected");
  CHECK(std::string((*rejected)["reason"]["code"].GetString()) == "tx.unknown_op");
  // Someone else's key for this account: the first transaction must come from did(key).
  auto other = identity::KeyPair::generate();
  auto forged = *ledger::make_transaction_from(
      other, key.did(), "node-test", 0, "anchor", "anchor",
      *ledger::parse_strict("{\"hash\":\"" + std::string(64, 'e') + "\"}"));
  CHECK(submit(*node, forged.canonical()).status().code() == "tx.key_mismatch");
  CHECK(node->get_tx(std::string(64, '0')).status().code() == "tx.not_found");
  CHECK(node->get_block(999).status().code() == "block.not_found");
}

TEST_CASE("watchers of requests that ended are swept when the cap is reached") {
  TempHome h;
  auto node = h.open();
  const uint64_t far = 9007199254740991;  // never reached
  const std::string id(64, '7');          // never submitted
  {
    auto gone = std::make_shared<int>(0);
    for (int i = 0; i < 20000; ++i) node->watch_height(far, gone, [] {});
    for (int i = 0; i < 200000; ++i) node->watch_tx(id, gone, [](api::JsonReply) {});
  }  // those requests ended
  // Room again: new ones wait instead of being answered at once.
  auto live = std::make_shared<int>(0);
  bool height_called = false;
  std::optional<api::JsonReply> tx_answer;
  node->watch_height(far, live, [&] { height_called = true; });
  node->watch_tx(id, live, [&](api::JsonReply r) { tx_answer = std::move(r); });
  CHECK(!height_called);
  CHECK(!tx_answer);
  // A cap held by live requests: a new one is answered at once.
  for (int i = 1; i < 20000; ++i) node->watch_height(far, live, [] {});
  for (int i = 1; i < 200000; ++i) node->watch_tx(id, live, [](api::JsonReply) {});
  bool over_called = false;
  node->watch_height(far, live, [&] { over_called = true; });
  CHECK(over_called);
  std::optional<api::JsonReply> over_tx;
  node->watch_tx(id, live, [&](api::JsonReply r) { over_tx = std::move(r); });
  REQUIRE(over_tx);
  CHECK(over_tx->status().code() == "node.watchers_full");
  // Those requests end later: after an eighth of the cap of refusals the
  // node sweeps again and has room (it does not stop sweeping for good).
  live.reset();
  auto later = std::make_shared<int>(0);
  bool waited = false;
  for (int i = 0; i < 20000 / 8 + 1 && !waited; ++i) {
    bool called = false;
    node->watch_height(far, later, [&] { called = true; });
    waited = !called;
  }
  CHECK(waited);
}

TEST_CASE("a page of blocks stops at page_bytes_max, with the cursor where it stopped") {
  TempHome h;
  const size_t budget = 64 * 1024;
  auto node = h.open([&](Home& home) { home.config.api.page_bytes_max = budget; });
  // ~100 blocks of one anchor with a 256-byte note (~1 KB each).
  auto key = identity::KeyPair::generate();
  const std::string note(256, 'n');
  for (uint64_t nonce = 0; nonce < 100; ++nonce) {
    auto args = ledger::parse_strict("{\"hash\":\"" + to_hex(imi::sha256(std::to_string(nonce))) +
                                     "\",\"note\":\"" + note + "\"}");
    auto tx = *ledger::make_transaction(key, "node-test", nonce, "anchor", "anchor", *args);
    REQUIRE(submit(*node, tx.canonical()));
    REQUIRE(wait_commit(*node, tx.id_hex()));
  }
  const uint64_t top = node->head_height();
  REQUIRE(top >= 100);
  auto page = node->list_blocks(1, 100);
  REQUIRE(page);
  size_t bytes = 0;
  for (const auto& b : page->blocks) bytes += b.size();
  CHECK(page->blocks.size() < 100);  // the budget ended the page, not `limit`
  CHECK(bytes >= budget);
  CHECK(bytes - page->blocks.back().size() < budget);
  REQUIRE(page->next);
  CHECK(*page->next == 1 + page->blocks.size());
  // Following the cursor reaches every block exactly once.
  uint64_t seen = page->blocks.size(), next = *page->next;
  while (true) {
    auto more = node->list_blocks(next, 100);
    REQUIRE(more);
    seen += more->blocks.size();
    if (!more->next) break;
    CHECK(*more->next == next + more->blocks.size());
    next = *more->next;
  }
  CHECK(seen == top);
  // From the last block: that block, and no cursor.
  auto one = node->list_blocks(top, 100);
  REQUIRE(one);
  CHECK(one->blocks.size() == 1);
  CHECK(!one->next);
}

TEST_CASE("a restarted node keeps every committed transaction and continues the chain") {
  TempHome h;
  auto key = identity::KeyPair::generate();
  std::vector<std::string> ids;
  {
    auto node = h.open();
    for (uint64_t n = 0; n < 5; ++n) {
      auto tx = anchor(key, n, static_cast<char>('a' + n));
      REQUIRE(submit(*node, tx.canonical()));
      ids.push_back(tx.id_hex());
    }
    for (const auto& id : ids) REQUIRE(wait_commit(*node, id));
    node->shutdown();
  }
  auto node = h.open();
  for (const auto& id : ids) {
    auto body = node->get_tx(id);
    REQUIRE(body);
    CHECK(body->find("\"committed\"") != std::string::npos);
  }
  auto next = anchor(key, 5, 'f');
  REQUIRE(submit(*node, next.canonical()));
  CHECK(wait_commit(*node, next.id_hex())->find("\"committed\"") != std::string::npos);
  auto status = ledger::parse_strict(*node->status());
  CHECK((*status)["height"].GetUint64() >= 2);
  CHECK(node->metrics_text().find("imi_txs_admitted_total 1") != std::string::npos);
}

TEST_CASE("DID resolution and presentation verification read the committed state") {
  TempHome h;
  auto node = h.open();
  // A well-formed DID nobody registered (the router rejects malformed ones).
  const auto unknown = node->get_did(identity::KeyPair::generate().did());
  REQUIRE(!unknown);
  CHECK(unknown.status().code() == "did.not_found");

  // A presentation that is not an SD-JWT is an answer with failed checks,
  // not an error: the verifier learns which check failed.
  auto garbage = node->verify_presentation(
      R"({"presentation":"not-a-jwt~","audience":"dept","nonce":"n1","max_age_s":60})");
  REQUIRE_MESSAGE(garbage, garbage.status().to_string());
  auto doc = ledger::parse_strict(*garbage);
  REQUIRE(doc);
  CHECK(!(*doc)["ok"].GetBool());
  REQUIRE((*doc)["checks"].IsArray());
  REQUIRE((*doc)["checks"].Size() > 0);
  CHECK(!(*doc)["checks"][0]["ok"].GetBool());

  // A body that breaks the schema is a json.* error (a 400 problem).
  for (const char* body : {"not json", "{}", R"({"presentation":"x~","audience":"a"})",
                           R"({"presentation":1,"audience":"a","nonce":"n"})",
                           R"({"presentation":"x~","audience":"a","nonce":"n","extra":1})",
                           R"({"presentation":"x~","audience":"a","nonce":"n","max_age_s":0})",
                           R"({"presentation":"x~","audience":"a","nonce":"n","max_age_s":1.5})"}) {
    CAPTURE(body);
    auto r = node->verify_presentation(body);
    REQUIRE(!r);
    CHECK(r.status().code().starts_with("json."));
  }
}

}  // namespace
}  // namespace imi::node

TEST_CASE("validators' LevelDB memtables are 3 to 5 MiB, evenly spaced by place; others by key") {
  // Validators write the same entries at the same blocks: equal memtables
  // made all of them flush and compact at the same moment, which stalled
  // the chain (node.cc). Sizes stay in the range measured for commit CPU,
  // are the same for a node at every start, and differ between validators.
  std::vector<imi::ledger::Validator> vs;
  std::vector<imi::identity::KeyPair> keys;
  for (uint8_t seed = 1; seed <= 7; ++seed) {
    imi::identity::Seed s{};
    s.fill(seed);
    keys.push_back(imi::identity::KeyPair::from_seed(s));
    vs.push_back({keys.back().did(), keys.back().public_key()});
  }
  auto set = imi::ledger::ValidatorSet::make(vs);
  REQUIRE(set.is_ok());
  std::set<size_t> sizes;
  for (const auto& k : keys) {
    const size_t bytes =
        imi::node::store_options_for(k.public_key(), *set, k.did()).write_buffer_bytes;
    CHECK(bytes >= (size_t{3} << 20));
    CHECK(bytes < (size_t{5} << 20));
    CHECK(bytes % (64 << 10) == 0);
    CHECK(imi::node::store_options_for(k.public_key(), *set, k.did()).write_buffer_bytes == bytes);
    sizes.insert(bytes);
  }
  // Seven validators, seven sizes, at least 4 steps (256 KiB) apart.
  REQUIRE(sizes.size() == 7);
  for (auto it = std::next(sizes.begin()); it != sizes.end(); ++it)
    CHECK(*it - *std::prev(it) >= (256u << 10));
  // A lone validator keeps the 4 MiB measured best for commit CPU (ledger/store.h).
  auto one = imi::ledger::ValidatorSet::make({vs[0]});
  REQUIRE(one.is_ok());
  CHECK(
      imi::node::store_options_for(keys[0].public_key(), *one, keys[0].did()).write_buffer_bytes ==
      (size_t{4} << 20));
  // A node outside the set (an observer) still gets a size in the range.
  imi::identity::Seed other{};
  other.fill(99);
  const auto observer = imi::identity::KeyPair::from_seed(other);
  const size_t bytes =
      imi::node::store_options_for(observer.public_key(), *set, observer.did()).write_buffer_bytes;
  CHECK(bytes >= (size_t{3} << 20));
  CHECK(bytes < (size_t{5} << 20));
}
