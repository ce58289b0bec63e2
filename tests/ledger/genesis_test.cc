// Genesis file: parsing, defaults of the optional members, the canonical form
// and its hash, and every error a malformed file gets (ledger/genesis.h).
#include "ledger/genesis.h"

#include <doctest/doctest.h>

#include <string>

#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/json.h"

using namespace imi;
using namespace imi::ledger;

namespace {

identity::KeyPair key(uint8_t n) {
  identity::Seed s{};
  s[0] = n;
  s[1] = 0x6e;
  return identity::KeyPair::from_seed(s);
}

std::string validator(uint8_t n) {
  auto k = key(n);
  return R"({"id":")" + k.did() + R"(","key":")" + to_hex(k.public_key()) + R"("})";
}

// A genesis file with `extra` members appended (each starting with ",").
std::string genesis(const std::string& extra = "",
                    const std::string& validators = "[" + validator(1) + "]") {
  return R"({"v":1,"chain":"imi-test","time":1767225600000,"validators":)" + validators + extra +
         "}";
}

std::string code_of(const std::string& text) {
  auto g = Genesis::parse(text);
  return g ? std::string("ok") : g.status().code();
}

}  // namespace

TEST_CASE("genesis: a minimal file parses with every default") {
  auto g = Genesis::parse(genesis());
  REQUIRE(g);
  CHECK(g->chain() == "imi-test");
  CHECK(g->time_ms() == 1767225600000u);
  CHECK(g->validators().n() == 1);
  CHECK(g->validators().primary(0).id == key(1).did());
  CHECK(g->roles().empty());
  ValidityLimits defaults;
  CHECK(g->limits().tx_bytes_max == defaults.tx_bytes_max);
  CHECK(g->limits().block_bytes_max == defaults.block_bytes_max);
  CHECK(g->limits().block_txs_max == defaults.block_txs_max);
  CHECK(g->limits().json_depth_max == defaults.json_depth_max);
  CHECK(g->block_time().delta_ms == 2000);
  CHECK(g->block_time().empty_block_period_ms == 1000);
  CHECK(g->rules_version() == 1);
  // The canonical form is the JCS of the file, and the hash is its SHA-256.
  CHECK(g->canonical() == jcs(*parse_strict(genesis())));
  CHECK(g->hash() == sha256(g->canonical()));
}

TEST_CASE("genesis: optional members are read") {
  auto g = Genesis::parse(
      genesis(R"(,"roles":[{"role":"registrar","did":")" + key(2).did() +
                  R"("},{"role":"auditor","did":")" + key(2).did() +
                  R"("}],"limits":{"tx_bytes_max":4096,"block_txs_max":500},)"
                  R"("block_time":{"delta_ms":500,"empty_block_period_ms":250},"rules_version":3)",
              "[" + validator(1) + "," + validator(2) + "," + validator(3) + "]"));
  REQUIRE(g);
  CHECK(g->validators().n() == 3);
  REQUIRE(g->roles().size() == 2);
  CHECK(g->roles()[0] == RoleGrant{"registrar", key(2).did()});
  CHECK(g->roles()[1] == RoleGrant{"auditor", key(2).did()});
  CHECK(g->limits().tx_bytes_max == 4096);
  CHECK(g->limits().block_txs_max == 500);
  CHECK(g->limits().block_bytes_max == ValidityLimits{}.block_bytes_max);  // not named: default
  CHECK(g->block_time().delta_ms == 500);
  CHECK(g->block_time().empty_block_period_ms == 250);
  CHECK(g->rules_version() == 3);
}

TEST_CASE("genesis: member order and whitespace do not change the hash") {
  auto a = Genesis::parse(genesis());
  auto b = Genesis::parse(R"({ "validators": [)" + validator(1) +
                          R"(], "time": 1767225600000, "chain": "imi-test", "v": 1 })");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->hash() == b->hash());
  auto other = Genesis::parse(R"({"v":1,"chain":"imi-other","time":1767225600000,"validators":[)" +
                              validator(1) + "]}");
  REQUIRE(other);
  CHECK(other->hash() != a->hash());
}

TEST_CASE("genesis: missing and malformed chain") {
  CHECK(code_of(R"({"v":1,"time":1,"validators":[)" + validator(1) + "]}") == "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":"","time":1,"validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":"Upper","time":1,"validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":7,"time":1,"validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":")" + std::string(65, 'a') + R"(","time":1,"validators":[)" +
                validator(1) + "]}") == "genesis.bad_field");
}

TEST_CASE("genesis: version, time and top-level shape") {
  CHECK(code_of(R"({"v":2,"chain":"c","time":1,"validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"chain":"c","time":1,"validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":"c","validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":"c","time":-5,"validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of(R"({"v":1,"chain":"c","time":"1","validators":[)" + validator(1) + "]}") ==
        "genesis.bad_field");
  CHECK(code_of("[]") == "genesis.bad_field");
  // Not strict JSON at all: the JSON layer's codes.
  CHECK(code_of("{").starts_with("json."));
  CHECK(code_of(R"({"v":1.5})").starts_with("json."));
  CHECK(code_of(R"({"v":1,"v":1})").starts_with("json."));
  CHECK(code_of("") != "ok");
  CHECK(code_of(std::string(kGenesisBytesMax + 1, ' ')) != "ok");
}

TEST_CASE("genesis: unknown members are refused, at the top and inside") {
  CHECK(code_of(genesis(R"(,"extra":1)")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"block_time":{"delta_ms":5,"slot":1})")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"limits":{"tx_bytes":4096})")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"roles":[{"role":"auditor","did":")" + key(2).did() +
                        R"(","note":"x"}])")) == "genesis.bad_field");
  CHECK(code_of(genesis("", R"([{"id":")" + key(1).did() + R"(","key":")" +
                                to_hex(key(1).public_key()) + R"(","weight":1}])")) ==
        "validators.bad_json");
}

TEST_CASE("genesis: validator list errors") {
  CHECK(code_of(genesis("", "[]")) == "genesis.bad_field");
  CHECK(code_of(genesis("", "{}")) == "genesis.bad_field");
  std::string many = "[";
  for (size_t i = 0; i <= kGenesisValidatorsMax; ++i) {
    if (i > 0) many += ',';
    many += validator(static_cast<uint8_t>(i));
  }
  CHECK(code_of(genesis("", many + "]")) == "genesis.bad_field");
  // The same validator twice.
  CHECK(code_of(genesis("", "[" + validator(1) + "," + validator(1) + "]")) ==
        "validators.duplicate");
  // A key that is not lowercase hex of 32 bytes.
  CHECK(code_of(genesis("", R"([{"id":")" + key(1).did() + R"(","key":")" + std::string(64, 'G') +
                                R"("}])")) == "validators.bad_json");
  CHECK(code_of(genesis("", R"([{"id":")" + key(1).did() + R"(","key":"abcd"}])")) ==
        "validators.bad_json");
  // 32 bytes that are not a valid Ed25519 point (all zeros is small order).
  CHECK(code_of(genesis("", R"([{"id":")" + key(1).did() + R"(","key":")" + std::string(64, '0') +
                                R"("}])")) == "validators.invalid_key");
  // An id that is not a did:imi.
  CHECK(code_of(genesis("", R"([{"id":"did:web:x","key":")" + to_hex(key(1).public_key()) +
                                R"("}])")) == "validators.bad_id");
}

TEST_CASE("genesis: role errors") {
  std::string did = key(2).did();
  CHECK(code_of(genesis(R"(,"roles":[{"role":"auditor","did":")" + did +
                        R"("},{"role":"auditor","did":")" + did + R"("}])")) ==
        "genesis.duplicate_role");
  CHECK(code_of(genesis(R"(,"roles":[{"role":"Auditor","did":")" + did + R"("}])")) ==
        "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"roles":[{"role":"auditor","did":"did:imi:xyz"}])")) ==
        "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"roles":[{"role":"auditor"}])")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"roles":{"role":"auditor"})")) == "genesis.bad_field");
}

TEST_CASE("genesis: limit errors") {
  CHECK(code_of(genesis(R"(,"limits":{"tx_bytes_max":1})")) == "genesis.bad_limit");
  CHECK(code_of(genesis(R"(,"limits":{"block_txs_max":0})")) == "genesis.bad_limit");
  CHECK(code_of(genesis(R"(,"limits":{"block_txs_max":100001})")) == "genesis.bad_limit");
  CHECK(code_of(genesis(R"(,"limits":{"json_depth_max":65})")) == "genesis.bad_limit");
  CHECK(code_of(genesis(R"(,"limits":{"json_depth_max":"16"})")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"limits":[1])")) == "genesis.bad_field");
  // The bounds themselves are accepted.
  CHECK(code_of(genesis(R"(,"limits":{"block_txs_max":1,"json_depth_max":64})")) == "ok");
}

TEST_CASE("genesis: block time and rules version errors") {
  CHECK(code_of(genesis(R"(,"block_time":{"delta_ms":0})")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"block_time":{"empty_block_period_ms":0})")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"block_time":{"delta_ms":-1})")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"block_time":5)")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"rules_version":0)")) == "genesis.bad_field");
  CHECK(code_of(genesis(R"(,"rules_version":"2")")) == "genesis.bad_field");
}
