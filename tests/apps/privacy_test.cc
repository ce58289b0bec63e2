// Nothing personal on chain (DESIGN "Principles"): yes/no answers, consent and
// the access log, sealed boxes, and a scan of every byte the identity,
// endorse, answers and consent flows committed for the personal values used.
#include <doctest/doctest.h>
#include <leveldb/db.h>

#include <memory>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sdjwt.h"
#include "identity/sdjwt_verify.h"
#include "identity/sealed.h"
#include "tests/apps/identity_registry_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::idtest;

namespace {

constexpr int64_t kNow = 1767225600;

std::string b64_std(ByteView data, bool pad) {
  std::string s = identity::base64url_encode(data);
  for (char& ch : s) {
    if (ch == '-') ch = '+';
    if (ch == '_') ch = '/';
  }
  if (pad) {
    while (s.size() % 4) s += '=';
  }
  return s;
}

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// Every spelling of `value` the scan looks for: plain, hex (both cases),
// base64 (padded, unpadded), base64url, the stable middle of its base64 and
// base64url encodings at each alignment inside a longer string, and its
// unsalted SHA-256 (raw, hex, base64, base64url).
std::vector<std::string> spellings(const std::string& value) {
  std::vector<std::string> out{value, to_hex(as_bytes(value)), upper(to_hex(as_bytes(value)))};
  for (size_t shift = 0; shift < 3; ++shift) {
    std::string shifted = std::string(shift, 'x') + value;
    for (bool url : {false, true}) {
      std::string enc =
          url ? identity::base64url_encode(shifted) : b64_std(as_bytes(shifted), false);
      if (shift == 0) out.push_back(enc);
      if (enc.size() >= 14) out.push_back(enc.substr(4, enc.size() - 8));
    }
  }
  out.push_back(b64_std(as_bytes(value), true));
  Hash32 h = sha256(value);
  out.emplace_back(h.begin(), h.end());
  out.push_back(to_hex(h));
  out.push_back(identity::base64url_encode(ByteView(h.data(), h.size())));
  out.push_back(b64_std(ByteView(h.data(), h.size()), true));
  return out;
}

// Every key and value in the chain's LevelDB: blocks, transactions,
// results, certificates and the state tree. Returns the values found.
std::vector<std::string> scan(IdChain& c, const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> needles;
  for (const auto& v : values) {
    for (auto& s : spellings(v)) needles.emplace_back(v, std::move(s));
  }
  std::vector<std::string> found;
  std::unique_ptr<leveldb::Iterator> it(c.store().db()->NewIterator(leveldb::ReadOptions()));
  size_t entries = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++entries;
    for (const auto& part : {it->key().ToString(), it->value().ToString()}) {
      for (const auto& [v, n] : needles) {
        if (part.find(n) != std::string::npos &&
            std::find(found.begin(), found.end(), v) == found.end()) {
          found.push_back(v);
        }
      }
    }
  }
  REQUIRE(it->status().ok());
  CHECK(entries > 50);
  return found;
}

const std::string kName = "Zhang Xiaoming";
const std::string kBirth = "1987-09-23";
const std::string kIdNumber = "110105198709230031";
const std::string kAddress = "Room 1203, 88 Xinhua Road, Huangpu";
const std::string kParty = "Jiusan Society";
const std::string kMemberNo = "JS-2015-004417";

}  // namespace

TEST_CASE("sealed boxes open only with the recipient's key and detect tampering") {
  auto dept = key(75);
  auto box = identity::seal(dept.public_key(), as_bytes(std::string_view("yes"))).value();
  CHECK(box.size() == 3 + identity::kSealedOverheadBytes);
  auto opened = identity::open_sealed(dept, box).value();
  CHECK(std::string(opened.begin(), opened.end()) == "yes");
  CHECK(identity::open_sealed(key(76), box).status().code() == "sealed.cannot_open");
  box[10] ^= 1;
  CHECK(identity::open_sealed(dept, box).status().code() == "sealed.cannot_open");
  CHECK(identity::open_sealed(dept, Bytes(10)).status().code() == "sealed.cannot_open");
  identity::PublicKey small_order{};  // the identity point: no X25519 counterpart
  small_order[0] = 1;
  CHECK(identity::seal(small_order, Bytes{1}).status().code() == "sealed.bad_key");
}

TEST_CASE(
    "yes/no answers: a signed salted commitment on chain, the answer sealed to the department") {
  IdChain c;
  register_actors(c);
  AnswerOpening o{"case-2026-0001", "age_over_18", true, {}};
  auto args = make_answer_args(authority(), o, department().did(), department().public_key());
  REQUIRE(args.is_ok());
  CHECK(c.run(c.tx(authority(), "answers", "answer", *args)) == 0);
  CHECK(c.run(c.tx(authority(), "answers", "answer", *args)) == ledger::kCodeConflict);

  auto opened = open_answer(department(), (*args)["sealed"].GetString());
  REQUIRE(opened.is_ok());
  CHECK(opened->answer);
  CHECK(opened->question == "age_over_18");
  CHECK(open_answer(authority(), (*args)["sealed"].GetString()).status().code() ==
        "sealed.cannot_open");
  auto rec = find_answer(*c.state(), *opened).value();
  REQUIRE(rec.has_value());  // the department, or an auditor shown the opening, checks it
  CHECK(rec->authority == authority().did());
  CHECK(rec->department == department().did());
  AnswerOpening lie = *opened;
  lie.answer = false;
  CHECK(find_answer(*c.state(), lie).value() == std::nullopt);

  SUBCASE("a forged signature, a non-authority or a non-department is refused") {
    AnswerOpening o2{"case-2026-0002", "age_over_18", false, {}};
    auto a2 = make_answer_args(authority(), o2, department().did(), department().public_key());
    std::string sig = (*a2)["answer"]["sig"].GetString();
    sig[5] = sig[5] == 'a' ? 'b' : 'a';
    (*a2)["answer"]["sig"].SetString(sig.c_str(), a2->GetAllocator());
    CHECK(c.run(c.tx(department(), "answers", "answer", *a2)) == kAnswerCodeBadSignature);
    auto a3 = make_answer_args(department(), o2, department().did(), department().public_key());
    CHECK(c.run(c.tx(department(), "answers", "answer", *a3)) == ledger::kCodeForbidden);
    auto a4 = make_answer_args(authority(), o2, auditor().did(), auditor().public_key());
    CHECK(c.run(c.tx(authority(), "answers", "answer", *a4)) == ledger::kCodeForbidden);
    CHECK(c.run(c.tx(authority(), "answers", "answer", "{}")) == ledger::kCodeBadArgs);
    CHECK(make_answer_args(authority(), {"bad case!", "q", true, {}}, department().did(),
                           department().public_key())
              .status()
              .code() == "answers.bad_request");
  }
}

TEST_CASE(
    "consent (rules version 1): reads need an unexpired consent covering the attributes; each "
    "is logged") {
  IdChain c;
  register_actors(c);
  auto resident = key(100);
  REQUIRE(c.run(c.tx(resident, "identity", "register", register_args(resident, registrar1()))) ==
          0);
  const uint64_t until = 1000 + 10 * (c.height() + 20);  // expires in 20 blocks
  auto consent = make_consent_v1(
      resident, {department().did(), {"birth_date", "address"}, "housing subsidy", until});
  const std::string id = consent_id(consent);
  rapidjson::Document grant(rapidjson::kObjectType);
  grant.AddMember("consent", rapidjson::Value(consent, grant.GetAllocator()), grant.GetAllocator());

  auto read = [&](const identity::KeyPair& reader, std::vector<std::string> attrs,
                  std::string consent_id_hex) {
    ReadOpeningV1 o{consent_id_hex, std::move(attrs), "HS-77", {}};
    auto args = make_read_args_v1(o, resident.public_key(), &auditor().public_key()).value();
    return c.block({c.tx(reader, "consent", "read", args)});
  };

  CHECK(read(department(), {"address"}, id).results[0].code() == kConsentCodeNoConsent);
  CHECK(c.run(c.tx(key(140), "consent", "grant", grant)) == ledger::kCodeForbidden);
  CHECK(c.run(c.tx(department(), "consent", "grant", grant)) == 0);
  CHECK(c.run(c.tx(department(), "consent", "grant", grant)) == ledger::kCodeConflict);

  auto ok = read(department(), {"address"}, id);
  REQUIRE(ok.results[0].code() == 0);
  CHECK(read(department(), {"income"}, id).results[0].code() == kConsentCodeNotCovered);
  CHECK(read(authority(), {"address"}, id).results[0].code() == ledger::kCodeForbidden);

  // The resident and the auditor open the logged read and check it against the chain.
  const auto& args = ok.txs[0].args();
  for (const auto& [who, field] :
       {std::pair{resident, "resident"}, std::pair{auditor(), "auditor"}}) {
    auto opened = open_read_v1(who, args["sealed"][field].GetString());
    REQUIRE(opened.is_ok());
    CHECK(opened->consent == id);
    CHECK(opened->attributes == std::vector<std::string>{"address"});
    CHECK(to_hex(read_commitment_v1(*opened)) == args["commitment"].GetString());
    auto log = c.state()->get_json("consent", "read/" + id + "/" + ok.txs[0].id_hex()).value();
    REQUIRE(log.has_value());
    CHECK(std::string((*log)["commitment"].GetString()) == to_hex(read_commitment_v1(*opened)));
  }
  CHECK(open_read_v1(department(), args["sealed"]["resident"].GetString()).status().code() ==
        "sealed.cannot_open");

  SUBCASE("expired") {
    while (1000 + 10 * (c.height() + 1) < until) c.block({});
    CHECK(read(department(), {"address"}, id).results[0].code() == kConsentCodeNoConsent);
  }
  SUBCASE("revoked by the resident only") {
    std::string rv = R"({"consent":")" + id + "\"}";
    CHECK(c.run(c.tx(department(), "consent", "revoke", rv)) == ledger::kCodeForbidden);
    CHECK(c.run(c.tx(resident, "consent", "revoke", rv)) == 0);
    CHECK(read(department(), {"address"}, id).results[0].code() == kConsentCodeNoConsent);
  }
  SUBCASE("a consent with a bad signature or already expired") {
    auto forged = make_consent_v1(resident, {department().did(), {"address"}, "x", until + 1});
    forged["purpose"].SetString("everything", forged.GetAllocator());
    rapidjson::Document g(rapidjson::kObjectType);
    g.AddMember("consent", rapidjson::Value(forged, g.GetAllocator()), g.GetAllocator());
    CHECK(c.run(c.tx(department(), "consent", "grant", g)) == kConsentCodeBadSignature);
    auto old = make_consent_v1(resident, {department().did(), {"address"}, "x", 1000});
    rapidjson::Document g2(rapidjson::kObjectType);
    g2.AddMember("consent", rapidjson::Value(old, g2.GetAllocator()), g2.GetAllocator());
    CHECK(c.run(c.tx(resident, "consent", "grant", g2)) == ledger::kCodeBadArgs);
  }
}

TEST_CASE("the scanner finds a personal value that does reach the chain") {
  IdChain c;
  register_actors(c);
  const std::string note_b64 = identity::base64url_encode("name=" + kName);
  REQUIRE(c.run(c.tx(
              key(150), "anchor", "anchor",
              R"({"hash":")" + to_hex(sha256(kBirth)) + R"(","note":")" + note_b64 + "\"}")) == 0);
  auto found = scan(c, {kName, kBirth, kIdNumber});
  CHECK(found == std::vector<std::string>{kName, kBirth});
}

TEST_CASE("no personal data on chain after the identity, endorse, answer and consent flows") {
  IdChain c;
  register_actors(c);
  auto resident = key(100);
  auto guardian = key(101);
  const Hash32 salt{9, 9, 9};
  REQUIRE(c.run(c.tx(guardian, "identity", "register", register_args(guardian, registrar2()))) ==
          0);
  REQUIRE(c.run(c.tx(resident, "identity", "register",
                     register_args(resident, registrar1(),
                                   {guardian_commitment(guardian.did(), salt)}))) == 0);
  REQUIRE(c.run(c.tx(issuer(), "identity", "status_list_create",
                     R"({"list":"ids","size":4096})")) == 0);
  REQUIRE(c.run(c.tx(party_org(), "endorse", "define", R"({"types":["party_member"]})")) == 0);
  REQUIRE(c.run(c.tx(party_org(), "endorse", "status_list_create",
                     R"({"list":"m","size":4096})")) == 0);

  // Off chain: an ID credential with every personal claim, and a party membership.
  identity::sdjwt::IssueRequest id;
  id.vct = "imi:resident";
  id.issuer = issuer().did();
  id.issuer_kid = identity::sdjwt::make_kid(issuer().did(), 1);
  id.iat = kNow;
  id.holder_kid = identity::sdjwt::make_kid(resident.did(), 1);
  id.holder_jwk = resident.public_key();
  id.status = identity::sdjwt::StatusRef{status_list_uri("identity", issuer().did(), "ids"), 2931};
  id.disclosable = {identity::sdjwt::string_claim("name", kName),
                    identity::sdjwt::string_claim("birth_date", kBirth),
                    identity::sdjwt::string_claim("id_number", kIdNumber),
                    identity::sdjwt::string_claim("address", kAddress)};
  auto preds = identity::sdjwt::predicate_claims(kBirth, kNow, "Huangpu").value();
  id.disclosable.insert(id.disclosable.end(), preds.begin(), preds.end());
  auto id_cred = identity::sdjwt::issue(issuer(), id).value();
  auto member =
      identity::sdjwt::issue(
          party_org(), endorsement_request(party_org().did(), 1, id.holder_kid, "party_member", "m",
                                           1187, kNow, kNow, kNow + 86400 * 365,
                                           {identity::sdjwt::string_claim("party", kParty),
                                            identity::sdjwt::string_claim("member_no", kMemberNo)}))
          .value();
  {
    auto state = c.state();
    ChainResolver resolver(*state);
    for (const auto& [cred, shown] :
         {std::pair{id_cred, "age_over_18"}, std::pair{member, "party"}}) {
      auto p = identity::sdjwt::present(cred, resident, {{shown}, department().did(), "n", kNow});
      REQUIRE(p.is_ok());
      CHECK(identity::sdjwt::verify(*p, {department().did(), "n", kNow}, resolver).value().ok);
    }
  }
  // On chain: status changes, an answer, a consent and a read, a lost phone.
  REQUIRE(c.run(c.tx(party_org(), "endorse", "status_list_update",
                     R"({"list":"m","updates":[[1187,2]]})")) == 0);
  auto answer = make_answer_args(authority(), {"case-9", "age_over_18", true, {}},
                                 department().did(), department().public_key());
  REQUIRE(c.run(c.tx(authority(), "answers", "answer", *answer)) == 0);
  auto consent = make_consent_v1(resident, {department().did(), {"address"}, "subsidy", 1000000});
  rapidjson::Document grant(rapidjson::kObjectType);
  grant.AddMember("consent", rapidjson::Value(consent, grant.GetAllocator()), grant.GetAllocator());
  REQUIRE(c.run(c.tx(resident, "consent", "grant", grant)) == 0);
  auto read = make_read_args_v1({consent_id(consent), {"address"}, "HS-1", {}},
                                resident.public_key(), &auditor().public_key());
  REQUIRE(c.run(c.tx(department(), "consent", "read", *read)) == 0);
  REQUIRE(c.run(c.tx(registrar1(), "identity", "freeze",
                     R"({"did":")" + resident.did() + R"("})")) == 0);
  std::vector<rapidjson::Document> approvals;
  approvals.push_back(approval(guardian, resident.did(), key(120).public_key(), 0, &salt));
  REQUIRE(c.run(c.tx(registrar1(), "identity", "recover",
                     recover_args(resident.did(), key(120).public_key(), std::move(approvals)))) ==
          0);

  auto found = scan(c, {kName, kBirth, kIdNumber, kAddress, kParty, kMemberNo, "Huangpu"});
  CHECK(found == std::vector<std::string>{});
  // The guardian is named only by a salted commitment until it approves.
  auto doc = did_document(*c.state(), resident.did()).value();
  REQUIRE(doc.has_value());
  CHECK(doc->find(guardian.did()) == std::string::npos);
}
