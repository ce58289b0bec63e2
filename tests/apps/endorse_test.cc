#include <doctest/doctest.h>

#include "identity/sdjwt.h"
#include "identity/sdjwt_verify.h"
#include "tests/apps/identity_registry_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::idtest;

namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01

struct Endorsed {
  IdChain c;
  identity::KeyPair resident = key(100);
  std::vector<ledger::ExecutedBlock> blocks;
  Endorsed() {
    register_actors(c);
    blocks.push_back(
        c.block({c.tx(resident, "identity", "register", register_args(resident, registrar1())),
                 c.tx(party_org(), "endorse", "define", R"({"types":["party_member"]})"),
                 c.tx(credit(), "endorse", "define",
                      R"({"types":["stable_employment","no_criminal_record"]})")}));
    for (const auto& r : blocks.back().results) REQUIRE(r.code() == 0);
    blocks.push_back(
        c.block({c.tx(party_org(), "endorse", "status_list_create", R"({"list":"m","size":1024})"),
                 c.tx(credit(), "endorse", "status_list_create", R"({"list":"c","size":1024})")}));
    for (const auto& r : blocks.back().results) REQUIRE(r.code() == 0);
  }
  std::string credential(const identity::KeyPair& issuer, std::string_view type,
                         std::string_view list, uint64_t idx, int64_t exp = kNow + 86400) {
    auto req = endorsement_request(issuer.did(), 1, identity::sdjwt::make_kid(resident.did(), 1),
                                   type, list, idx, kNow - 86400, kNow - 86400, exp,
                                   {identity::sdjwt::string_claim("since", "2015-07-01")});
    return identity::sdjwt::issue(issuer, req).value();
  }
  identity::sdjwt::Verification verify(const std::string& cred) {
    auto p = identity::sdjwt::present(cred, resident, {{}, "did:imi:lender", "n1", kNow}).value();
    auto state = c.state();
    ChainResolver resolver(*state);
    return identity::sdjwt::verify(p, {"did:imi:lender", "n1", kNow}, resolver).value();
  }
  bool authorised(const identity::sdjwt::Verification& v) {
    auto state = c.state();
    return endorsement_authorised(*state, v).value();
  }
};

}  // namespace

TEST_CASE("endorse: issuers declare only the types their role allows") {
  IdChain c;
  register_actors(c);
  auto stranger = key(130);
  REQUIRE(c.run(c.tx(stranger, "identity", "register", register_args(stranger, registrar1()))) ==
          0);
  CHECK(c.run(c.tx(credit(), "endorse", "define", R"({"types":["party_member"]})")) ==
        ledger::kCodeForbidden);
  CHECK(c.run(c.tx(stranger, "endorse", "define", R"({"types":["stable_employment"]})")) ==
        ledger::kCodeForbidden);
  CHECK(c.run(c.tx(party_org(), "endorse", "define", R"({"types":["good_citizen"]})")) ==
        ledger::kCodeBadArgs);
  CHECK(c.run(c.tx(party_org(), "endorse", "define",
                   R"({"types":["party_member","party_member"]})")) == ledger::kCodeBadArgs);
  CHECK(c.run(c.tx(party_org(), "endorse", "define", R"({"types":[]})")) == ledger::kCodeBadArgs);
  CHECK(c.run(c.tx(key(131), "endorse", "define", R"({"types":["party_member"]})")) ==
        kIdCodeNotActive);  // not a registered DID
  CHECK(c.run(c.tx(party_org(), "endorse", "status_list_create", R"({"list":"m","size":64})")) ==
        ledger::kCodeForbidden);  // no types defined yet
  CHECK(c.run(c.tx(party_org(), "endorse", "define", R"({"types":["party_member"]})")) == 0);
  CHECK(endorsement_types(*c.state(), party_org().did()).value() ==
        std::vector<std::string>{"party_member"});
  CHECK(c.run(c.tx(party_org(), "endorse", "status_list_create", R"({"list":"m","size":64})")) ==
        0);
  CHECK(c.run(c.tx(party_org(), "endorse", "revoke", "{}")) == ledger::kCodeUnknownOp);
}

TEST_CASE("endorsements verify against the chain and follow their status") {
  Endorsed e;
  auto member = e.credential(party_org(), "party_member", "m", 311);
  auto v = e.verify(member);
  CHECK(v.ok);
  CHECK(v.vct == "imi:endorsement:party_member");
  CHECK(e.authorised(v));

  auto update = [&](const identity::KeyPair& k, std::string_view list, uint64_t idx, int s) {
    return e.c.run(e.c.tx(k, "endorse", "status_list_update",
                          R"({"list":")" + std::string(list) + R"(","updates":[[)" +
                              std::to_string(idx) + "," + std::to_string(s) + "]]}"));
  };
  REQUIRE(update(party_org(), "m", 311, 2) == 0);  // suspended
  CHECK(e.verify(member).check("credential_status")->detail == "suspended");
  REQUIRE(update(party_org(), "m", 311, 0) == 0);  // reinstated
  CHECK(e.verify(member).ok);
  REQUIRE(update(party_org(), "m", 311, 1) == 0);  // revoked
  CHECK(e.verify(member).check("credential_status")->detail == "invalid");
  CHECK(update(party_org(), "m", 311, 0) == kIdCodeFinalStatus);
  // Another issuer cannot touch the party organisation's list.
  CHECK(update(credit(), "m", 311, 0) == ledger::kCodeNotFound);

  // Credit endorsements: validity periods.
  auto employed = e.credential(credit(), "stable_employment", "c", 5);
  CHECK(e.verify(employed).ok);
  auto expired = e.credential(credit(), "no_criminal_record", "c", 6, kNow - 3600);
  CHECK(e.verify(expired).check("validity_period")->ok == false);
}

TEST_CASE("an endorsement from an issuer without that type is not authorised") {
  Endorsed e;
  // The credit issuer signs a "party_member" credential on its own list: the
  // signature and status check out, but the chain says it may not issue it.
  auto forged = e.credential(credit(), "party_member", "c", 9);
  auto v = e.verify(forged);
  CHECK(v.ok);
  CHECK_FALSE(e.authorised(v));
  identity::sdjwt::Verification other = v;
  other.vct = "imi:resident";
  auto state = e.c.state();
  CHECK(endorsement_authorised(*state, other).status().code() == "endorse.not_endorsement");
}

TEST_CASE("nothing in the endorse namespace names a holder") {
  Endorsed e;
  auto cred = e.credential(party_org(), "party_member", "m", 12);
  e.blocks.push_back(e.c.block({e.c.tx(party_org(), "endorse", "status_list_update",
                                       R"({"list":"m","updates":[[12,2]]})")}));
  for (const auto& b : e.blocks) {
    for (const auto& w : b.writes) {
      if (w.app != "endorse") continue;
      CHECK(w.key.find(e.resident.did()) == std::string::npos);
      if (w.value) CHECK(w.value->find(e.resident.did()) == std::string::npos);
    }
    for (const auto& tx : b.txs) {
      if (tx.app() == "endorse") CHECK(tx.from() != e.resident.did());
    }
  }
}
