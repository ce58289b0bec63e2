// The identity app's records: reading and writing "did/<D>", and rendering
// DID documents.
#include <algorithm>

#include "apps/governance.h"
#include "apps/identity_registry.h"
#include "apps/identity_registry_records.h"
#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sdjwt.h"
#include "ledger/json.h"

namespace imi::apps {
namespace {

using identity::sdjwt::DidStatus;

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::optional<DidStatus> status_from(std::string_view s) {
  if (s == "active") return DidStatus::kActive;
  if (s == "frozen") return DidStatus::kFrozen;
  if (s == "deactivated") return DidStatus::kDeactivated;
  return std::nullopt;
}

rapidjson::Value jwk(const identity::PublicKey& k, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value o(rapidjson::kObjectType);
  o.AddMember("crv", "Ed25519", a);
  o.AddMember("kty", "OKP", a);
  o.AddMember("x", str(identity::base64url_encode(ByteView(k.data(), k.size())), a), a);
  return o;
}

}  // namespace

std::vector<std::pair<uint64_t, identity::PublicKey>> DidRecord::current() const {
  std::vector<std::pair<uint64_t, identity::PublicKey>> out;
  for (const auto& k : keys) {
    if (!k.revoked) out.emplace_back(k.n, k.key);
  }
  return out;
}

Hash32 guardian_commitment(std::string_view guardian_did, const Hash32& salt) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("did", str(guardian_did, d.GetAllocator()), d.GetAllocator());
  d.AddMember("salt", str(to_hex(salt), d.GetAllocator()), d.GetAllocator());
  return sha256(ledger::jcs(d));
}

Result<std::optional<DidRecord>> read_did(const ledger::StateReader& state, std::string_view did) {
  auto doc = state.get_json(kIdentityApp, "did/" + std::string(did));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<DidRecord>();
  const rapidjson::Value& v = **doc;
  auto corrupt = Status::error("state.corrupt_value",
                               "identity record of " + std::string(did) + " is malformed");
  auto status = ledger::get_string(v, "status");
  auto keys = ledger::get_array(v, "keys");
  auto guardians = ledger::get_array(v, "guardians");
  auto registrar = ledger::get_string(v, "registrar");
  auto registered = ledger::get_uint(v, "registered");
  auto recoveries = ledger::get_uint(v, "recoveries");
  if (!status || !keys || !guardians || !registrar || !registered || !recoveries) return corrupt;
  DidRecord r;
  auto st = status_from(*status);
  if (!st) return corrupt;
  r.status = *st;
  r.registrar = std::string(*registrar);
  r.registered = *registered;
  r.recoveries = *recoveries;
  for (const auto& k : (*keys)->GetArray()) {
    auto n = ledger::get_uint(k, "n");
    auto key = ledger::get_hex32(k, "key");
    auto added = ledger::get_uint(k, "added");
    if (!n || !key || !added) return corrupt;
    DidKeyRecord kr{*n, *key, *added, std::nullopt};
    if (ledger::has_field(k, "revoked")) {
      auto rev = ledger::get_uint(k, "revoked");
      if (!rev) return corrupt;
      kr.revoked = *rev;
    }
    r.keys.push_back(kr);
  }
  for (const auto& g : (*guardians)->GetArray()) {
    if (!g.IsString()) return corrupt;
    auto h = from_hex_fixed<32>(std::string_view(g.GetString(), g.GetStringLength()));
    if (!h) return corrupt;
    r.guardians.push_back(*h);
  }
  return std::optional<DidRecord>(std::move(r));
}

rapidjson::Document did_record_json(const DidRecord& r) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("status", str(identity::sdjwt::did_status_name(r.status), a), a);
  rapidjson::Value keys(rapidjson::kArrayType);
  for (const auto& k : r.keys) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("n", rapidjson::Value(static_cast<int64_t>(k.n)), a);
    o.AddMember("key", str(to_hex(k.key), a), a);
    o.AddMember("added", rapidjson::Value(static_cast<int64_t>(k.added)), a);
    if (k.revoked) o.AddMember("revoked", rapidjson::Value(static_cast<int64_t>(*k.revoked)), a);
    keys.PushBack(o, a);
  }
  d.AddMember("keys", keys, a);
  rapidjson::Value g(rapidjson::kArrayType);
  for (const auto& h : r.guardians) g.PushBack(str(to_hex(h), a), a);
  d.AddMember("guardians", g, a);
  d.AddMember("registrar", str(r.registrar, a), a);
  d.AddMember("registered", rapidjson::Value(static_cast<int64_t>(r.registered)), a);
  d.AddMember("recoveries", rapidjson::Value(static_cast<int64_t>(r.recoveries)), a);
  return d;
}

Result<std::optional<std::string>> did_document(const ledger::StateReader& state,
                                                std::string_view did) {
  auto rec = read_did(state, did);
  if (!rec) return rec.status();
  if (!rec->has_value()) return std::optional<std::string>();
  const DidRecord& r = **rec;
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value ctx(rapidjson::kArrayType);
  ctx.PushBack("https://www.w3.org/ns/did/v1", a);
  ctx.PushBack("https://w3id.org/security/suites/jws-2020/v1", a);
  d.AddMember("@context", ctx, a);
  d.AddMember("id", str(did, a), a);
  d.AddMember("controller", str(did, a), a);
  rapidjson::Value vms(rapidjson::kArrayType), auth(rapidjson::kArrayType),
      assertion(rapidjson::kArrayType), history(rapidjson::kArrayType);
  const bool usable = r.status == DidStatus::kActive;
  for (const auto& k : r.keys) {
    std::string kid = identity::sdjwt::make_kid(did, k.n);
    rapidjson::Value h(rapidjson::kObjectType);
    h.AddMember("id", str(kid, a), a);
    h.AddMember("publicKeyJwk", jwk(k.key, a), a);
    h.AddMember("added", rapidjson::Value(static_cast<int64_t>(k.added)), a);
    if (k.revoked) h.AddMember("revoked", rapidjson::Value(static_cast<int64_t>(*k.revoked)), a);
    history.PushBack(h, a);
    if (k.revoked || !usable) continue;
    rapidjson::Value vm(rapidjson::kObjectType);
    vm.AddMember("id", str(kid, a), a);
    vm.AddMember("type", "JsonWebKey2020", a);
    vm.AddMember("controller", str(did, a), a);
    vm.AddMember("publicKeyJwk", jwk(k.key, a), a);
    vms.PushBack(vm, a);
    auth.PushBack(str(kid, a), a);
    assertion.PushBack(str(kid, a), a);
  }
  d.AddMember("verificationMethod", vms, a);
  d.AddMember("authentication", auth, a);
  d.AddMember("assertionMethod", assertion, a);
  d.AddMember("status", str(identity::sdjwt::did_status_name(r.status), a), a);
  if (r.status == DidStatus::kDeactivated) d.AddMember("deactivated", true, a);
  d.AddMember("keyHistory", history, a);
  d.AddMember("registered", rapidjson::Value(static_cast<int64_t>(r.registered)), a);
  d.AddMember("registrar", str(r.registrar, a), a);
  return std::optional<std::string>(ledger::jcs(d));
}

Result<bool> is_issuer(const ledger::StateReader& state, std::string_view did) {
  for (auto role : kIssuerRoles) {
    auto has = has_role(state, did, role);
    if (!has) return has.status();
    if (*has) return true;
  }
  return false;
}

}  // namespace imi::apps
