// The consent app (apps/consent.h): the rules-version-2 format keeps every
// term off chain (commitments and sealed boxes only), coverage is enforced
// commitment by commitment, lawful-basis reads are flagged and listed, each
// resident lists and opens every access to them, and a rules-version-1
// chain keeps its old format.
#include <doctest/doctest.h>
#include <leveldb/db.h>

#include <memory>

#include "apps/consent.h"
#include "apps/governance.h"
#include "base/sha256.h"
#include "tests/apps/chain_fixture.h"

using namespace imi;
using namespace imi::apps;
using imi::apps::testing::key;

namespace {

identity::KeyPair department() { return key(75); }
identity::KeyPair department2() { return key(78); }
identity::KeyPair stranger() { return key(76); }
identity::KeyPair auditor() { return key(77); }
identity::KeyPair resident() { return key(100); }

const std::string kPurpose = "housing subsidy application HS-2026";
const std::vector<std::string> kGranted = {"birth_date", "home_address"};

std::string roles_extra(uint64_t rules_version) {
  std::string r = R"(,"roles":[)";
  r += R"({"role":"department","did":")" + department().did() + R"("},)";
  r += R"({"role":"department","did":")" + department2().did() + R"("},)";
  r += R"({"role":"auditor","did":")" + auditor().did() + R"("}])";
  if (rules_version > 0) r += R"(,"rules_version":)" + std::to_string(rules_version);
  return r;
}

struct ConsentChain {
  testing::Chain c;
  explicit ConsentChain(uint64_t rules_version)
      : c(1, roles_extra(rules_version), apps_list(), true) {
    // The resident's account exists from its first transaction.
    REQUIRE(code(resident(), "anchor", "anchor",
                 R"({"hash":")" + to_hex(sha256("first")) + "\"}") == 0);
  }
  static std::vector<std::unique_ptr<ledger::App>> apps_list() {
    std::vector<std::unique_ptr<ledger::App>> v;
    v.push_back(std::make_unique<ConsentApp>());
    return v;
  }
  int64_t code(const identity::KeyPair& k, std::string_view app, std::string_view op,
               const std::string& args) {
    auto b = c.block({c.tx(k, app, op, args)});
    INFO(b.results[0].message());
    return b.results[0].code();
  }
  int64_t consent(const identity::KeyPair& k, std::string_view op, const rapidjson::Value& args) {
    return code(k, "consent", op, ledger::jcs(args));
  }
  std::string stored(const std::string& key) {
    auto v = c.state()->get(kConsentApp, key).value();
    REQUIRE(v.has_value());
    return *v;
  }
  rapidjson::Document stored_json(const std::string& key) { return testing::json(stored(key)); }
  std::vector<std::string> query(std::string_view name, ledger::QueryParams params) {
    auto page = ConsentApp().query(name, params, "", 100, c.index());
    REQUIRE_MESSAGE(page.is_ok(), page.status().to_string());
    return page->keys;
  }
};

rapidjson::Document grant_args(const rapidjson::Value& consent) {
  rapidjson::Document g(rapidjson::kObjectType);
  g.AddMember("consent", rapidjson::Value(consent, g.GetAllocator()), g.GetAllocator());
  return g;
}

SignedConsent signed_consent(uint64_t until, const std::string& dept = department().did()) {
  auto s = make_consent(resident(), {dept, kGranted, kPurpose, until}, department().public_key(),
                        &auditor().public_key());
  REQUIRE_MESSAGE(s.is_ok(), s.status().to_string());
  return std::move(s).value();
}

rapidjson::Document read_args(const SignedConsent& s, const std::vector<std::string>& names,
                              const std::string& case_id = "HS-77") {
  auto o = consent_read(s.terms, s.id, names, case_id);
  REQUIRE_MESSAGE(o.is_ok(), o.status().to_string());
  auto a = make_read_args(*o, resident().did(), resident().public_key(), &auditor().public_key());
  REQUIRE_MESSAGE(a.is_ok(), a.status().to_string());
  return std::move(a).value();
}

// Whether `needle` (or its hex) occurs anywhere in the chain's LevelDB:
// blocks, transactions, results and the state tree.
bool on_chain(testing::Chain& c, const std::string& needle) {
  std::unique_ptr<leveldb::Iterator> it(c.store().db()->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    for (const auto& part : {it->key().ToString(), it->value().ToString()}) {
      if (part.find(needle) != std::string::npos ||
          part.find(to_hex(as_bytes(needle))) != std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

TEST_CASE("consent v2: the chain holds commitments only; the terms open for their parties") {
  ConsentChain ch(2);
  CHECK(ch.stored("rules") == R"({"version":2})");
  auto s = signed_consent(ch.c.time() + 10000);
  REQUIRE(ch.consent(department(), "grant", grant_args(s.consent)) == 0);
  CHECK(ch.consent(resident(), "grant", grant_args(s.consent)) == ledger::kCodeConflict);

  // The stored record: the commitments, the parties, until; no name, no purpose.
  const std::string rec = ch.stored("consent/" + s.id);
  auto doc = testing::json(rec);
  CHECK(ledger::expect_members(
            doc, {"attribute_commitments", "department", "resident", "terms", "until", "v"})
            .is_ok());
  for (const auto& needle : {kPurpose, kGranted[0], kGranted[1], std::string("purpose")}) {
    CHECK(rec.find(needle) == std::string::npos);
  }
  CHECK(doc["attribute_commitments"].Size() == 2);
  CHECK(terms_match(s.terms, doc));
  // Nowhere on chain either: not in the transaction, the block or the results.
  for (const auto& needle : {kPurpose, kGranted[0], kGranted[1]}) {
    INFO(needle);
    CHECK_FALSE(on_chain(ch.c, needle));
  }

  // The department and the auditor open the terms and check them against the chain.
  for (const auto& [who, field] :
       {std::pair{department(), "department"}, std::pair{auditor(), "auditor"}}) {
    auto t = open_terms(who, doc, s.consent["sealed"][field].GetString());
    REQUIRE_MESSAGE(t.is_ok(), t.status().to_string());
    CHECK(t->purpose == kPurpose);
    CHECK(t->attributes.size() == 2);
    CHECK(t->attributes[0].name == "birth_date");
  }
  CHECK(
      open_terms(stranger(), doc, s.consent["sealed"]["department"].GetString()).status().code() ==
      "sealed.cannot_open");
  // Another consent's record is not opened by these terms.
  auto other = signed_consent(ch.c.time() + 10000);
  CHECK(open_terms(department(), other.consent, s.consent["sealed"]["department"].GetString())
            .status()
            .code() == "consent.bad_opening");
  TermsOpening lie = s.terms;
  lie.purpose = "anything";
  CHECK_FALSE(terms_match(lie, doc));
}

TEST_CASE("consent v2: grants are signed by the resident, for a department, unexpired") {
  ConsentChain ch(2);
  const uint64_t until = ch.c.time() + 10000;
  SUBCASE("a changed commitment breaks the signature") {
    auto s = signed_consent(until);
    s.consent["terms"].SetString(std::string(64, 'a').c_str(), s.consent.GetAllocator());
    CHECK(ch.consent(resident(), "grant", grant_args(s.consent)) == kConsentCodeBadSignature);
  }
  SUBCASE("neither party sends it, or the department lacks the role") {
    auto s = signed_consent(until);
    CHECK(ch.consent(stranger(), "grant", grant_args(s.consent)) == ledger::kCodeForbidden);
    auto not_dept = signed_consent(until, stranger().did());
    CHECK(ch.consent(resident(), "grant", grant_args(not_dept.consent)) == ledger::kCodeForbidden);
  }
  SUBCASE("already expired") {
    auto s = signed_consent(ch.c.time());
    CHECK(ch.consent(resident(), "grant", grant_args(s.consent)) == ledger::kCodeBadArgs);
  }
  SUBCASE("the version-1 format (terms in clear) is refused") {
    auto old = make_consent_v1(resident(), {department().did(), kGranted, kPurpose, until});
    CHECK(ch.consent(resident(), "grant", grant_args(old)) == ledger::kCodeBadArgs);
  }
  SUBCASE("commitments out of order are refused") {
    auto s = signed_consent(until);
    auto& arr = s.consent["attribute_commitments"];
    std::swap(arr[0], arr[1]);
    CHECK(ch.consent(resident(), "grant", grant_args(s.consent)) == ledger::kCodeBadArgs);
  }
  SUBCASE("the maker refuses terms the chain would refuse") {
    CHECK(make_consent(resident(), {department().did(), {"Bad Name"}, "p", until},
                       department().public_key(), nullptr)
              .status()
              .code() == "consent.bad_terms");
    CHECK(make_consent(resident(), {department().did(), {"a", "a"}, "p", until},
                       department().public_key(), nullptr)
              .status()
              .code() == "consent.bad_terms");
    CHECK(make_consent(resident(), {department().did(), {"a"}, std::string(257, 'p'), until},
                       department().public_key(), nullptr)
              .status()
              .code() == "consent.bad_terms");
  }
}

TEST_CASE("consent v2: a read names commitments the consent holds; others are refused") {
  ConsentChain ch(2);
  const uint64_t until = ch.c.time() + 200;
  auto s = signed_consent(until);
  CHECK(ch.consent(department(), "read", read_args(s, {"home_address"})) == kConsentCodeNoConsent);
  REQUIRE(ch.consent(resident(), "grant", grant_args(s.consent)) == 0);

  auto args = read_args(s, {"home_address"});
  REQUIRE(ch.consent(department(), "read", args) == 0);
  CHECK(ch.consent(department(), "read", read_args(s, {"birth_date", "home_address"})) == 0);
  CHECK(ch.consent(department2(), "read", read_args(s, {"home_address"})) ==
        ledger::kCodeForbidden);

  // An attribute outside the consent: its commitment (under any salt the
  // department picks) is not among the consent's.
  CHECK(consent_read(s.terms, s.id, {"income"}, "HS-77").status().code() == "consent.not_in_terms");
  ReadOpening outside{s.id, "", {{"income", Hash32{1}}}, "HS-77", {}};
  auto outside_args =
      make_read_args(outside, resident().did(), resident().public_key(), nullptr).value();
  CHECK(ch.consent(department(), "read", outside_args) == kConsentCodeNotCovered);
  // A covered name under a guessed salt is not covered either.
  ReadOpening guessed{s.id, "", {{"home_address", Hash32{2}}}, "HS-77", {}};
  CHECK(ch.consent(
            department(), "read",
            make_read_args(guessed, resident().did(), resident().public_key(), nullptr).value()) ==
        kConsentCodeNotCovered);

  SUBCASE("malformed reads") {
    auto two = read_args(s, {"birth_date", "home_address"});
    auto& arr = two["attribute_commitments"];
    std::swap(arr[0], arr[1]);
    CHECK(ch.consent(department(), "read", two) == ledger::kCodeBadArgs);
    auto v1 =
        make_read_args_v1({s.id, {"home_address"}, "HS-77", {}}, resident().public_key(), nullptr)
            .value();
    CHECK(ch.consent(department(), "read", v1) == ledger::kCodeBadArgs);
    auto no_box = read_args(s, {"home_address"});
    no_box["sealed"].RemoveMember("resident");
    CHECK(ch.consent(department(), "read", no_box) == ledger::kCodeBadArgs);
  }
  SUBCASE("expired") {
    while (ch.c.time() + 10 < until) ch.c.block({});
    CHECK(ch.consent(department(), "read", read_args(s, {"home_address"})) ==
          kConsentCodeNoConsent);
  }
  SUBCASE("revoked, by the resident only") {
    rapidjson::Document rv(rapidjson::kObjectType);
    rv.AddMember("consent", rapidjson::Value(s.id.c_str(), rv.GetAllocator()), rv.GetAllocator());
    CHECK(ch.consent(department(), "revoke", rv) == ledger::kCodeForbidden);
    CHECK(ch.consent(resident(), "revoke", rv) == 0);
    CHECK(ch.consent(resident(), "revoke", rv) == ledger::kCodeConflict);
    CHECK(ch.consent(department(), "read", read_args(s, {"home_address"})) ==
          kConsentCodeNoConsent);
    CHECK(ch.stored_json("consent/" + s.id).HasMember("revoked"));
    rv["consent"].SetString(std::string(64, 'c').c_str(), rv.GetAllocator());
    CHECK(ch.consent(resident(), "revoke", rv) == ledger::kCodeNotFound);
  }
}

TEST_CASE("consent v2: lawful-basis reads are flagged, listed for auditors, and need the role") {
  ConsentChain ch(2);
  const identity::PublicKey auditor_key = auditor().public_key();
  auto lawful = [&](std::string basis, const identity::PublicKey* aud) {
    auto o = lawful_read(std::move(basis), {"home_address"}, "POL-9");
    return make_read_args(o, resident().did(), resident().public_key(), aud);
  };
  auto args = lawful("PIPL-13.1.3", &auditor_key).value();
  REQUIRE(ch.consent(department(), "read_lawful", args) == 0);
  REQUIRE(ch.consent(department2(), "read_lawful", lawful("Sec.7_b", &auditor_key).value()) == 0);
  CHECK(ch.consent(stranger(), "read_lawful", args) == ledger::kCodeForbidden);
  auto bad_basis = lawful("PIPL-13", &auditor_key).value();
  bad_basis["basis"].SetString("no spaces allowed", bad_basis.GetAllocator());
  CHECK(ch.consent(department(), "read_lawful", bad_basis) == ledger::kCodeBadArgs);
  CHECK(lawful("PIPL-13", nullptr).status().code() == "consent.bad_read");
  auto no_auditor = lawful("PIPL-13", &auditor_key).value();
  no_auditor["sealed"].RemoveMember("auditor");
  CHECK(ch.consent(department(), "read_lawful", no_auditor) == ledger::kCodeBadArgs);

  // A consent read is not flagged.
  auto s = signed_consent(ch.c.time() + 10000);
  REQUIRE(ch.consent(resident(), "grant", grant_args(s.consent)) == 0);
  REQUIRE(ch.consent(department(), "read", read_args(s, {"birth_date"})) == 0);

  auto flagged = ch.query("flagged", {});
  REQUIRE(flagged.size() == 2);
  for (const auto& k : flagged) {
    CHECK(k.starts_with("access/" + resident().did() + "/"));
    auto rec = ch.stored_json(k);
    CHECK(rec["flagged"].GetBool());
    CHECK_FALSE(rec.HasMember("consent"));
  }
  // Listed by department, oldest first within each.
  auto mine = ch.query("flagged", {{"department", department().did()}});
  REQUIRE(mine.size() == 1);
  auto first = ch.stored_json(mine[0]);
  CHECK(std::string(first["basis"].GetString()) == "PIPL-13.1.3");
  CHECK(std::string(first["department"].GetString()) == department().did());
  CHECK(ch.query("flagged", {{"department", department2().did()}}).size() == 1);
  CHECK(ch.query("flagged", {{"department", stranger().did()}}).empty());
  CHECK(
      ConsentApp().query("flagged", {{"department", "x"}}, "", 10, ch.c.index()).status().code() ==
      "query.bad_param");

  // The auditor opens a flagged access and checks it against the chain.
  auto opened = open_read(auditor(), first["sealed"]["auditor"].GetString());
  REQUIRE(opened.is_ok());
  CHECK(opened->basis == "PIPL-13.1.3");
  CHECK(opened->attributes[0].name == "home_address");
  CHECK(read_matches(*opened, first));
}

TEST_CASE("consent v2: a resident lists and opens every access to them") {
  ConsentChain ch(2);
  auto s = signed_consent(ch.c.time() + 10000);
  REQUIRE(ch.consent(resident(), "grant", grant_args(s.consent)) == 0);
  REQUIRE(ch.consent(department(), "read", read_args(s, {"birth_date"}, "HS-1")) == 0);
  auto lawful = make_read_args(lawful_read("PIPL-13", {"home_address"}, "POL-2"), resident().did(),
                               resident().public_key(), &auditor().public_key())
                    .value();
  REQUIRE(ch.consent(department2(), "read_lawful", lawful) == 0);
  // Another resident's access is not in this resident's list.
  auto other = make_read_args(lawful_read("PIPL-13", {"home_address"}, "POL-3"), key(101).did(),
                              key(101).public_key(), &auditor().public_key())
                   .value();
  REQUIRE(ch.consent(department2(), "read_lawful", other) == 0);

  auto keys = ch.query("accesses", {{"resident", resident().did()}});
  REQUIRE(keys.size() == 2);
  std::vector<std::string> cases;
  for (const auto& k : keys) {
    auto rec = ch.stored_json(k);
    auto o = open_read(resident(), rec["sealed"]["resident"].GetString());
    REQUIRE_MESSAGE(o.is_ok(), o.status().to_string());
    CHECK(read_matches(*o, rec));
    CHECK(to_hex(read_commitment(*o)) == rec["commitment"].GetString());
    cases.push_back(o->case_id);
    // The opening is checked against the commitment: a changed one fails.
    ReadOpening lie = *o;
    lie.case_id = "other";
    CHECK_FALSE(read_matches(lie, rec));
    lie = *o;
    lie.attributes[0].name = "income";
    CHECK_FALSE(read_matches(lie, rec));
    CHECK(open_read(department(), rec["sealed"]["resident"].GetString()).status().code() ==
          "sealed.cannot_open");
  }
  CHECK(cases == std::vector<std::string>{"HS-1", "POL-2"});
  auto first = open_read(resident(), ch.stored_json(keys[0])["sealed"]["resident"].GetString());
  CHECK(first->consent == s.id);
  CHECK(first->attributes[0].name == "birth_date");
  // The named attribute commitment is one of the consent's.
  CHECK(terms_match(s.terms, ch.stored_json("consent/" + s.id)));
  CHECK(ch.query("accesses", {{"resident", key(101).did()}}).size() == 1);
  CHECK(ConsentApp().query("accesses", {}, "", 10, ch.c.index()).status().code() ==
        "query.bad_param");
  CHECK(ConsentApp().query("nope", {}, "", 10, ch.c.index()).status().code() == "query.unknown");
}

TEST_CASE("consent v1 (old chains): the old format still runs; the new one is refused") {
  ConsentChain ch(0);  // genesis without rules_version: version 1
  CHECK_FALSE(ch.c.state()->get(kConsentApp, "rules").value().has_value());
  CHECK(consent_rules_version(*ch.c.state()).value() == 1);
  const uint64_t until = ch.c.time() + 10000;
  auto old = make_consent_v1(resident(), {department().did(), {"home_address"}, "subsidy", until});
  const std::string id = consent_id(old);
  REQUIRE(ch.consent(resident(), "grant", grant_args(old)) == 0);
  // Version 1 stores the terms as it always did (replay gives the same root).
  CHECK(ch.stored("consent/" + id).find("subsidy") != std::string::npos);
  auto read = make_read_args_v1({id, {"home_address"}, "HS-1", {}}, resident().public_key(),
                                &auditor().public_key())
                  .value();
  auto b = ch.c.block({ch.c.tx(department(), "consent", "read", ledger::jcs(read))});
  REQUIRE(b.results[0].code() == 0);
  auto log = ch.stored_json("read/" + id + "/" + b.txs[0].id_hex());
  auto opened = open_read_v1(resident(), read["sealed"]["resident"].GetString()).value();
  CHECK(std::string(log["commitment"].GetString()) == to_hex(read_commitment_v1(opened)));
  CHECK(ch.consent(department(), "read",
                   make_read_args_v1({id, {"income"}, "HS-1", {}}, resident().public_key(), nullptr)
                       .value()) == kConsentCodeNotCovered);

  // The version-2 format, and read_lawful, do not exist under version 1.
  auto s = signed_consent(until);
  CHECK(ch.consent(resident(), "grant", grant_args(s.consent)) == ledger::kCodeBadArgs);
  auto lawful = make_read_args(lawful_read("PIPL-13", {"home_address"}, "P"), resident().did(),
                               resident().public_key(), &auditor().public_key())
                    .value();
  CHECK(ch.consent(department(), "read_lawful", lawful) == ledger::kCodeUnknownOp);
  CHECK(ch.query("accesses", {{"resident", resident().did()}}).empty());
}
