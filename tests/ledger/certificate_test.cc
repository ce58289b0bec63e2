#include <doctest/doctest.h>

#include <algorithm>

#include "base/sha256.h"
#include "ledger/certificate.h"
#include "tests/vectors/vector_common.h"

using namespace imi;
using namespace imi::ledger;
using identity::KeyPair;
using vectors::sv;

TEST_CASE("certificates.json: every certificate is accepted or fails with its code") {
  rapidjson::Document v = vectors::load("certificates.json");
  REQUIRE(v.IsObject());
  auto set = ValidatorSet::from_json(v["validators"]);
  REQUIRE(set.is_ok());
  CHECK(set->q() == v["q"].GetUint64());
  auto block = from_hex_fixed<32>(sv(v["block"]));
  REQUIRE(block.has_value());
  const uint64_t height = v["height"].GetUint64();
  for (const auto& vote : v["votes"].GetArray())
    CHECK(commit_vote_canonical(sv(v["chain"]), height, vote["view"].GetUint64(), *block) ==
          sv(vote["canonical"]));
  size_t valid = 0;
  REQUIRE(v["cases"].Size() >= 12);
  for (const auto& c : v["cases"].GetArray()) {
    INFO(sv(c["name"]));
    auto cert = CommitCertificate::decode(sv(c["cert"]));
    Status s = cert ? cert->validate(*set, sv(v["chain"]), height, *block) : cert.status();
    std::string_view want = c.HasMember("error") ? sv(c["error"]) : "";
    CHECK(s.code() == want);
    if (want.empty()) {
      ++valid;
      CHECK(cert->canonical() == sv(c["cert"]));
    }
  }
  CHECK(valid >= 2);
}

namespace {

struct Fixture {
  std::vector<KeyPair> keys;
  ValidatorSet set;
  Hash32 block = sha256(std::string_view("b"));

  static Fixture make(int n) {
    std::vector<KeyPair> keys;
    std::vector<Validator> vs;
    for (int i = 0; i < n; ++i) {
      keys.push_back(KeyPair::from_seed(vectors::seed(100 + i)));
      vs.push_back({keys.back().did(), keys.back().public_key()});
    }
    std::sort(keys.begin(), keys.end(),
              [](const KeyPair& a, const KeyPair& b) { return a.did() < b.did(); });
    auto set = ValidatorSet::make(vs);
    REQUIRE(set.is_ok());
    return Fixture{keys, std::move(set).value()};
  }

  CommitCertificate cert(size_t signers, uint64_t view = 0) const {
    CommitCertificate c;
    c.height = 9;
    c.view = view;
    c.block = block;
    for (size_t i = 0; i < signers; ++i)
      c.sigs.push_back({keys[i].did(), sign_commit_vote(keys[i], "imi-dev", 9, view, block)});
    return c;
  }
};

}  // namespace

TEST_CASE("a certificate needs exactly a quorum q = floor(2n/3)+1 of distinct members") {
  for (int n : {1, 2, 3, 4, 5, 6, 7, 10}) {
    INFO(n);
    Fixture fx = Fixture::make(n);
    const size_t q = fx.set.q();
    CHECK(fx.cert(q).validate(fx.set, "imi-dev", 9, fx.block).is_ok());
    CHECK(fx.cert(n).validate(fx.set, "imi-dev", 9, fx.block).is_ok());
    if (q > 1)
      CHECK(fx.cert(q - 1).validate(fx.set, "imi-dev", 9, fx.block).code() == "cert.no_quorum");
  }
}

TEST_CASE("votes arriving out of order become a valid certificate once sorted") {
  Fixture fx = Fixture::make(4);
  CommitCertificate c = fx.cert(4, 3);
  std::reverse(c.sigs.begin(), c.sigs.end());
  CHECK(c.validate(fx.set, "imi-dev", 9, fx.block).code() == "cert.unsorted");
  c.sort_sigs();
  CHECK(c.validate(fx.set, "imi-dev", 9, fx.block).is_ok());
  auto round = CommitCertificate::decode(c.canonical());
  REQUIRE(round.is_ok());
  CHECK(*round == c);
}

TEST_CASE("the chain is part of every commit vote") {
  Fixture fx = Fixture::make(4);
  CHECK(fx.cert(3).validate(fx.set, "imi-other", 9, fx.block).code() == "cert.bad_signature");
  CHECK(commit_vote_canonical("imi-dev", 9, 1, fx.block) ==
        "{\"block\":\"" + to_hex(fx.block) +
            "\",\"chain\":\"imi-dev\",\"height\":9,\"phase\":\"commit\",\"view\":1}");
}
