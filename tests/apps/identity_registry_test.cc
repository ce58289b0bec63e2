#include <doctest/doctest.h>

#include "identity/sdjwt.h"
#include "identity/sdjwt_verify.h"
#include "tests/apps/identity_registry_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::idtest;
using identity::sdjwt::DidStatus;

namespace {

DidRecord record(IdChain& c, const std::string& did) {
  auto r = read_did(*c.state(), did);
  REQUIRE(r.is_ok());
  REQUIRE(r->has_value());
  return **r;
}

const Hash32 kGuardianSalt = {7, 7, 7};

struct Resident {
  identity::KeyPair phone = key(100);
  identity::KeyPair guardian = key(101);  // a family member with their own DID
  std::string did = phone.did();
};

// A chain with public actors registered and one resident naming a guardian.
void setup(IdChain& c, Resident& r) {
  register_actors(c);
  REQUIRE(c.run(c.tx(r.guardian, "identity", "register",
                     register_args(r.guardian, registrar2()))) == 0);
  auto g = guardian_commitment(r.guardian.did(), kGuardianSalt);
  REQUIRE(c.run(c.tx(r.phone, "identity", "register", register_args(r.phone, registrar1(), {g}))) ==
          0);
}

}  // namespace

TEST_CASE("register: the subject sends its own registration with a registrar's attestation") {
  IdChain c;
  register_actors(c);
  auto resident = key(100);
  auto stranger = key(102);
  SUBCASE("happy path and DID document") {
    CHECK(c.run(c.tx(resident, "identity", "register", register_args(resident, registrar1()))) ==
          0);
    auto rec = record(c, resident.did());
    CHECK(rec.status == DidStatus::kActive);
    REQUIRE(rec.keys.size() == 1);
    CHECK(rec.keys[0].key == resident.public_key());
    CHECK(rec.registrar == registrar1().did());
    auto doc = did_document(*c.state(), resident.did()).value();
    REQUIRE(doc.has_value());
    auto d = json(*doc);
    CHECK(std::string(d["id"].GetString()) == resident.did());
    CHECK(std::string(d["status"].GetString()) == "active");
    CHECK(d["verificationMethod"].Size() == 1);
    CHECK(std::string(d["verificationMethod"][0]["id"].GetString()) == resident.did() + "#key-1");
    CHECK(std::string(d["verificationMethod"][0]["type"].GetString()) == "JsonWebKey2020");
    CHECK(std::string(d["authentication"][0].GetString()) == resident.did() + "#key-1");
    CHECK(d["keyHistory"].Size() == 1);
    CHECK(did_document(*c.state(), stranger.did()).value() == std::nullopt);
    // Registered once only.
    CHECK(c.run(c.tx(resident, "identity", "register", register_args(resident, registrar2()))) ==
          ledger::kCodeConflict);
  }
  SUBCASE("someone else cannot send the subject's registration") {
    CHECK(c.run(c.tx(stranger, "identity", "register", register_args(resident, registrar1()))) ==
          ledger::kCodeForbidden);
  }
  SUBCASE("an attestation by a non-registrar or with a bad signature is refused") {
    CHECK(c.run(c.tx(resident, "identity", "register", register_args(resident, issuer()))) ==
          kIdCodeBadAttestation);
    auto args = register_args(resident, registrar1());
    std::string sig = args["attestation"]["sig"].GetString();
    sig[0] = sig[0] == '0' ? '1' : '0';
    args["attestation"]["sig"].SetString(sig.c_str(), args.GetAllocator());
    CHECK(c.run(c.tx(resident, "identity", "register", args)) == kIdCodeBadAttestation);
  }
  SUBCASE("malformed args") {
    CHECK(c.run(c.tx(resident, "identity", "register", "{}")) == ledger::kCodeBadArgs);
    auto args = register_args(resident, registrar1());
    args["attestation"].AddMember("name", "Li Wei", args.GetAllocator());
    CHECK(c.run(c.tx(resident, "identity", "register", args)) == ledger::kCodeBadArgs);
    CHECK(c.run(c.tx(resident, "identity", "enroll", "{}")) == ledger::kCodeUnknownOp);
  }
}

TEST_CASE("rotate: signed with a current key; a removed key stops working; no key comes back") {
  IdChain c;
  Resident r;
  setup(c, r);
  auto second = key(110);
  CHECK(c.run(c.tx(r.phone, "identity", "rotate",
                   R"({"add":")" + to_hex(second.public_key()) + R"("})")) == 0);
  CHECK(c.sender_accepted(second, r.did));
  CHECK(c.run(c.tx(second, "identity", "rotate", R"({"remove":[1]})", r.did)) == 0);
  CHECK_FALSE(c.sender_accepted(r.phone, r.did));
  CHECK(c.sender_accepted(second, r.did));
  auto rec = record(c, r.did);
  REQUIRE(rec.keys.size() == 2);
  CHECK(rec.keys[0].revoked.has_value());
  CHECK(rec.keys[1].n == 2);
  CHECK(c.run(c.tx(second, "identity", "rotate",
                   R"({"add":")" + to_hex(r.phone.public_key()) + R"("})", r.did)) ==
        kIdCodeKeyUsed);
  CHECK(c.run(c.tx(second, "identity", "rotate", R"({"remove":[2]})", r.did)) ==
        ledger::kCodeBadArgs);  // would leave no key
  CHECK(c.run(c.tx(second, "identity", "rotate", R"({"remove":[1]})", r.did)) ==
        ledger::kCodeBadArgs);  // not current
  CHECK(c.run(c.tx(second, "identity", "rotate", "{}", r.did)) == ledger::kCodeBadArgs);
  auto doc = json(*did_document(*c.state(), r.did).value());
  CHECK(doc["verificationMethod"].Size() == 1);
  CHECK(std::string(doc["verificationMethod"][0]["id"].GetString()) == r.did + "#key-2");
  CHECK(doc["keyHistory"].Size() == 2);
  CHECK(doc["keyHistory"][0].HasMember("revoked"));
}

TEST_CASE("lost phone: freeze at once, recover with a registrar and the named guardian") {
  IdChain c;
  Resident r;
  setup(c, r);
  auto new_phone = key(120);
  // Only a registrar freezes.
  CHECK(c.run(c.tx(r.guardian, "identity", "freeze", R"({"did":")" + r.did + R"("})")) ==
        ledger::kCodeForbidden);
  CHECK(c.run(c.tx(registrar1(), "identity", "freeze", R"({"did":")" + r.did + R"("})")) == 0);
  CHECK(record(c, r.did).status == DidStatus::kFrozen);
  CHECK_FALSE(c.sender_accepted(r.phone, r.did));  // the thief's phone is refused at once
  CHECK(c.run(c.tx(registrar1(), "identity", "freeze", R"({"did":")" + r.did + R"("})")) ==
        kIdCodeNotActive);

  SUBCASE("registrar sends, guardian approves in args") {
    auto args = recover_args(r.did, new_phone.public_key(), {});
    rapidjson::Value arr(rapidjson::kArrayType);
    arr.PushBack(
        rapidjson::Value(approval(r.guardian, r.did, new_phone.public_key(), 0, &kGuardianSalt),
                         args.GetAllocator()),
        args.GetAllocator());
    args.AddMember("approvals", arr, args.GetAllocator());
    CHECK(c.run(c.tx(registrar1(), "identity", "recover", args)) == 0);
  }
  SUBCASE("two registrars in separate transactions") {
    CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), {}))) == 0);
    CHECK(record(c, r.did).status == DidStatus::kFrozen);  // one approval is not enough
    CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), {}))) == 0);
    CHECK(record(c, r.did).status == DidStatus::kFrozen);  // the same registrar twice neither
    CHECK(c.run(c.tx(registrar2(), "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), {}))) == 0);
  }
  SUBCASE("approvals carried by anyone: a registrar's and the guardian's") {
    std::vector<rapidjson::Document> a;
    a.push_back(approval(registrar2(), r.did, new_phone.public_key(), 0));
    a.push_back(approval(r.guardian, r.did, new_phone.public_key(), 0, &kGuardianSalt));
    CHECK(c.run(c.tx(new_phone, "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), std::move(a)))) == 0);
  }
  auto rec = record(c, r.did);
  CHECK(rec.status == DidStatus::kActive);
  CHECK(rec.recoveries == 1);
  REQUIRE(rec.current().size() == 1);
  CHECK(rec.current()[0].second == new_phone.public_key());
  CHECK(rec.current()[0].first == 2);
  CHECK(c.sender_accepted(new_phone, r.did));
  CHECK_FALSE(c.sender_accepted(r.phone, r.did));  // the old key never works again
  // Nor can it be brought back by rotation or another recovery.
  CHECK(c.run(c.tx(new_phone, "identity", "rotate",
                   R"({"add":")" + to_hex(r.phone.public_key()) + R"("})", r.did)) ==
        kIdCodeKeyUsed);
  CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                   recover_args(r.did, r.phone.public_key(), {}))) == kIdCodeKeyUsed);
  // An approval made for recovery 0 cannot be replayed.
  std::vector<rapidjson::Document> stale;
  stale.push_back(approval(registrar2(), r.did, key(121).public_key(), 0));
  CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                   recover_args(r.did, key(121).public_key(), std::move(stale)))) ==
        kIdCodeBadAttestation);
}

TEST_CASE("recovery rules: guardians alone, strangers and wrong salts do not suffice") {
  IdChain c;
  Resident r;
  setup(c, r);
  REQUIRE(c.run(c.tx(registrar1(), "identity", "freeze", R"({"did":")" + r.did + R"("})")) == 0);
  auto new_phone = key(120);
  auto stranger = key(130);
  REQUIRE(c.run(c.tx(stranger, "identity", "register", register_args(stranger, registrar1()))) ==
          0);
  SUBCASE("the guardian alone is pending, not enacted") {
    std::vector<rapidjson::Document> a;
    a.push_back(approval(r.guardian, r.did, new_phone.public_key(), 0, &kGuardianSalt));
    CHECK(c.run(c.tx(r.guardian, "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), std::move(a)))) == 0);
    CHECK(record(c, r.did).status == DidStatus::kFrozen);
    CHECK_FALSE(c.sender_accepted(new_phone, r.did));
  }
  SUBCASE("a stranger's approval, or the guardian with the wrong salt") {
    std::vector<rapidjson::Document> a;
    a.push_back(approval(stranger, r.did, new_phone.public_key(), 0, &kGuardianSalt));
    CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), std::move(a)))) ==
          kIdCodeBadAttestation);
    Hash32 wrong{1};
    std::vector<rapidjson::Document> b;
    b.push_back(approval(r.guardian, r.did, new_phone.public_key(), 0, &wrong));
    CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), std::move(b)))) ==
          kIdCodeBadAttestation);
  }
  SUBCASE("an approval for another key does not count") {
    std::vector<rapidjson::Document> a;
    a.push_back(approval(registrar2(), r.did, key(140).public_key(), 0));
    CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), std::move(a)))) ==
          kIdCodeBadAttestation);
  }
  SUBCASE("no registrar sender and no approvals") {
    CHECK(c.run(c.tx(stranger, "identity", "recover",
                     recover_args(r.did, new_phone.public_key(), {}))) == ledger::kCodeForbidden);
  }
  CHECK(record(c, r.did).status == DidStatus::kFrozen);
}

TEST_CASE("deactivate: by the DID itself or a registrar, final") {
  IdChain c;
  Resident r;
  setup(c, r);
  CHECK(c.run(c.tx(r.guardian, "identity", "deactivate", R"({"did":")" + r.did + R"("})")) ==
        ledger::kCodeForbidden);
  CHECK(c.run(c.tx(r.phone, "identity", "deactivate", "{}")) == 0);
  CHECK(record(c, r.did).status == DidStatus::kDeactivated);
  CHECK_FALSE(c.sender_accepted(r.phone, r.did));
  CHECK(c.run(c.tx(registrar1(), "identity", "recover",
                   recover_args(r.did, key(120).public_key(), {}))) == kIdCodeNotActive);
  CHECK(c.run(c.tx(registrar1(), "identity", "deactivate", R"({"did":")" + r.did + R"("})")) ==
        kIdCodeNotActive);
  auto doc = json(*did_document(*c.state(), r.did).value());
  CHECK(doc["deactivated"].GetBool());
  CHECK(doc["verificationMethod"].Size() == 0);
}

TEST_CASE("status lists: issuers create and update them; revocation is final") {
  IdChain c;
  Resident r;
  setup(c, r);
  auto i = issuer();
  CHECK(c.run(c.tx(i, "identity", "status_list_create", R"({"list":"ids","size":131072})")) == 0);
  CHECK(c.run(c.tx(i, "identity", "status_list_create", R"({"list":"ids","size":16})")) ==
        ledger::kCodeConflict);
  CHECK(c.run(c.tx(r.phone, "identity", "status_list_create", R"({"list":"x","size":16})")) ==
        ledger::kCodeForbidden);
  CHECK(c.run(c.tx(i, "identity", "status_list_create", R"({"list":"Bad!","size":16})")) ==
        ledger::kCodeBadArgs);
  CHECK(c.run(c.tx(i, "identity", "status_list_create", R"({"list":"y","size":6})")) ==
        ledger::kCodeBadArgs);
  CHECK(c.run(c.tx(i, "identity", "status_list_update",
                   R"({"list":"ids","updates":[[4242,2],[17,1]]})")) == 0);
  auto state = c.state();
  ChainResolver resolver(*state);
  auto uri = status_list_uri("identity", i.did(), "ids");
  CHECK(resolver.credential_status({uri, 4242}).value() == identity::CredentialStatus::kSuspended);
  CHECK(resolver.credential_status({uri, 17}).value() == identity::CredentialStatus::kInvalid);
  CHECK(resolver.credential_status({uri, 18}).value() == identity::CredentialStatus::kValid);
  CHECK(resolver.credential_status({uri, 131072}).value() == std::nullopt);
  CHECK(resolver.credential_status({"imi:status-list/identity/x/ids", 1}).value() == std::nullopt);
  CHECK(c.run(c.tx(i, "identity", "status_list_update", R"({"list":"ids","updates":[[17,0]]})")) ==
        kIdCodeFinalStatus);
  CHECK(c.run(c.tx(i, "identity", "status_list_update",
                   R"({"list":"ids","updates":[[4242,0]]})")) == 0);  // suspension lifted
  CHECK(c.run(c.tx(i, "identity", "status_list_update",
                   R"({"list":"ids","updates":[[131072,1]]})")) == kIdCodeOutOfRange);
  CHECK(c.run(c.tx(i, "identity", "status_list_update", R"({"list":"ids","updates":[[1,3]]})")) ==
        ledger::kCodeBadArgs);
  CHECK(c.run(c.tx(i, "identity", "status_list_update", R"({"list":"no","updates":[[1,1]]})")) ==
        ledger::kCodeNotFound);
  CHECK(c.run(c.tx(registrar1(), "identity", "status_list_update",
                   R"({"list":"ids","updates":[[1,1]]})")) == ledger::kCodeNotFound);
  // Chunk boundaries: entries either side of 4096 and the last one.
  CHECK(c.run(c.tx(i, "identity", "status_list_update",
                   R"({"list":"ids","updates":[[4095,2],[4096,1],[131071,2],[9000,2]]})")) == 0);
  CHECK(c.run(c.tx(i, "identity", "status_list_update",
                   R"({"list":"ids","updates":[[9000,0]]})")) == 0);
  // A chunk back to all-valid leaves the state.
  CHECK(c.state()->get("identity", "list/" + i.did() + "/ids/2").value() == std::nullopt);
  CHECK(c.state()->get("identity", "list/" + i.did() + "/ids/1").value().has_value());
  auto whole = read_status_list(*c.state(), "identity", i.did(), "ids").value();
  REQUIRE(whole.has_value());
  CHECK(whole->size() == 131072);
  for (auto [idx, want] : {std::pair<uint64_t, int>{4095, 2},
                           {4096, 1},
                           {131071, 2},
                           {9000, 0},
                           {17, 1},
                           {4242, 0},
                           {0, 0}}) {
    CAPTURE(idx);
    CHECK(static_cast<int>(whole->get(idx).value()) == want);
    CHECK(static_cast<int>(
              read_status_entry(*c.state(), "identity", i.did(), "ids", idx).value().value()) ==
          want);
  }
  auto served = status_list_json(*c.state(), "identity", i.did(), "ids").value();
  REQUIRE(served.has_value());
  CHECK(served->rfind(R"({"bits":2,"lst":")", 0) == 0);
  auto token = json(*served);
  CHECK(identity::StatusList::decode(token["lst"].GetString()).value().bytes() == whole->bytes());
}

TEST_CASE("credentials verified against the chain: recovery, freezing and revocation") {
  IdChain c;
  Resident r;
  setup(c, r);
  auto i = issuer();
  REQUIRE(c.run(c.tx(i, "identity", "status_list_create", R"({"list":"ids","size":1024})")) == 0);
  identity::sdjwt::IssueRequest req;
  req.vct = "imi:resident";
  req.issuer = i.did();
  req.issuer_kid = identity::sdjwt::make_kid(i.did(), 1);
  req.iat = 1000;
  req.holder_kid = identity::sdjwt::make_kid(r.did, 1);
  req.status = identity::sdjwt::StatusRef{status_list_uri("identity", i.did(), "ids"), 77};
  req.disclosable = identity::sdjwt::predicate_claims("1950-03-03", 1767225600, "Xinhua").value();
  auto cred = identity::sdjwt::issue(i, req).value();
  const int64_t now = 1767225600;
  auto verify = [&](const identity::KeyPair& holder) {
    auto p = identity::sdjwt::present(cred, holder, {{"age_over_60"}, "did:imi:v", "nonce", now})
                 .value();
    auto state = c.state();
    ChainResolver resolver(*state);
    return identity::sdjwt::verify(p, {"did:imi:v", "nonce", now}, resolver).value();
  };
  CHECK(verify(r.phone).ok);

  SUBCASE("revoked") {
    REQUIRE(c.run(c.tx(i, "identity", "status_list_update",
                       R"({"list":"ids","updates":[[77,1]]})")) == 0);
    auto v = verify(r.phone);
    CHECK_FALSE(v.ok);
    CHECK(v.check("credential_status")->detail == "invalid");
  }
  SUBCASE("frozen DID, then recovered: the old key's credential fails") {
    REQUIRE(c.run(c.tx(registrar1(), "identity", "freeze", R"({"did":")" + r.did + R"("})")) == 0);
    auto frozen = verify(r.phone);
    CHECK_FALSE(frozen.check("did_status")->ok);
    CHECK_FALSE(frozen.ok);
    REQUIRE(c.run(c.tx(registrar1(), "identity", "recover",
                       recover_args(r.did, key(120).public_key(), {}))) == 0);
    REQUIRE(c.run(c.tx(registrar2(), "identity", "recover",
                       recover_args(r.did, key(120).public_key(), {}))) == 0);
    auto v = verify(r.phone);
    CHECK(v.check("did_status")->ok);
    CHECK_FALSE(v.check("holder_key")->ok);
    CHECK_FALSE(v.ok);
  }
  SUBCASE("issuer rotated its key away: old signatures no longer verify") {
    REQUIRE(c.run(c.tx(i, "identity", "rotate",
                       R"({"add":")" + to_hex(key(150).public_key()) + R"("})")) == 0);
    CHECK(verify(r.phone).ok);
    REQUIRE(c.run(c.tx(key(150), "identity", "rotate", R"({"remove":[1]})", i.did())) == 0);
    CHECK_FALSE(verify(r.phone).check("issuer_signature")->ok);
  }
}
