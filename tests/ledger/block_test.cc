#include <doctest/doctest.h>

#include <map>

#include "base/sha256.h"
#include "ledger/block.h"
#include "ledger/json.h"
#include "ledger/validators.h"
#include "tests/vectors/vector_common.h"

using namespace imi;
using namespace imi::ledger;
using identity::KeyPair;
using vectors::sv;

namespace {

rapidjson::Document json(std::string_view text) {
  auto r = parse_strict(text);
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// A mempool stand-in: transactions by (from, nonce), counting lookups.
class FakeKnown : public KnownTxs {
 public:
  void add(const Transaction& tx) { txs_.insert_or_assign({tx.from(), tx.nonce()}, tx); }
  std::optional<Transaction> find_known(const std::string& from, uint64_t nonce) const override {
    ++lookups;
    auto it = txs_.find({from, nonce});
    if (it == txs_.end()) return std::nullopt;
    return it->second;
  }
  mutable int lookups = 0;

 private:
  std::map<std::pair<std::string, uint64_t>, Transaction> txs_;
};

}  // namespace

TEST_CASE("blocks.json: validator sets hash, count and rotate as pinned") {
  rapidjson::Document v = vectors::load("blocks.json");
  REQUIRE(v.IsObject());
  for (const auto& c : v["validator_sets"].GetArray()) {
    INFO(sv(c["name"]));
    auto set = ValidatorSet::from_json(c["input"]);
    REQUIRE(set.is_ok());
    CHECK(set->canonical() == sv(c["canonical"]));
    CHECK(to_hex(set->hash()) == sv(c["hash"]));
    CHECK(set->canonical() == jcs(json(set->canonical())));
    CHECK(set->n() == c["n"].GetUint64());
    CHECK(set->f() == c["f"].GetUint64());
    CHECK(set->q() == c["q"].GetUint64());
    for (rapidjson::SizeType view = 0; view < c["primary"].Size(); ++view)
      CHECK(set->primary(view).id == sv(c["primary"][view]));
    for (const auto& m : c["input"].GetArray()) {
      const Validator* found = set->find(sv(m["id"]));
      REQUIRE(found != nullptr);
      CHECK(to_hex(found->key) == sv(m["key"]));
    }
  }
}

TEST_CASE("blocks.json: result records and their root") {
  rapidjson::Document v = vectors::load("blocks.json");
  REQUIRE(v.IsObject());
  for (const auto& c : v["results"].GetArray()) {
    INFO(sv(c["name"]));
    std::vector<TxResult> rs;
    for (rapidjson::SizeType i = 0; i < c["results"].Size(); ++i) {
      auto r = TxResult::from_json(c["results"][i], "free text");
      REQUIRE(r.is_ok());
      CHECK(r->canonical() == sv(c["leaves"][i]));
      rs.push_back(std::move(r).value());
    }
    CHECK(to_hex(compute_results_root(rs)) == sv(c["root"]));
  }
}

TEST_CASE("blocks.json: header ids and every block accepted or rejected with its code") {
  rapidjson::Document v = vectors::load("blocks.json");
  REQUIRE(v.IsObject());
  for (const auto& c : v["headers"].GetArray()) {
    INFO(sv(c["name"]));
    auto h = BlockHeader::from_json(c["header"]);
    REQUIRE(h.is_ok());
    CHECK(h->canonical() == sv(c["canonical"]));
    CHECK(to_hex(h->id()) == sv(c["id"]));
  }
  REQUIRE(v["blocks"].Size() >= 15);
  for (const auto& c : v["blocks"].GetArray()) {
    INFO(sv(c["name"]));
    std::string_view want = c.HasMember("error") ? sv(c["error"]) : "";
    CHECK(vectors::check_block(sv(c["text"])).code() == want);
    if (!want.empty()) continue;
    auto b = Block::decode(sv(c["text"]), vectors::limits());
    REQUIRE(b.is_ok());
    CHECK(to_hex(b->id()) == sv(c["id"]));
    CHECK(b->canonical() == sv(c["text"]));
    CHECK(b->canonical_size() == b->canonical().size());
    REQUIRE(b->txs().size() == c["tx_ids"].Size());
    for (size_t i = 0; i < b->txs().size(); ++i)
      CHECK(b->txs()[i].id_hex() == sv(c["tx_ids"][static_cast<rapidjson::SizeType>(i)]));
  }
}

TEST_CASE("the result message is never hashed") {
  auto a = TxResult::of_code(4, "nonce too low");
  auto b = TxResult::of_code(4, "the nonce was already used");
  CHECK(a.canonical() == b.canonical());
  CHECK(a.canonical() == "{\"code\":4,\"events\":[]}");
  CHECK(a.message() != b.message());
  rapidjson::Document events;
  events.SetArray();
  events.PushBack(0.5, events.GetAllocator());
  CHECK(TxResult::make(0, events).status().code() == "result.bad_events");
  CHECK(TxResult::decode(R"({"code":0})").status().code() == "result.missing_field");
  CHECK(TxResult::decode(R"({"code":"0","events":[]})").status().code() == "result.bad_code");
}

TEST_CASE("Block::make fills tx_count and txs_root; the empty root is SHA-256 of nothing") {
  KeyPair k = KeyPair::from_seed(vectors::seed(5));
  BlockHeader h;
  h.chain = "imi-dev";
  h.height = 0;
  h.proposer = k.did();
  Block empty = Block::make(h, {});
  CHECK(empty.header().tx_count == 0);
  CHECK(empty.header().txs_root == sha256(std::string_view("")));
  CHECK(compute_results_root({}) == sha256(std::string_view("")));
  CHECK(empty.validate("imi-dev").is_ok());

  std::vector<Transaction> txs;
  for (uint64_t n = 0; n < 3; ++n) {
    auto tx = make_transaction(k, "imi-dev", n, "anchor", "ping", json("{}"));
    REQUIRE(tx.is_ok());
    txs.push_back(*tx);
  }
  h.height = 1;
  h.prev = empty.id();
  Block b = Block::make(h, txs);
  CHECK(b.header().tx_count == 3);
  CHECK(b.validate("imi-dev").is_ok());
  CHECK(b.validate("imi-prod").code() == "block.wrong_chain");
  auto round = Block::decode(b.canonical(), {});
  REQUIRE(round.is_ok());
  CHECK(round->id() == b.id());
  CHECK(round->canonical() == b.canonical());
  // The view is not in the header: the id depends on the header alone.
  CHECK(b.id() == sha256(b.header().canonical()));
}

TEST_CASE("a transaction inside a block obeys the same JSON limits as alone") {
  KeyPair k = KeyPair::from_seed(vectors::seed(5));
  ValidityLimits lim;
  lim.json_depth_max = 4;  // tx object 1, args 2, two more levels
  auto ok = make_transaction(k, "imi-dev", 0, "anchor", "x", json(R"({"a":[[]]})"), lim);
  REQUIRE(ok.is_ok());
  CHECK(make_transaction(k, "imi-dev", 0, "anchor", "x", json(R"({"a":[[[]]]})"), lim)
            .status()
            .code() == "json.too_deep");
  auto deep = make_transaction(k, "imi-dev", 0, "anchor", "x", json(R"({"a":[[[]]]})"));
  REQUIRE(deep.is_ok());
  BlockHeader h;
  h.chain = "imi-dev";
  h.proposer = k.did();
  CHECK(Block::decode(Block::make(h, {*ok}).canonical(), lim).is_ok());
  CHECK(Block::decode(Block::make(h, {*deep}).canonical(), lim).status().code() == "json.too_deep");
}

TEST_CASE("validator sets: f and q for each n, primary wraps, bad sets rejected") {
  std::vector<Validator> vs;
  for (int i = 0; i < 10; ++i) {
    KeyPair k = KeyPair::from_seed(vectors::seed(50 + i));
    vs.push_back({k.did(), k.public_key()});
    auto set = ValidatorSet::make(vs);
    REQUIRE(set.is_ok());
    const size_t n = static_cast<size_t>(i + 1);
    CHECK(set->n() == n);
    CHECK(set->f() == (n - 1) / 3);
    CHECK(set->q() == 2 * n / 3 + 1);
    CHECK(set->primary(n).id == set->primary(0).id);
    for (size_t j = 1; j < n; ++j) CHECK(set->validators()[j - 1].id < set->validators()[j].id);
  }
  auto set = ValidatorSet::make(vs);
  CHECK(set->find("did:imi:0000000000000000000000000000000000000000") == nullptr);
  CHECK(set->index_of(vs[3].id) >= 0);
  CHECK(ValidatorSet::make({}).status().code() == "validators.empty");
  CHECK(ValidatorSet::make({vs[0], vs[0]}).status().code() == "validators.duplicate");
  CHECK(ValidatorSet::make({vs[0], {vs[1].id, vs[0].key}}).status().code() ==
        "validators.duplicate_key");
  CHECK(ValidatorSet::make({{"did:imi:XYZ", vs[0].key}}).status().code() == "validators.bad_id");
  identity::PublicKey identity_point{};
  identity_point[0] = 1;
  CHECK(ValidatorSet::make({{vs[0].id, identity_point}}).status().code() ==
        "validators.invalid_key");
  CHECK(ValidatorSet::from_json(json(R"([{"id":1}])")).status().code() == "validators.bad_json");
}

TEST_CASE("Block::decode takes a known transaction with the same JSON instead of decoding it") {
  KeyPair k = KeyPair::from_seed(vectors::seed(5));
  KeyPair other = KeyPair::from_seed(vectors::seed(6));
  auto t0 = make_transaction(k, "imi-dev", 0, "anchor", "ping", json(R"({"n":1})"));
  auto t1 = make_transaction(k, "imi-dev", 1, "anchor", "ping", json(R"({"n":2})"));
  auto t2 = make_transaction(other, "imi-dev", 0, "anchor", "ping", json("{}"));
  // Same sender and nonce as t1, other args: a different transaction.
  auto t1b = make_transaction(k, "imi-dev", 1, "anchor", "ping", json(R"({"n":3})"));
  REQUIRE((t0.is_ok() && t1.is_ok() && t2.is_ok() && t1b.is_ok()));
  BlockHeader h;
  h.chain = "imi-dev";
  h.proposer = k.did();
  const Block b = Block::make(h, {*t0, *t1, *t2});

  FakeKnown known;
  known.add(*t0);   // held: taken as is
  known.add(*t1b);  // held for (k, 1) but not what the block carries
  // t2 not held at all
  auto with = Block::decode(b.canonical(), {}, &known);
  REQUIRE(with.is_ok());
  auto without = Block::decode(b.canonical(), {});
  REQUIRE(without.is_ok());
  CHECK(known.lookups == 3);
  REQUIRE(with->txs().size() == 3);
  // The same block either way.
  CHECK(with->canonical() == without->canonical());
  CHECK(with->id() == b.id());
  CHECK(compute_txs_root(with->txs()) == b.header().txs_root);
  for (size_t i = 0; i < 3; ++i) CHECK(with->txs()[i].id() == b.txs()[i].id());
  // t0 is the known object itself (copies share one body); the others were decoded.
  CHECK(&with->txs()[0].canonical() == &t0->canonical());
  CHECK(&with->txs()[1].canonical() != &t1b->canonical());
  CHECK(with->txs()[1].id() == t1->id());
  CHECK(with->txs()[1].id() != t1b->id());
  CHECK(&with->txs()[2].canonical() != &t2->canonical());

  // A block whose text is not canonical (a space inside t0): t0 is decoded,
  // not taken from `known`, and is still the same transaction.
  std::string spaced = b.canonical();
  spaced.replace(spaced.find("{\"app\""), 1, "{ ");
  auto loose = Block::decode(spaced, {}, &known);
  REQUIRE(loose.is_ok());
  CHECK(&loose->txs()[0].canonical() != &t0->canonical());
  CHECK(loose->txs()[0].id() == t0->id());
  CHECK(compute_txs_root(loose->txs()) == b.header().txs_root);

  // A malformed transaction is still refused with its own code.
  std::string bad = b.canonical();
  const std::string from = "\"from\":\"" + k.did() + "\"";
  bad.replace(bad.find(from), from.size(), "\"from\":\"did:imi:zz\"");
  CHECK(Block::decode(bad, {}, &known).status().code() == "tx.bad_from");
}

TEST_CASE("copies of a transaction share one body") {
  KeyPair k = KeyPair::from_seed(vectors::seed(5));
  auto t = make_transaction(k, "imi-dev", 7, "anchor", "ping", json(R"({"a":"b"})"));
  REQUIRE(t.is_ok());
  Transaction copy = *t;
  std::vector<Transaction> many(3, copy);
  CHECK(&copy.canonical() == &t->canonical());
  CHECK(&many[2].json() == &t->json());
  CHECK(many[2].nonce() == 7);
  CHECK(many[2].args()["a"] == "b");
}
