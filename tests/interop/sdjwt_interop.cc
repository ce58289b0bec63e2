// The C++ half of the SD-JWT interoperability test (tests/interop/run.sh).
//   interop_sdjwt write <dir>   writes cpp.json: a credential and a
//                               presentation made by identity/sdjwt, the
//                               issuer's and holder's keys (JWK x), aud, nonce
//   interop_sdjwt check <dir>   verifies the presentation @sd-jwt/core wrote
//                               to node.json with identity::sdjwt::verify,
//                               and its Token Status List
//                               (cpp.json carries one of ours too)
//   interop_sdjwt vectors <file> regenerates tests/vectors/sdjwt.json (run by
//                               hand; deterministic salts and keys)
// Exit code 0 on success, 1 with a message otherwise.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sdjwt.h"
#include "identity/sdjwt_verify.h"
#include "identity/status_list.h"
#include "ledger/json.h"

namespace {

using namespace imi;
using namespace imi::identity;
using namespace imi::identity::sdjwt;

constexpr int64_t kNow = 1767225600;

class KeysResolver : public Resolver {
 public:
  std::map<std::string, DidKeys, std::less<>> dids;
  Result<DidKeys> did_keys(std::string_view did) const override {
    auto it = dids.find(did);
    return it == dids.end() ? DidKeys{} : it->second;
  }
  Result<std::optional<CredentialStatus>> credential_status(const StatusRef&) const override {
    return std::optional<CredentialStatus>(CredentialStatus::kValid);
  }
};

KeyPair key(uint8_t n) {
  Seed s{};
  s[0] = n;
  s[1] = 0x1e;
  return KeyPair::from_seed(s);
}

std::string x_of(const PublicKey& k) { return base64url_encode(ByteView(k.data(), k.size())); }

int fail(const std::string& m) {
  std::cerr << "interop_sdjwt: " << m << "\n";
  return 1;
}

int write(const std::string& dir) {
  auto issuer = key(1);
  auto holder = key(2);
  IssueRequest r;
  r.vct = "imi:resident";
  r.issuer = issuer.did();
  r.issuer_kid = make_kid(issuer.did(), 1);
  r.iat = kNow - 3600;
  r.nbf = kNow - 3600;
  r.exp = kNow + 86400;
  r.holder_kid = make_kid(holder.did(), 1);
  r.holder_jwk = holder.public_key();
  r.status = StatusRef{"imi:status-list/identity/" + issuer.did() + "/ids", 99};
  r.disclosable = {string_claim("name", "Li Wei"), string_claim("birth_date", "1990-05-17"),
                   string_claim("address", "12 Garden Road")};
  auto preds = predicate_claims("1990-05-17", kNow, "Xinhua");
  if (!preds) return fail(preds.status().to_string());
  r.disclosable.insert(r.disclosable.end(), preds->begin(), preds->end());
  auto cred = issue(issuer, r);
  if (!cred) return fail(cred.status().to_string());
  const std::string aud = "did:imi:" + std::string(40, 'b');
  auto pres =
      present(*cred, holder, {{"name", "age_over_18", "resident_of"}, aud, "cpp-nonce-7", kNow});
  if (!pres) return fail(pres.status().to_string());
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto s = [&](const std::string& v) { return rapidjson::Value(v.c_str(), a); };
  d.AddMember("issuer_x", s(x_of(issuer.public_key())), a);
  d.AddMember("holder_x", s(x_of(holder.public_key())), a);
  d.AddMember("credential", s(*cred), a);
  d.AddMember("presentation", s(*pres), a);
  d.AddMember("aud", s(aud), a);
  d.AddMember("nonce", "cpp-nonce-7", a);
  d.AddMember("now", kNow, a);
  auto list = StatusList::make(1024).value();
  for (auto [i, st] : {std::pair{3, CredentialStatus::kInvalid},
                       {5, CredentialStatus::kSuspended},
                       {1000, CredentialStatus::kInvalid},
                       {1023, CredentialStatus::kSuspended}}) {
    if (!list.set(static_cast<uint64_t>(i), st).is_ok()) return fail("status list set");
  }
  d.AddMember("status_lst", s(list.encode()), a);
  std::ofstream(dir + "/cpp.json") << ledger::jcs(d);
  return 0;
}

int check(const std::string& dir) {
  std::ifstream in(dir + "/node.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto d = ledger::parse_strict(ss.str());
  if (!d) return fail("node.json: " + d.status().to_string());
  auto ix = base64url_decode((*d)["issuer_x"].GetString());
  auto hx = base64url_decode((*d)["holder_x"].GetString());
  if (!ix || ix->size() != 32 || !hx || hx->size() != 32) return fail("bad keys in node.json");
  PublicKey ik{}, hk{};
  std::copy(ix->begin(), ix->end(), ik.begin());
  std::copy(hx->begin(), hx->end(), hk.begin());
  KeysResolver resolver;
  resolver.dids[did_from_key(ik)] = {DidStatus::kActive, {{1, ik}}};
  resolver.dids[did_from_key(hk)] = {DidStatus::kActive, {{1, hk}}};
  Expectations e{(*d)["aud"].GetString(), (*d)["nonce"].GetString(), (*d)["now"].GetInt64()};
  auto v = verify((*d)["presentation"].GetString(), e, resolver);
  if (!v) return fail(v.status().to_string());
  if (!v->ok) return fail("the @sd-jwt/core presentation failed: " + v->to_json());
  if (v->disclosed != std::vector<std::string>{"age_over_18", "resident_of"} &&
      v->disclosed != std::vector<std::string>{"resident_of", "age_over_18"}) {
    return fail("unexpected disclosures: " + v->to_json());
  }
  if (v->claims_json.find("Wang Fang") != std::string::npos) {
    return fail("an undisclosed claim was revealed");
  }
  e.aud = "did:imi:" + std::string(40, 'd');
  auto wrong = verify((*d)["presentation"].GetString(), e, resolver);
  if (!wrong || wrong->ok || wrong->check("audience")->ok) {
    return fail("a wrong audience was accepted: the check above proves nothing");
  }
  auto lst = StatusList::decode((*d)["status_lst"].GetString());
  if (!lst) return fail("node status list: " + lst.status().to_string());
  if (lst->size() != 64) return fail("node status list has " + std::to_string(lst->size()));
  for (uint64_t i = 0; i < 64; ++i) {
    auto want = i == 1                ? CredentialStatus::kSuspended
                : (i == 7 || i == 62) ? CredentialStatus::kInvalid
                                      : CredentialStatus::kValid;
    if (lst->get(i).value() != want) return fail("node status entry " + std::to_string(i));
  }
  std::cout << "interop_sdjwt: verified the @sd-jwt/core presentation and status list\n";
  return 0;
}

// Deterministic "randomness" for vectors: SHA-256 of a counter.
RandomSource counter_random() {
  auto counter = std::make_shared<uint64_t>(0);
  return [counter](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; i += 32) {
      const std::string label = "imi-sdjwt-vector-" + std::to_string((*counter)++);
      Hash32 h = sha256(label);
      std::copy_n(h.begin(), std::min<size_t>(32, n - i), out + i);
    }
  };
}

int vectors(const std::string& file) {
  auto issuer = key(1);
  auto holder = key(2);
  auto other = key(3);
  const std::string aud = "did:imi:" + std::string(40, 'b');
  const std::string nonce = "vector-nonce-1";
  KeysResolver resolver;
  resolver.dids[issuer.did()] = {DidStatus::kActive, {{1, issuer.public_key()}}};
  resolver.dids[holder.did()] = {DidStatus::kActive, {{1, holder.public_key()}}};

  auto request = [&](bool jwk) {
    IssueRequest r;
    r.vct = "imi:resident";
    r.issuer = issuer.did();
    r.issuer_kid = make_kid(issuer.did(), 1);
    r.iat = kNow - 3600;
    r.nbf = kNow - 3600;
    r.exp = kNow + 86400;
    r.holder_kid = make_kid(holder.did(), 1);
    if (jwk) r.holder_jwk = holder.public_key();
    r.status = StatusRef{"imi:status-list/identity/" + issuer.did() + "/ids", 99};
    r.disclosable = {string_claim("name", "Li Wei"), string_claim("birth_date", "1990-05-17")};
    auto preds = predicate_claims("1990-05-17", kNow, "Xinhua").value();
    r.disclosable.insert(r.disclosable.end(), preds.begin(), preds.end());
    r.random = counter_random();
    return r;
  };
  const std::vector<std::string> shown = {"age_over_18", "resident_of"};
  auto cred_kid = issue(issuer, request(false)).value();
  auto cred_jwk = issue(issuer, request(true)).value();
  auto pres = [&](const std::string& cred, const KeyPair& k, std::string a, std::string n,
                  int64_t iat) {
    return present(cred, k, {shown, a, n, iat}).value();
  };

  std::vector<std::pair<std::string, std::string>> cases;
  cases.emplace_back("valid_cnf_kid", pres(cred_kid, holder, aud, nonce, kNow - 5));
  cases.emplace_back("valid_cnf_jwk", pres(cred_jwk, holder, aud, nonce, kNow - 5));
  cases.emplace_back("wrong_signature",
                     pres(issue(other, request(false)).value(), holder, aud, nonce, kNow));
  {
    // Under-18 holder: the age_over_18 disclosure is false; flip it to true.
    auto r = request(false);
    r.disclosable = predicate_claims("2012-02-02", kNow, "Xinhua").value();
    auto minor = issue(issuer, r).value();
    auto parts = split(minor).value();
    std::string forged = parts.jwt + "~";
    for (const auto& d : parts.disclosures) {
      auto text = base64url_decode_string(d).value();
      if (text.find("\"age_over_18\"") != std::string::npos) {
        text.replace(text.find("false"), 5, "true");
        forged += base64url_encode(text) + "~";
      }
    }
    cases.emplace_back("tampered_disclosure",
                       present(forged, holder, {{"age_over_18"}, aud, nonce, kNow}).value());
  }
  cases.emplace_back("wrong_audience",
                     pres(cred_kid, holder, "did:imi:" + std::string(40, 'e'), nonce, kNow));
  cases.emplace_back("wrong_nonce", pres(cred_kid, holder, aud, "another-nonce", kNow));
  cases.emplace_back("stale_key_binding", pres(cred_kid, holder, aud, nonce, kNow - 3600));
  cases.emplace_back("key_binding_by_another_key", pres(cred_kid, other, aud, nonce, kNow));
  {
    auto good = pres(cred_kid, holder, aud, nonce, kNow);
    auto parts = split(cred_kid).value();
    std::string extra;
    for (const auto& d : parts.disclosures) {
      if (base64url_decode_string(d)->find("\"name\"") != std::string::npos) extra = d;
    }
    cases.emplace_back(
        "disclosure_added_after_key_binding",
        good.substr(0, good.rfind('~') + 1) + extra + "~" + good.substr(good.rfind('~') + 1));
  }

  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto s = [&](const std::string& v) { return rapidjson::Value(v.c_str(), a); };
  d.AddMember("description",
              "SD-JWT VC presentations (RFC 9901, EdDSA/Ed25519, _sd_alg sha-256, KB-JWT). "
              "Verify each presentation with aud, nonce, now and max_age; the issuer's and "
              "holder's keys are their did:imi key-1 (DID status and credential status are "
              "taken as active and valid). failed lists the checks that must fail, in the "
              "order of identity/sdjwt_verify.h; valid cases list the disclosed claims.",
              a);
  d.AddMember("issuer_public_key", s(to_hex(issuer.public_key())), a);
  d.AddMember("issuer_did", s(issuer.did()), a);
  d.AddMember("holder_public_key", s(to_hex(holder.public_key())), a);
  d.AddMember("holder_did", s(holder.did()), a);
  d.AddMember("aud", s(aud), a);
  d.AddMember("nonce", s(nonce), a);
  d.AddMember("now", kNow, a);
  d.AddMember("max_age", 300, a);
  d.AddMember("credential", s(cred_kid), a);
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& [name, p] : cases) {
    auto v = verify(p, {aud, nonce, kNow}, resolver).value();
    rapidjson::Value c(rapidjson::kObjectType);
    c.AddMember("name", s(name), a);
    c.AddMember("presentation", s(p), a);
    c.AddMember("valid", v.ok, a);
    rapidjson::Value failed(rapidjson::kArrayType);
    for (const auto& ch : v.checks) {
      if (!ch.ok) failed.PushBack(s(ch.name), a);
    }
    c.AddMember("failed", failed, a);
    if (v.ok) {
      auto claims = ledger::parse_strict(v.claims_json).value();
      rapidjson::Value disclosed(rapidjson::kObjectType);
      for (const auto& n : v.disclosed) {
        disclosed.AddMember(s(n), rapidjson::Value(claims[n.c_str()], a), a);
      }
      c.AddMember("disclosed", disclosed, a);
    }
    const bool expect_ok = name.rfind("valid", 0) == 0;
    if (v.ok != expect_ok) return fail(name + " verified as " + (v.ok ? "valid" : "invalid"));
    arr.PushBack(c, a);
  }
  d.AddMember("cases", arr, a);
  std::ofstream(file) << ledger::jcs(d) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage: interop_sdjwt write|check <dir>");
  std::string mode = argv[1];
  if (mode == "write") return write(argv[2]);
  if (mode == "check") return check(argv[2]);
  if (mode == "vectors") return vectors(argv[2]);
  return fail("unknown mode " + mode);
}
