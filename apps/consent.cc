#include "apps/consent.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

#include "apps/consent_internal.h"
#include "apps/governance.h"
#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sealed.h"
#include "ledger/executor_account.h"
#include "ledger/genesis.h"
#include "ledger/json.h"

namespace imi::apps {
namespace consent_internal {

bool is_attribute(std::string_view s) {
  return !s.empty() && s.size() <= kAttributeBytesMax &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

std::optional<std::vector<std::string>> attributes(const rapidjson::Value& v) {
  if (!v.IsArray() || v.Empty() || v.Size() > kAttributesMax) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : v.GetArray()) {
    if (!e.IsString() || !is_attribute(std::string_view(e.GetString(), e.GetStringLength()))) {
      return std::nullopt;
    }
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return out;
}

bool sealed_ok(const rapidjson::Value& sealed, std::initializer_list<std::string_view> required,
               std::initializer_list<std::string_view> optional, size_t max_chars) {
  if (!ledger::expect_members(sealed, required, optional).is_ok()) return false;
  for (const auto& m : sealed.GetObject()) {
    if (!m.value.IsString() || m.value.GetStringLength() > max_chars ||
        !identity::base64url_decode(
            std::string_view(m.value.GetString(), m.value.GetStringLength()))) {
      return false;
    }
  }
  return true;
}

void emit(ledger::AppState& state, std::string_view type, std::string_view id) {
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("consent", str(id, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("type", str(type, ev.GetAllocator()), ev.GetAllocator());
  state.emit(ev);
}

Hash32 fresh_salt() {
  if (sodium_init() < 0) std::abort();
  Hash32 salt{};
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

namespace {

using ledger::TxOutcome;
// Version 1's cap on a sealed read opening, unchanged for replay.
constexpr size_t kSealedB64MaxV1 = 2048;

Result<TxOutcome> op_grant(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                           const ledger::StateReader& state, ledger::AppState* w) {
  if (!ledger::expect_members(tx.args(), {"consent"}).is_ok()) {
    return bad("args must be {\"consent\": {...}}");
  }
  const auto& c = tx.args()["consent"];
  if (!ledger::expect_members(
           c, {"attributes", "department", "key", "purpose", "resident", "until", "sig"})
           .is_ok()) {
    return bad("consent must be {attributes, department, key, purpose, resident, until, sig}");
  }
  auto attrs = attributes(c["attributes"]);
  auto department = ledger::get_string(c, "department");
  auto key = ledger::get_hex32(c, "key");
  auto purpose = ledger::get_string(c, "purpose");
  auto resident = ledger::get_string(c, "resident");
  auto until = ledger::get_uint(c, "until");
  auto sig = ledger::get_hex64(c, "sig");
  if (!attrs || !department || !key || !purpose || purpose->size() > kPurposeBytesMax ||
      !resident || !until || !sig) {
    return bad("consent fields malformed");
  }
  if (tx.from() != *resident && tx.from() != *department) {
    return TxOutcome::fail(ledger::kCodeForbidden,
                           "a consent is sent by its resident or department");
  }
  auto dept = has_role(state, *department, "department");
  if (!dept) return dept.status();
  if (!*dept) return TxOutcome::fail(ledger::kCodeForbidden, "the department lacks its role");
  if (*until <= ctx.time_ms) return bad("until must be after the block time");
  auto account = ledger::read_account(state, *resident);
  if (!account) return account.status();
  if (!account->has_value() || !(*account)->has_key(*key) ||
      !identity::verify(identity::Domain::kConsent, *key, ledger::jcs_without(c, "sig"), *sig)) {
    return TxOutcome::fail(kConsentCodeBadSignature,
                           "the consent is not signed by a current key of its resident");
  }
  const std::string id = consent_id(c);
  auto existing = state.get(kConsentApp, "consent/" + id);
  if (!existing) return existing.status();
  if (existing->has_value()) return TxOutcome::fail(ledger::kCodeConflict, "consent exists");
  if (!w) return TxOutcome::success();
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("attributes", rapidjson::Value(c["attributes"], a), a);
  rec.AddMember("department", str(*department, a), a);
  rec.AddMember("purpose", str(*purpose, a), a);
  rec.AddMember("resident", str(*resident, a), a);
  rec.AddMember("until", rapidjson::Value(static_cast<int64_t>(*until)), a);
  IMI_RETURN_IF_ERROR(w->put(kConsentApp, "consent/" + id, rec));
  emit(*w, "consented", id);
  return TxOutcome::success();
}

Result<TxOutcome> op_revoke_or_read(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    const ledger::StateReader& state, ledger::AppState* w) {
  const bool read = tx.op() == "read";
  const auto& args = tx.args();
  if (read
          ? !ledger::expect_members(args, {"consent", "attributes", "commitment", "sealed"}).is_ok()
          : !ledger::expect_members(args, {"consent"}).is_ok()) {
    return bad(read ? "args must be {consent, attributes, commitment, sealed}"
                    : "args must be {\"consent\": id}");
  }
  auto id = ledger::get_hex32(args, "consent");
  if (!id) return bad("consent must be a hex64 id");
  const std::string key = "consent/" + to_hex(*id);
  auto rec = state.get_json(kConsentApp, key);
  if (!rec) return rec.status();
  if (!rec->has_value()) {
    return read ? TxOutcome::fail(kConsentCodeNoConsent, "no consent " + to_hex(*id))
                : TxOutcome::fail(ledger::kCodeNotFound, "no consent " + to_hex(*id));
  }
  rapidjson::Document& c = **rec;
  auto resident = ledger::get_string(c, "resident");
  auto department = ledger::get_string(c, "department");
  auto until = ledger::get_uint(c, "until");
  auto granted =
      c.IsObject() && c.HasMember("attributes") ? attributes(c["attributes"]) : std::nullopt;
  if (!resident || !department || !until || !granted) {
    return Status::error("state.corrupt_value", "consent record malformed");
  }
  const bool revoked = ledger::has_field(c, "revoked");
  if (!read) {
    if (tx.from() != *resident) {
      return TxOutcome::fail(ledger::kCodeForbidden, "only the resident revokes a consent");
    }
    if (revoked) return TxOutcome::fail(ledger::kCodeConflict, "already revoked");
    if (!w) return TxOutcome::success();
    c.AddMember("revoked", rapidjson::Value(static_cast<int64_t>(ctx.height)), c.GetAllocator());
    IMI_RETURN_IF_ERROR(w->put(kConsentApp, key, c));
    emit(*w, "consent_revoked", to_hex(*id));
    return TxOutcome::success();
  }
  if (tx.from() != *department) {
    return TxOutcome::fail(ledger::kCodeForbidden, "only the consent's department reads under it");
  }
  if (revoked || ctx.time_ms >= *until) {
    return TxOutcome::fail(kConsentCodeNoConsent, "the consent is revoked or expired");
  }
  auto wanted = attributes(args["attributes"]);
  auto commitment = ledger::get_hex32(args, "commitment");
  const auto& sealed = args["sealed"];
  if (!wanted || !commitment ||
      !ledger::expect_members(sealed, {"resident"}, {"auditor"}).is_ok()) {
    return bad("read needs attribute names, a hex64 commitment and sealed openings");
  }
  for (const auto& m : sealed.GetObject()) {
    if (!m.value.IsString() || m.value.GetStringLength() > kSealedB64MaxV1 ||
        !identity::base64url_decode(
            std::string_view(m.value.GetString(), m.value.GetStringLength()))) {
      return bad("sealed openings are base64url of at most 2048 characters");
    }
  }
  for (const auto& a : *wanted) {
    if (std::find(granted->begin(), granted->end(), a) == granted->end()) {
      return TxOutcome::fail(kConsentCodeNotCovered, "the consent does not cover " + a);
    }
  }
  if (!w) return TxOutcome::success();
  rapidjson::Document log(rapidjson::kObjectType);
  auto& a = log.GetAllocator();
  log.AddMember("commitment", str(to_hex(*commitment), a), a);
  log.AddMember("height", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
  log.AddMember("time", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), a);
  IMI_RETURN_IF_ERROR(w->put(kConsentApp, "read/" + to_hex(*id) + "/" + tx.id_hex(), log));
  emit(*w, "read", to_hex(*id));
  return TxOutcome::success();
}

}  // namespace

Result<TxOutcome> run_v1(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                         const ledger::StateReader& state, ledger::AppState* w) {
  if (tx.op() == "grant") return op_grant(tx, ctx, state, w);
  if (tx.op() == "revoke" || tx.op() == "read") return op_revoke_or_read(tx, ctx, state, w);
  return TxOutcome::fail(ledger::kCodeUnknownOp, "consent has no op " + tx.op());
}

}  // namespace consent_internal

namespace {

using namespace consent_internal;
using ledger::TxOutcome;

Result<TxOutcome> run(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                      const ledger::StateReader& state, ledger::AppState* w) {
  auto version = consent_rules_version(state);
  if (!version) return version.status();
  if (*version >= kConsentRulesCommitted) return run_v2(tx, ctx, state, w);
  return run_v1(tx, ctx, state, w);
}

rapidjson::Document opening_json_v1(const ReadOpeningV1& o) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value attrs(rapidjson::kArrayType);
  for (const auto& s : o.attributes) attrs.PushBack(str(s, a), a);
  d.AddMember("attributes", attrs, a);
  d.AddMember("case", str(o.case_id, a), a);
  d.AddMember("consent", str(o.consent, a), a);
  d.AddMember("salt", str(to_hex(o.salt), a), a);
  return d;
}

// "access/<resident>/<height>/<tx>" of a "flagged/..." index entry.
std::string flagged_to_access(const ledger::IndexEntry& e) {
  auto doc = ledger::parse_strict(e.value);
  if (!doc) return e.key;
  auto access = ledger::get_string(*doc, "access");
  return access ? std::string(*access) : e.key;
}

}  // namespace

Result<uint64_t> consent_rules_version(const ledger::StateReader& state) {
  auto rules = state.get_json(kConsentApp, "rules");
  if (!rules) return rules.status();
  if (!rules->has_value()) return uint64_t{1};
  auto v = ledger::get_uint(**rules, "version");
  if (!v || *v == 0) return Status::error("state.corrupt_value", "consent rules malformed");
  return *v;
}

Status ConsentApp::init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const {
  // Version 1 writes nothing: a version-1 chain's genesis root stays as it was.
  if (genesis.rules_version() < kConsentRulesCommitted) return Status::ok();
  rapidjson::Document rules(rapidjson::kObjectType);
  rules.AddMember("version", rapidjson::Value(static_cast<int64_t>(genesis.rules_version())),
                  rules.GetAllocator());
  return state.put(kConsentApp, "rules", rules);
}

Result<TxOutcome> ConsentApp::check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    const ledger::StateReader& state) const {
  return run(tx, ctx, state, nullptr);
}
Result<TxOutcome> ConsentApp::apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    ledger::AppState& state) const {
  return run(tx, ctx, state, &state);
}

Result<ledger::QueryPage> ConsentApp::query(std::string_view name,
                                            const ledger::QueryParams& params,
                                            std::string_view cursor, size_t limit,
                                            const ledger::IndexReader& index) const {
  auto did_param = [&](std::string_view p, bool required) -> Result<std::string> {
    auto it = params.find(p);
    if (it == params.end() && !required) return std::string();
    if (it == params.end() || !identity::is_valid_did(it->second))
      return Status::error("query.bad_param", std::string(p) + " must be a did:imi");
    return it->second;
  };
  if (name == "accesses") {
    auto r = did_param("resident", true);
    if (!r) return r.status();
    return ledger::scan_query(index, kConsentApp, "access/" + *r + "/", cursor, limit);
  }
  if (name == "flagged") {
    auto d = did_param("department", false);
    if (!d) return d.status();
    return ledger::scan_query(index, kConsentApp, d->empty() ? "flagged/" : "flagged/" + *d + "/",
                              cursor, limit, flagged_to_access);
  }
  return Status::error("query.unknown", "consent has no query " + std::string(name) +
                                            " (queries: accesses, flagged)");
}

rapidjson::Document make_consent_v1(const identity::KeyPair& resident, const ConsentTerms& t) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value attrs(rapidjson::kArrayType);
  for (const auto& s : t.attributes) attrs.PushBack(str(s, a), a);
  d.AddMember("attributes", attrs, a);
  d.AddMember("department", str(t.department, a), a);
  d.AddMember("key", str(to_hex(resident.public_key()), a), a);
  d.AddMember("purpose", str(t.purpose, a), a);
  d.AddMember("resident", str(resident.did(), a), a);
  d.AddMember("until", rapidjson::Value(static_cast<int64_t>(t.until_ms)), a);
  auto sig = resident.sign(identity::Domain::kConsent, ledger::jcs(d));
  d.AddMember("sig", str(to_hex(sig), a), a);
  return d;
}

std::string consent_id(const rapidjson::Value& consent) {
  return to_hex(sha256(ledger::jcs(consent)));
}

Hash32 read_commitment_v1(const ReadOpeningV1& opening) {
  return sha256(ledger::jcs(opening_json_v1(opening)));
}

Result<rapidjson::Document> make_read_args_v1(ReadOpeningV1 opening,
                                              const identity::PublicKey& resident_key,
                                              const identity::PublicKey* auditor_key) {
  if (opening.salt == Hash32{}) opening.salt = fresh_salt();
  const std::string plain = ledger::jcs(opening_json_v1(opening));
  rapidjson::Document args(rapidjson::kObjectType);
  auto& a = args.GetAllocator();
  rapidjson::Value attrs(rapidjson::kArrayType);
  for (const auto& s : opening.attributes) attrs.PushBack(str(s, a), a);
  args.AddMember("attributes", attrs, a);
  args.AddMember("commitment", str(to_hex(read_commitment_v1(opening)), a), a);
  args.AddMember("consent", str(opening.consent, a), a);
  rapidjson::Value sealed(rapidjson::kObjectType);
  auto to_resident = identity::seal(resident_key, as_bytes(plain));
  if (!to_resident) return to_resident.status();
  sealed.AddMember("resident", str(identity::base64url_encode(*to_resident), a), a);
  if (auditor_key) {
    auto to_auditor = identity::seal(*auditor_key, as_bytes(plain));
    if (!to_auditor) return to_auditor.status();
    sealed.AddMember("auditor", str(identity::base64url_encode(*to_auditor), a), a);
  }
  args.AddMember("sealed", sealed, a);
  return args;
}

Result<ReadOpeningV1> open_read_v1(const identity::KeyPair& recipient,
                                   std::string_view sealed_b64) {
  auto raw = identity::base64url_decode(sealed_b64);
  if (!raw) return Status::error("consent.bad_opening", "sealed must be base64url");
  auto plain = identity::open_sealed(recipient, *raw);
  if (!plain) return plain.status();
  auto doc = ledger::parse_strict(
      std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
  auto bad_opening = Status::error("consent.bad_opening", "not a read opening");
  if (!doc || !ledger::expect_members(*doc, {"attributes", "case", "consent", "salt"}).is_ok()) {
    return bad_opening;
  }
  auto attrs = attributes((*doc)["attributes"]);
  auto case_id = ledger::get_string(*doc, "case");
  auto consent = ledger::get_string(*doc, "consent");
  auto salt = ledger::get_hex32(*doc, "salt");
  if (!attrs || !case_id || !consent || !salt) return bad_opening;
  return ReadOpeningV1{std::string(*consent), *attrs, std::string(*case_id), *salt};
}

}  // namespace imi::apps
