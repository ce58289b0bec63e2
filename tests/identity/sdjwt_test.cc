#include "identity/sdjwt.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

#include "identity/base64url.h"
#include "identity/sdjwt_verify.h"

namespace imi::identity::sdjwt {
namespace {

KeyPair key(uint8_t n) {
  Seed s{};
  s[0] = n;
  s[1] = 0xcd;
  return KeyPair::from_seed(s);
}

// The chain's answers, as a table the test edits.
class MapResolver : public Resolver {
 public:
  std::map<std::string, DidKeys, std::less<>> dids;
  std::map<std::pair<std::string, uint64_t>, CredentialStatus> statuses;
  Result<DidKeys> did_keys(std::string_view did) const override {
    auto it = dids.find(did);
    return it == dids.end() ? DidKeys{} : it->second;
  }
  Result<std::optional<CredentialStatus>> credential_status(const StatusRef& ref) const override {
    auto it = statuses.find({ref.uri, ref.idx});
    if (it == statuses.end()) return std::optional<CredentialStatus>();
    return std::optional<CredentialStatus>(it->second);
  }
};

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
const std::string kUri = "imi:status-list/identity/issuer/1";

struct World {
  KeyPair issuer = key(1);
  KeyPair holder = key(2);
  MapResolver resolver;
  World() {
    resolver.dids[issuer.did()] = {DidStatus::kActive, {{1, issuer.public_key()}}};
    resolver.dids[holder.did()] = {DidStatus::kActive, {{1, holder.public_key()}}};
    resolver.statuses[{kUri, 4242}] = CredentialStatus::kValid;
  }
  IssueRequest request(bool jwk = false) const {
    IssueRequest r;
    r.vct = "imi:resident";
    r.issuer = issuer.did();
    r.issuer_kid = make_kid(issuer.did(), 1);
    r.iat = kNow - 86400;
    r.nbf = kNow - 86400;
    r.exp = kNow + 365 * 86400;
    r.holder_kid = make_kid(holder.did(), 1);
    if (jwk) r.holder_jwk = holder.public_key();
    r.status = StatusRef{kUri, 4242};
    r.disclosable = {string_claim("name", "Li Wei"), string_claim("birth_date", "1990-05-17"),
                     string_claim("address", "12 Garden Road")};
    auto p = predicate_claims("1990-05-17", kNow, "Xinhua").value();
    r.disclosable.insert(r.disclosable.end(), p.begin(), p.end());
    return r;
  }
  std::string credential(bool jwk = false) const { return issue(issuer, request(jwk)).value(); }
  std::string presentation(const std::string& cred, std::vector<std::string> names,
                           std::string aud = "did:imi:verifier", std::string nonce = "n-123",
                           int64_t iat = kNow - 10) const {
    return present(cred, holder, {std::move(names), std::move(aud), std::move(nonce), iat}).value();
  }
  Verification verify(const std::string& p, Expectations e = {"did:imi:verifier", "n-123", kNow}) {
    return sdjwt::verify(p, e, resolver).value();
  }
};

std::vector<std::string> failed(const Verification& v) {
  std::vector<std::string> out;
  for (const auto& c : v.checks) {
    if (!c.ok) out.push_back(c.name);
  }
  return out;
}

using Names = std::vector<std::string>;

TEST_CASE("issue, present and verify: only the chosen claims are disclosed") {
  World w;
  for (bool jwk : {false, true}) {
    CAPTURE(jwk);
    auto cred = w.credential(jwk);
    auto p = w.presentation(cred, {"age_over_18", "resident_of"});
    auto v = w.verify(p);
    CHECK(failed(v) == Names{});
    CHECK(v.ok);
    CHECK(v.issuer == w.issuer.did());
    CHECK(v.vct == "imi:resident");
    CHECK(v.holder_did == w.holder.did());
    CHECK(v.disclosed == Names{"age_over_18", "resident_of"});
    CHECK(v.claims_json.find("\"age_over_18\":true") != std::string::npos);
    CHECK(v.claims_json.find("\"resident_of\":\"Xinhua\"") != std::string::npos);
    CHECK(v.claims_json.find("Li Wei") == std::string::npos);
    CHECK(v.claims_json.find("1990") == std::string::npos);
    CHECK(p.find("Li Wei") == std::string::npos);
    CHECK(v.to_json().rfind("{\"ok\":true,", 0) == 0);
  }
}

TEST_CASE("issuance: fresh 128-bit salts, decoys, sorted _sd, no personal value in the JWT") {
  World w;
  auto a = split(w.credential()).value();
  auto b = split(w.credential()).value();
  REQUIRE(a.disclosures.size() == 6);
  std::set<std::string> salts;
  for (const auto* parts : {&a, &b}) {
    for (const auto& d : parts->disclosures) {
      auto text = base64url_decode_string(d).value();
      auto salt = text.substr(2, text.find('"', 2) - 2);
      CHECK(base64url_decode(salt)->size() == kSaltBytes);
      salts.insert(salt);
    }
  }
  CHECK(salts.size() == 12);  // no salt repeats, within or across credentials
  auto payload = base64url_decode_string(
                     a.jwt.substr(a.jwt.find('.') + 1, a.jwt.rfind('.') - a.jwt.find('.') - 1))
                     .value();
  CHECK(payload.find("Li Wei") == std::string::npos);
  CHECK(payload.find("\"_sd_alg\":\"sha-256\"") != std::string::npos);
  size_t digests = 0;
  for (size_t pos = payload.find("\"_sd\":["); pos < payload.find(']', payload.find("\"_sd\":["));
       pos = payload.find(',', pos + 1)) {
    ++digests;
  }
  CHECK(digests == 6 + 3);  // six claims and three decoys
}

TEST_CASE("a holder may disclose nothing, or everything") {
  World w;
  auto cred = w.credential();
  CHECK(w.verify(w.presentation(cred, {})).ok);
  auto all = w.verify(w.presentation(
      cred, {"name", "birth_date", "address", "age_over_18", "age_over_60", "resident_of"}));
  CHECK(all.ok);
  CHECK(all.claims_json.find("\"age_over_60\":false") != std::string::npos);
  CHECK(present(cred, w.holder, {{"nickname"}, "a", "n", kNow}).status().code() ==
        "sdjwt.bad_request");
}

TEST_CASE("verification failures name the check that failed") {
  World w;
  auto cred = w.credential();
  auto good = w.presentation(cred, {"age_over_18"});

  SUBCASE("wrong issuer signature") {
    World other;
    other.resolver.dids[w.issuer.did()] = {DidStatus::kActive, {{1, key(9).public_key()}}};
    other.resolver.dids[w.holder.did()] = w.resolver.dids[w.holder.did()];
    other.resolver.statuses = w.resolver.statuses;
    CHECK(failed(other.verify(good)) == Names{"issuer_signature"});
  }
  SUBCASE("issuer unknown") {
    w.resolver.dids.erase(w.issuer.did());
    CHECK(failed(w.verify(good)) == Names{"issuer_signature"});
  }
  SUBCASE("tampered disclosure") {
    auto parts = split(good).value();
    auto text = base64url_decode_string(parts.disclosures[0]).value();
    auto pos = text.find("true");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 4, "false");
    std::string forged = parts.jwt + "~" + base64url_encode(text) + "~";
    forged =
        present(forged, w.holder, {{"age_over_18"}, "did:imi:verifier", "n-123", kNow}).value();
    auto v = w.verify(forged);
    CHECK(failed(v) == Names{"disclosures"});
    CHECK_FALSE(v.ok);
  }
  SUBCASE("a disclosure repeated") {
    auto parts = split(cred).value();
    std::string twice = parts.jwt + "~" + parts.disclosures[0] + "~" + parts.disclosures[0] + "~";
    std::string kb = good.substr(good.rfind('~') + 1);
    auto v = w.verify(twice + kb);
    CHECK(std::find(failed(v).begin(), failed(v).end(), "duplicate_digests") != failed(v).end());
  }
  SUBCASE("a disclosure added after key binding breaks sd_hash") {
    auto parts = split(cred).value();
    auto kb = good.substr(good.rfind('~') + 1);
    auto v = w.verify(good.substr(0, good.rfind('~') + 1) + parts.disclosures[1] + "~" + kb);
    CHECK(failed(v) == Names{"sd_hash"});
  }
  SUBCASE("wrong audience") {
    CHECK(failed(w.verify(w.presentation(cred, {"age_over_18"}, "did:imi:other"))) ==
          Names{"audience"});
  }
  SUBCASE("wrong nonce") {
    CHECK(failed(w.verify(w.presentation(cred, {"age_over_18"}, "did:imi:verifier", "n-999"))) ==
          Names{"nonce"});
  }
  SUBCASE("stale key binding, and one from the future") {
    CHECK(failed(w.verify(w.presentation(cred, {}, "did:imi:verifier", "n-123", kNow - 301))) ==
          Names{"freshness"});
    CHECK(failed(w.verify(w.presentation(cred, {}, "did:imi:verifier", "n-123", kNow + 120))) ==
          Names{"freshness"});
  }
  SUBCASE("KB-JWT signed by another key") {
    auto forged = present(cred, key(7), {{}, "did:imi:verifier", "n-123", kNow}).value();
    CHECK(failed(w.verify(forged)) == Names{"key_binding"});
  }
  SUBCASE("no KB-JWT") {
    CHECK(failed(w.verify(cred)) == Names{"format", "issuer_signature", "disclosures",
                                          "duplicate_digests", "key_binding", "sd_hash", "audience",
                                          "nonce", "freshness", "validity_period", "holder_key",
                                          "did_status", "credential_status"});
    Expectations own{"", "", kNow};
    own.require_key_binding = false;
    CHECK(w.verify(cred, own).ok);  // the holder's wallet checks its own credential
  }
  SUBCASE("revoked and suspended") {
    w.resolver.statuses[{kUri, 4242}] = CredentialStatus::kInvalid;
    auto v = w.verify(good);
    CHECK(failed(v) == Names{"credential_status"});
    CHECK(v.check("credential_status")->detail == "invalid");
    w.resolver.statuses[{kUri, 4242}] = CredentialStatus::kSuspended;
    CHECK(w.verify(good).check("credential_status")->detail == "suspended");
    w.resolver.statuses.clear();
    CHECK(failed(w.verify(good)) == Names{"credential_status"});
  }
  SUBCASE("recovered identity: the old key is no longer current") {
    w.resolver.dids[w.holder.did()] = {DidStatus::kActive, {{2, key(3).public_key()}}};
    CHECK(failed(w.verify(good)) == Names{"key_binding", "holder_key"});
  }
  SUBCASE("frozen and deactivated holder DIDs") {
    w.resolver.dids[w.holder.did()].status = DidStatus::kFrozen;
    CHECK(failed(w.verify(good)) == Names{"did_status"});
    w.resolver.dids[w.holder.did()].status = DidStatus::kDeactivated;
    CHECK(w.verify(good).check("did_status")->detail == "holder DID is deactivated");
  }
  SUBCASE("validity period") {
    auto r = w.request();
    r.exp = kNow - 3600;
    auto expired = w.presentation(issue(w.issuer, r).value(), {});
    CHECK(failed(w.verify(expired)) == Names{"validity_period"});
    r.exp = std::nullopt;
    r.nbf = kNow + 3600;
    CHECK(failed(w.verify(w.presentation(issue(w.issuer, r).value(), {}))) ==
          Names{"validity_period"});
  }
  SUBCASE("jwk in cnf that does not match the named key") {
    auto r = w.request(true);
    r.holder_jwk = key(8).public_key();
    auto p = present(issue(w.issuer, r).value(), key(8), {{}, "did:imi:verifier", "n-123", kNow})
                 .value();
    CHECK(failed(w.verify(p)) == Names{"key_binding", "holder_key"});
  }
}

TEST_CASE("malformed input never crashes: every truncation and a byte flip at each position") {
  World w;
  auto good = w.presentation(w.credential(), {"age_over_18"});
  for (size_t n = 0; n < good.size(); n += 7) {
    auto v = verify(good.substr(0, n), {"did:imi:verifier", "n-123", kNow}, w.resolver);
    REQUIRE(v.is_ok());
    CHECK_FALSE(v->ok);
  }
  for (size_t i = 0; i < good.size(); i += 5) {
    std::string bad = good;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto v = verify(bad, {"did:imi:verifier", "n-123", kNow}, w.resolver);
    REQUIRE(v.is_ok());
    CHECK_FALSE(v->ok);
  }
  CHECK(split("").status().code() == "sdjwt.malformed");
  CHECK(split("abc~~").status().code() == "sdjwt.malformed");
  CHECK(present("x", w.holder, {}).status().code() == "sdjwt.malformed");
}

TEST_CASE("issue rejects reserved or repeated claim names and bad kids") {
  World w;
  auto r = w.request();
  r.disclosable.push_back(string_claim("iss", "x"));
  CHECK(issue(w.issuer, r).status().code() == "sdjwt.bad_request");
  r = w.request();
  r.plain.push_back(string_claim("name", "x"));
  CHECK(issue(w.issuer, r).status().code() == "sdjwt.bad_request");
  r = w.request();
  r.issuer_kid = make_kid(w.holder.did(), 1);
  CHECK(issue(w.issuer, r).status().code() == "sdjwt.bad_request");
  r = w.request();
  r.disclosable.push_back({"x", "{not json"});
  CHECK(issue(w.issuer, r).status().code() == "sdjwt.bad_request");
}

TEST_CASE("predicate claims from a birth date, on and around birthdays") {
  auto p = predicate_claims("2008-01-01", kNow, "Xinhua").value();  // 18 today
  CHECK(p[0].value_json == "true");
  CHECK(p[1].value_json == "false");
  CHECK(p[2].value_json == "\"Xinhua\"");
  CHECK(predicate_claims("2008-01-02", kNow, "").value()[0].value_json == "false");
  CHECK(predicate_claims("2008-01-02", kNow, "").value().size() == 2);
  CHECK(predicate_claims("1966-01-01", kNow, "").value()[1].value_json == "true");
  CHECK(predicate_claims("1966-01-02", kNow, "").value()[1].value_json == "false");
  CHECK(predicate_claims("2024-02-29", kNow, "").is_ok());
  CHECK(predicate_claims("2023-02-29", kNow, "").status().code() == "sdjwt.bad_request");
  CHECK(predicate_claims("1990-13-01", kNow, "").status().code() == "sdjwt.bad_request");
  CHECK(predicate_claims("1990-5-17", kNow, "").status().code() == "sdjwt.bad_request");
}

TEST_CASE("kids name a DID key by number") {
  auto k = parse_kid("did:imi:" + std::string(40, 'a') + "#key-12");
  REQUIRE(k.has_value());
  CHECK(k->n == 12);
  CHECK_FALSE(parse_kid("did:imi:" + std::string(40, 'a') + "#key-01").has_value());
  CHECK_FALSE(parse_kid("did:imi:" + std::string(40, 'a') + "#key-").has_value());
  CHECK_FALSE(parse_kid("did:imi:xyz#key-1").has_value());
  CHECK_FALSE(parse_kid("did:imi:" + std::string(40, 'a')).has_value());
}

}  // namespace
}  // namespace imi::identity::sdjwt
