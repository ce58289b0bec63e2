#include "identity/sdjwt_verify.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sdjwt_json.h"

namespace imi::identity::sdjwt {
namespace {

using internal::parse_json;

constexpr const char* kCheckNames[] = {
    "format",           "issuer_signature", "disclosures", "duplicate_digests",
    "key_binding",      "sd_hash",          "audience",    "nonce",
    "freshness",        "validity_period",  "holder_key",  "did_status",
    "credential_status"};

std::optional<std::string_view> get_str(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

std::optional<int64_t> get_int(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

struct Disclosure {
  rapidjson::Document array;
  bool used = false;
};

// Applies disclosures to the payload (RFC 9901 §7.1 step 3), recursively.
class Processor {
 public:
  explicit Processor(std::map<std::string, Disclosure>& by_digest) : by_digest_(by_digest) {}
  std::string error;      // a disclosures failure
  std::string dup_error;  // a duplicate_digests failure

  void process(rapidjson::Value& v, rapidjson::Document::AllocatorType& a, int depth) {
    if (depth > 32 || !ok()) return;
    if (v.IsObject()) {
      process_object(v, a, depth);
    } else if (v.IsArray()) {
      process_array(v, a, depth);
    }
  }
  bool ok() const { return error.empty() && dup_error.empty(); }

 private:
  bool seen(std::string_view digest) {
    if (!seen_.emplace(digest).second) {
      dup_error = "digest " + std::string(digest) + " appears more than once";
      return true;
    }
    return false;
  }

  void process_object(rapidjson::Value& obj, rapidjson::Document::AllocatorType& a, int depth) {
    auto sd = obj.FindMember("_sd");
    std::vector<std::string> digests;
    if (sd != obj.MemberEnd()) {
      if (!sd->value.IsArray()) {
        error = "_sd must be an array of digests";
        return;
      }
      for (const auto& d : sd->value.GetArray()) {
        if (!d.IsString()) {
          error = "_sd holds a value that is not a digest string";
          return;
        }
        digests.emplace_back(d.GetString(), d.GetStringLength());
      }
      obj.RemoveMember("_sd");
    }
    // Recurse into the claims present before disclosures are inserted; the
    // disclosed values are processed when inserted.
    for (auto& m : obj.GetObject()) process(m.value, a, depth + 1);
    for (const auto& d : digests) {
      if (seen(d)) return;
      auto it = by_digest_.find(d);
      if (it == by_digest_.end()) continue;  // a decoy or an undisclosed claim
      auto& arr = it->second.array;
      if (arr.Size() != 3 || !arr[0].IsString() || !arr[1].IsString()) {
        error = "a disclosure for an object property must be [salt, name, value]";
        return;
      }
      std::string name(arr[1].GetString(), arr[1].GetStringLength());
      if (name == "_sd" || name == "..." || obj.HasMember(name.c_str())) {
        error = "disclosure names a reserved or already present claim " + name;
        return;
      }
      it->second.used = true;
      rapidjson::Value value(arr[2], a);
      process(value, a, depth + 1);
      obj.AddMember(
          rapidjson::Value(name.c_str(), static_cast<rapidjson::SizeType>(name.size()), a), value,
          a);
    }
  }

  void process_array(rapidjson::Value& arr, rapidjson::Document::AllocatorType& a, int depth) {
    rapidjson::Value out(rapidjson::kArrayType);
    for (auto& e : arr.GetArray()) {
      if (e.IsObject() && e.MemberCount() == 1 && e.HasMember("...")) {
        auto d = get_str(e, "...");
        if (!d) {
          error = "an array element digest must be a string";
          return;
        }
        if (seen(*d)) return;
        auto it = by_digest_.find(std::string(*d));
        if (it == by_digest_.end()) continue;
        auto& disc = it->second.array;
        if (disc.Size() != 2 || !disc[0].IsString()) {
          error = "a disclosure for an array element must be [salt, value]";
          return;
        }
        it->second.used = true;
        rapidjson::Value value(disc[1], a);
        process(value, a, depth + 1);
        out.PushBack(value, a);
      } else {
        process(e, a, depth + 1);
        out.PushBack(rapidjson::Value(e, a), a);
      }
    }
    arr = std::move(out);
  }

  std::map<std::string, Disclosure>& by_digest_;
  std::set<std::string, std::less<>> seen_;
};

class Checks {
 public:
  explicit Checks(Verification& v) : v_(v) {
    for (const char* n : kCheckNames) v_.checks.push_back({n, false, "not checked"});
  }
  void pass(std::string_view name, std::string detail = "") { set(name, true, std::move(detail)); }
  void fail(std::string_view name, std::string detail) { set(name, false, std::move(detail)); }

 private:
  void set(std::string_view name, bool ok, std::string detail) {
    for (auto& c : v_.checks) {
      if (c.name == name) {
        c.ok = ok;
        c.detail = std::move(detail);
      }
    }
  }
  Verification& v_;
};

std::string b64_sha256(std::string_view s) {
  Hash32 h = sha256(s);
  return base64url_encode(ByteView(h.data(), h.size()));
}

}  // namespace

std::string_view did_status_name(DidStatus s) {
  switch (s) {
    case DidStatus::kActive:
      return "active";
    case DidStatus::kFrozen:
      return "frozen";
    case DidStatus::kDeactivated:
      return "deactivated";
    case DidStatus::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<PublicKey> DidKeys::key(uint64_t n) const {
  for (const auto& [num, k] : current) {
    if (num == n) return k;
  }
  return std::nullopt;
}

const CheckResult* Verification::check(std::string_view name) const {
  for (const auto& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Verification::to_json() const {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("ok", ok, a);
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& c : checks) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("name", rapidjson::Value(c.name.c_str(), a), a);
    o.AddMember("ok", c.ok, a);
    o.AddMember("detail", rapidjson::Value(c.detail.c_str(), a), a);
    arr.PushBack(o, a);
  }
  d.AddMember("checks", arr, a);
  auto claims = parse_json(claims_json.empty() ? "{}" : claims_json);
  d.AddMember("claims", rapidjson::Value(*claims, a), a);
  return internal::to_json(d);
}

Result<Verification> verify(std::string_view presentation, const Expectations& expect,
                            const Resolver& resolver) {
  Verification v;
  Checks checks(v);
  // Every document of this verification allocates from one pool, starting
  // in a buffer on the stack.
  char buffer[16 * 1024];
  internal::Pool pool(buffer, sizeof(buffer));
  auto finish = [&]() -> Result<Verification> {
    v.ok = true;
    for (const auto& c : v.checks) {
      const bool skipped_kb = !expect.require_key_binding &&
                              (c.name == "key_binding" || c.name == "sd_hash" ||
                               c.name == "audience" || c.name == "nonce" || c.name == "freshness");
      if (!c.ok && !skipped_kb) v.ok = false;
    }
    return v;
  };

  // format
  auto parts = split(presentation);
  if (!parts) {
    checks.fail("format", parts.status().message());
    return finish();
  }
  auto jws = internal::decode_jws(parts->jwt, &pool);
  if (!jws) {
    checks.fail("format",
                "the issuer-signed JWT is not a compact JWS with JSON header and payload");
    return finish();
  }
  auto typ = get_str(jws->header, "typ");
  auto kid_text = get_str(jws->header, "kid");
  auto iss = get_str(jws->payload, "iss");
  auto vct = get_str(jws->payload, "vct");
  auto sd_alg = get_str(jws->payload, "_sd_alg");
  if (get_str(jws->header, "alg") != "EdDSA" || !typ || (*typ != kTypDc && *typ != kTypVc)) {
    checks.fail("format", "header must have alg EdDSA and typ dc+sd-jwt or vc+sd-jwt");
    return finish();
  }
  if (!iss || !vct || !kid_text || (jws->payload.HasMember("_sd_alg") && sd_alg != "sha-256")) {
    checks.fail("format", "payload needs iss and vct, the header a kid, and _sd_alg sha-256");
    return finish();
  }
  if (expect.require_key_binding && !parts->kb_jwt) {
    checks.fail("format", "a presentation must end with a KB-JWT");
    return finish();
  }
  checks.pass("format");
  v.issuer = std::string(*iss);
  v.vct = std::string(*vct);

  // issuer_signature
  auto ikid = parse_kid(*kid_text);
  if (!ikid || ikid->did != *iss) {
    checks.fail("issuer_signature", "kid must be iss + \"#key-N\"");
  } else {
    auto issuer = resolver.did_keys(ikid->did);
    if (!issuer) return issuer.status();
    auto key = issuer->key(ikid->n);
    if (issuer->status != DidStatus::kActive) {
      checks.fail("issuer_signature",
                  "issuer DID is " + std::string(did_status_name(issuer->status)));
    } else if (!key) {
      checks.fail("issuer_signature", std::string(*kid_text) + " is not a current issuer key");
    } else if (!verify_raw(*key, as_bytes(jws->signing_input), jws->sig)) {
      checks.fail("issuer_signature", "signature does not verify under " + std::string(*kid_text));
    } else {
      checks.pass("issuer_signature");
    }
  }

  // disclosures and duplicate_digests
  std::map<std::string, Disclosure> by_digest;
  bool disclosures_ok = true;
  bool dup_ok = true;
  for (const auto& d : parts->disclosures) {
    auto text = base64url_decode_string(d);
    auto arr = text ? parse_json(*text, &pool) : std::nullopt;
    if (!arr || !arr->IsArray() || arr->Size() < 2 || arr->Size() > 3) {
      checks.fail("disclosures", "a disclosure is not base64url of a JSON array of 2 or 3");
      disclosures_ok = false;
      break;
    }
    std::string digest = disclosure_digest(d);
    if (by_digest.count(digest)) {
      checks.fail("duplicate_digests", "a disclosure is given twice");
      dup_ok = false;
      break;
    }
    by_digest.emplace(digest, Disclosure{std::move(*arr), false});
  }
  rapidjson::Document claims(&pool);
  claims.CopyFrom(jws->payload, claims.GetAllocator());
  if (disclosures_ok && dup_ok) {
    Processor proc(by_digest);
    proc.process(claims, claims.GetAllocator(), 0);
    if (!proc.dup_error.empty()) {
      checks.fail("duplicate_digests", proc.dup_error);
      dup_ok = false;
    } else {
      checks.pass("duplicate_digests");
    }
    if (!proc.error.empty()) {
      checks.fail("disclosures", proc.error);
      disclosures_ok = false;
    } else if (dup_ok) {
      for (const auto& [digest, disc] : by_digest) {
        if (!disc.used) {
          checks.fail("disclosures", "disclosure with digest " + digest + " is not in the payload");
          disclosures_ok = false;
          break;
        }
      }
      if (disclosures_ok)
        checks.pass("disclosures", std::to_string(by_digest.size()) + " disclosed");
    }
  }
  if (disclosures_ok && dup_ok) {
    claims.RemoveMember("_sd_alg");
    for (const auto& d : parts->disclosures) {
      auto& arr = by_digest[disclosure_digest(d)].array;
      if (arr.Size() == 3) v.disclosed.emplace_back(arr[1].GetString(), arr[1].GetStringLength());
    }
    v.claims_json = internal::to_json(claims);
  }

  // validity_period
  {
    auto nbf = get_int(jws->payload, "nbf");
    auto exp = get_int(jws->payload, "exp");
    if (nbf && *nbf > expect.now + expect.clock_skew_s) {
      checks.fail("validity_period", "not valid before " + std::to_string(*nbf));
    } else if (exp && expect.now >= *exp + expect.clock_skew_s) {
      checks.fail("validity_period", "expired at " + std::to_string(*exp));
    } else if ((jws->payload.HasMember("nbf") && !nbf) || (jws->payload.HasMember("exp") && !exp)) {
      checks.fail("validity_period", "nbf and exp must be integers");
    } else {
      checks.pass("validity_period");
    }
  }

  // holder_key and did_status
  std::optional<PublicKey> holder_key;
  {
    auto cnf_it = jws->payload.FindMember("cnf");
    std::optional<std::string_view> hkid;
    std::optional<PublicKey> jwk_x;
    if (cnf_it != jws->payload.MemberEnd() && cnf_it->value.IsObject()) {
      hkid = get_str(cnf_it->value, "kid");
      auto jwk_it = cnf_it->value.FindMember("jwk");
      if (!hkid && jwk_it != cnf_it->value.MemberEnd()) {
        hkid = get_str(jwk_it->value, "kid");
        jwk_x = internal::jwk_key(jwk_it->value);
        if (!jwk_x) hkid.reset();
      }
    }
    auto parsed = hkid ? parse_kid(*hkid) : std::nullopt;
    if (!parsed) {
      checks.fail("holder_key", "cnf must name a holder key as kid or as a jwk with a kid");
      checks.fail("did_status", "no holder DID");
    } else {
      v.holder_kid = std::string(*hkid);
      v.holder_did = parsed->did;
      auto holder = resolver.did_keys(parsed->did);
      if (!holder) return holder.status();
      if (holder->status == DidStatus::kActive) {
        checks.pass("did_status", "active");
      } else {
        checks.fail("did_status", "holder DID is " + std::string(did_status_name(holder->status)));
      }
      auto key = holder->key(parsed->n);
      if (!key) {
        checks.fail("holder_key", v.holder_kid + " is not a current key of the holder's DID");
      } else if (jwk_x && *jwk_x != *key) {
        checks.fail("holder_key", "cnf jwk does not match " + v.holder_kid);
      } else {
        checks.pass("holder_key");
        holder_key = key;
      }
    }
  }

  // credential_status
  {
    auto st = jws->payload.FindMember("status");
    if (st == jws->payload.MemberEnd()) {
      checks.pass("credential_status", "the credential has no status entry");
    } else {
      const rapidjson::Value* sl = nullptr;
      if (st->value.IsObject() && st->value.HasMember("status_list"))
        sl = &st->value["status_list"];
      auto uri = sl ? get_str(*sl, "uri") : std::nullopt;
      auto idx_it =
          sl && sl->IsObject() ? sl->FindMember("idx") : rapidjson::Value::ConstMemberIterator();
      if (!uri || !sl || idx_it == sl->MemberEnd() || !idx_it->value.IsUint64()) {
        checks.fail("credential_status", "status must be {\"status_list\":{\"idx\",\"uri\"}}");
      } else {
        v.status = StatusRef{std::string(*uri), idx_it->value.GetUint64()};
        auto s = resolver.credential_status(*v.status);
        if (!s) return s.status();
        if (!s->has_value()) {
          checks.fail("credential_status", "no such status list entry");
        } else if (**s != CredentialStatus::kValid) {
          checks.fail("credential_status", std::string(status_name(**s)));
        } else {
          checks.pass("credential_status", "valid");
        }
      }
    }
  }

  // key binding
  if (!parts->kb_jwt) return finish();
  auto kb = internal::decode_jws(*parts->kb_jwt, &pool);
  if (!kb || get_str(kb->header, "typ") != kTypKb || get_str(kb->header, "alg") != "EdDSA") {
    checks.fail("key_binding", "the KB-JWT must be a JWS with typ kb+jwt and alg EdDSA");
    return finish();
  }
  if (!holder_key) {
    checks.fail("key_binding", "no current holder key to check it with");
  } else if (!verify_raw(*holder_key, as_bytes(kb->signing_input), kb->sig)) {
    checks.fail("key_binding", "KB-JWT signature does not verify under " + v.holder_kid);
  } else {
    checks.pass("key_binding");
  }
  auto sd_hash = get_str(kb->payload, "sd_hash");
  if (sd_hash && *sd_hash == b64_sha256(parts->sd_jwt_for_hash)) {
    checks.pass("sd_hash");
  } else {
    checks.fail("sd_hash", "sd_hash does not match the presented SD-JWT");
  }
  auto aud = get_str(kb->payload, "aud");
  if (aud && *aud == expect.aud) {
    checks.pass("audience");
  } else {
    checks.fail("audience", "aud is not " + expect.aud);
  }
  auto nonce = get_str(kb->payload, "nonce");
  if (nonce && *nonce == expect.nonce) {
    checks.pass("nonce");
  } else {
    checks.fail("nonce", "nonce does not match the verifier's challenge");
  }
  auto iat = get_int(kb->payload, "iat");
  if (!iat) {
    checks.fail("freshness", "KB-JWT has no integer iat");
  } else if (*iat < expect.now - expect.max_age_s) {
    checks.fail("freshness", "KB-JWT is older than " + std::to_string(expect.max_age_s) + " s");
  } else if (*iat > expect.now + expect.clock_skew_s) {
    checks.fail("freshness", "KB-JWT is issued in the future");
  } else {
    checks.pass("freshness");
  }
  return finish();
}

}  // namespace imi::identity::sdjwt
