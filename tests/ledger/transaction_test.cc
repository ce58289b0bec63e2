#include <doctest/doctest.h>

#include <string>

#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
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

}  // namespace

TEST_CASE("transactions.json: valid transactions decode, verify and re-sign byte for byte") {
  rapidjson::Document v = vectors::load("transactions.json");
  REQUIRE(v.IsObject());
  REQUIRE(v["valid"].Size() >= 5);
  for (const auto& c : v["valid"].GetArray()) {
    INFO(sv(c["name"]));
    CHECK(vectors::check_tx(sv(c["tx"]), c["first"].GetBool()).is_ok());
    auto tx = Transaction::decode(sv(c["tx"]), vectors::limits());
    REQUIRE(tx.is_ok());
    CHECK(tx->id_hex() == sv(c["id"]));
    CHECK(to_hex(sha256(sv(c["tx"]))) == sv(c["id"]));
    CHECK(tx->canonical() == sv(c["tx"]));
    CHECK(tx->signed_bytes() == sv(c["signed_bytes"]));
    CHECK(to_hex(tx->sig()) == sv(c["sig"]));
    CHECK(tx->nonce() == c["nonce"].GetUint64());
    CHECK(tx->from() == sv(c["from"]));
    CHECK(tx->key_matches_from() == (identity::did_from_key(tx->key()) == tx->from()));

    auto seed = from_hex_fixed<32>(sv(c["seed"]));
    REQUIRE(seed.has_value());
    KeyPair k = KeyPair::from_seed(*seed);
    CHECK(to_hex(k.public_key()) == sv(c["key"]));
    std::string_view principal = c.HasMember("on_behalf_of") ? sv(c["on_behalf_of"]) : "";
    CHECK(tx->on_behalf_of() == principal);
    CHECK(tx->actor() == (principal.empty() ? tx->from() : std::string(principal)));
    auto built =
        make_transaction_for(k, sv(c["from"]), principal, sv(c["chain"]), c["nonce"].GetUint64(),
                             sv(c["app"]), sv(c["op"]), c["args"], vectors::limits());
    REQUIRE(built.is_ok());
    CHECK(built->canonical() == sv(c["tx"]));
    CHECK(built->id() == tx->id());
  }
}

TEST_CASE("transactions.json: every invalid transaction fails with its code") {
  rapidjson::Document v = vectors::load("transactions.json");
  REQUIRE(v.IsObject());
  REQUIRE(v["invalid"].Size() >= 25);
  for (const auto& c : v["invalid"].GetArray()) {
    INFO(sv(c["name"]));
    CHECK(vectors::check_tx(sv(c["text"]), c["first"].GetBool()).code() == sv(c["error"]));
  }
}

TEST_CASE("make_transaction signs a first transaction that passes every stateless check") {
  KeyPair k = KeyPair::from_seed(vectors::seed(7));
  rapidjson::Document args = json(R"({"hash":"00","n":[1,2]})");
  auto tx = make_transaction(k, "imi-dev", 3, "anchor", "record", args);
  REQUIRE(tx.is_ok());
  CHECK(tx->from() == k.did());
  CHECK(tx->key_matches_from());
  CHECK(tx->check_first_sender().is_ok());
  CHECK(tx->validate("imi-dev").is_ok());
  CHECK(tx->validate("imi-prod").code() == "tx.wrong_chain");
  CHECK(tx->signed_bytes() == "IMI/tx/v1\n" + tx->unsigned_canonical());
  CHECK(tx->unsigned_canonical() == jcs_without(json(tx->canonical()), "sig"));
  CHECK(tx->args()["n"][1].GetInt64() == 2);
  CHECK(tx->app() == "anchor");
  CHECK(tx->op() == "record");
  CHECK(tx->chain() == "imi-dev");
}

TEST_CASE("a copied transaction keeps its document after the original is gone") {
  KeyPair k = KeyPair::from_seed(vectors::seed(7));
  std::optional<Transaction> copy;
  {
    auto tx = make_transaction(k, "imi-dev", 0, "anchor", "record", json(R"({"s":"kept"})"));
    REQUIRE(tx.is_ok());
    copy = *tx;
  }
  CHECK(vectors::sv(copy->args()["s"]) == "kept");
  CHECK(copy->verify_signature().is_ok());
}

TEST_CASE("make_transaction refuses arguments a decoder would refuse") {
  KeyPair k = KeyPair::from_seed(vectors::seed(7));
  rapidjson::Document args;
  args.SetObject();
  args.AddMember("x", 1.5, args.GetAllocator());
  CHECK(make_transaction(k, "imi-dev", 0, "anchor", "record", args).status().code() ==
        "json.float");
  rapidjson::Value array(rapidjson::kArrayType);
  CHECK(make_transaction(k, "imi-dev", 0, "anchor", "record", array).status().code() ==
        "tx.bad_args");
  CHECK(make_transaction(k, "Bad Chain", 0, "anchor", "record", json("{}")).status().code() ==
        "tx.bad_chain");
  CHECK(make_transaction(k, "imi-dev", 0, "Anchor", "record", json("{}")).status().code() ==
        "tx.bad_app");
}

TEST_CASE("a later transaction signed by a rotated key fails only the first-transaction rule") {
  KeyPair account = KeyPair::from_seed(vectors::seed(8));
  KeyPair rotated = KeyPair::from_seed(vectors::seed(9));
  auto tx =
      make_transaction_from(rotated, account.did(), "imi-dev", 4, "anchor", "record", json("{}"));
  REQUIRE(tx.is_ok());
  CHECK(tx->validate("imi-dev").is_ok());
  CHECK_FALSE(tx->key_matches_from());
  CHECK(tx->check_first_sender().code() == "tx.key_mismatch");
}

TEST_CASE("decoding accepts non-canonical spacing and member order, and ids use the JCS") {
  KeyPair k = KeyPair::from_seed(vectors::seed(7));
  auto tx = make_transaction(k, "imi-dev", 1, "anchor", "record", json(R"({"b":1,"a":2})"));
  REQUIRE(tx.is_ok());
  // Same members, reversed order, with spaces.
  rapidjson::Document d = json(tx->canonical());
  std::string spaced = "{ ";
  for (auto m = d.MemberEnd(); m != d.MemberBegin();) {
    --m;
    spaced += "\"" + std::string(m->name.GetString()) + "\" : " + jcs(m->value);
    if (m != d.MemberBegin()) spaced += " ,\n";
  }
  spaced += " }";
  auto again = Transaction::decode(spaced, {});
  REQUIRE(again.is_ok());
  CHECK(again->id() == tx->id());
  CHECK(again->canonical() == tx->canonical());
  CHECK(again->verify_signature().is_ok());
}

TEST_CASE("chain ids and names follow their documented charset and length") {
  CHECK(is_valid_chain_id("imi-main"));
  CHECK(is_valid_chain_id("a"));
  CHECK(is_valid_chain_id("0.test_net-2"));
  CHECK(is_valid_chain_id(std::string(64, 'a')));
  CHECK_FALSE(is_valid_chain_id(std::string(65, 'a')));
  CHECK_FALSE(is_valid_chain_id(""));
  CHECK_FALSE(is_valid_chain_id("-imi"));
  CHECK_FALSE(is_valid_chain_id("IMI"));
  CHECK_FALSE(is_valid_chain_id("imi main"));
  CHECK(is_valid_name("anchor"));
  CHECK(is_valid_name("rotate_key2"));
  CHECK(is_valid_name(std::string(32, 'a')));
  CHECK_FALSE(is_valid_name(std::string(33, 'a')));
  CHECK_FALSE(is_valid_name("_anchor"));
  CHECK_FALSE(is_valid_name("2fa"));
  CHECK_FALSE(is_valid_name("anchor-app"));
  CHECK_FALSE(is_valid_name(""));
}
