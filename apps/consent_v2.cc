// The consent app under rules version 2 (apps/consent.h): terms as salted
// commitments, coverage checked commitment by commitment, lawful-basis
// reads, and an access log addressed to each resident.
#include <algorithm>
#include <cstdio>
#include <set>

#include "apps/consent_internal.h"
#include "apps/governance.h"
#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sealed.h"
#include "ledger/executor_account.h"
#include "ledger/json.h"

namespace imi::apps {
namespace consent_internal {
namespace {

using ledger::TxOutcome;
constexpr size_t kSealedB64Max = 4096;
constexpr size_t kStatuteBytesMax = 64;

bool is_statute(std::string_view s) {
  return !s.empty() && s.size() <= kStatuteBytesMax && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// 1..16 hex64 commitments in strictly ascending order (so one set has one
// spelling), or nullopt.
std::optional<std::vector<std::string>> commitments(const rapidjson::Value& v) {
  if (!v.IsArray() || v.Empty() || v.Size() > kAttributesMax) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : v.GetArray()) {
    if (!e.IsString()) return std::nullopt;
    std::string s(e.GetString(), e.GetStringLength());
    if (!is_lower_hex(s, 64) || (!out.empty() && !(out.back() < s))) return std::nullopt;
    out.push_back(std::move(s));
  }
  return out;
}

std::string height_key(uint64_t h) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(h));
  return buf;
}

struct ConsentRecord {
  rapidjson::Document doc;
  std::string resident, department;
  uint64_t until = 0;
  std::vector<std::string> granted;  // attribute commitments
  bool revoked = false;
};

// The version-2 record of consent `id`, nullopt if absent.
Result<std::optional<ConsentRecord>> load(const ledger::StateReader& state, const std::string& id) {
  auto rec = state.get_json(kConsentApp, "consent/" + id);
  if (!rec) return rec.status();
  if (!rec->has_value()) return std::optional<ConsentRecord>();
  ConsentRecord r;
  r.doc = std::move(**rec);
  auto resident = ledger::get_string(r.doc, "resident");
  auto department = ledger::get_string(r.doc, "department");
  auto until = ledger::get_uint(r.doc, "until");
  auto granted = r.doc.IsObject() && r.doc.HasMember("attribute_commitments")
                     ? commitments(r.doc["attribute_commitments"])
                     : std::nullopt;
  if (!resident || !department || !until || !granted) {
    return Status::error("state.corrupt_value", "consent record " + id + " malformed");
  }
  r.resident = std::string(*resident);
  r.department = std::string(*department);
  r.until = *until;
  r.granted = std::move(*granted);
  r.revoked = ledger::has_field(r.doc, "revoked");
  return std::optional<ConsentRecord>(std::move(r));
}

Result<TxOutcome> op_grant(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                           const ledger::StateReader& state, ledger::AppState* w) {
  if (!ledger::expect_members(tx.args(), {"consent"}).is_ok()) {
    return bad("args must be {\"consent\": {...}}");
  }
  const auto& c = tx.args()["consent"];
  if (!ledger::expect_members(c, {"attribute_commitments", "department", "key", "resident",
                                  "sealed", "terms", "until", "v", "sig"})
           .is_ok()) {
    return bad(
        "under rules version 2 a consent is {attribute_commitments, department, key, resident, "
        "sealed, terms, until, v: 2, sig} (terms as commitments, not in clear)");
  }
  auto granted = commitments(c["attribute_commitments"]);
  auto department = ledger::get_string(c, "department");
  auto key = ledger::get_hex32(c, "key");
  auto resident = ledger::get_string(c, "resident");
  auto terms = ledger::get_hex32(c, "terms");
  auto until = ledger::get_uint(c, "until");
  auto v = ledger::get_uint(c, "v");
  auto sig = ledger::get_hex64(c, "sig");
  if (!granted || !department || !identity::is_valid_did(*department) || !key || !resident ||
      !identity::is_valid_did(*resident) || !terms || !until || !v || *v != 2 || !sig ||
      !sealed_ok(c["sealed"], {"department"}, {"auditor"}, kSealedB64Max)) {
    return bad("consent fields malformed (attribute_commitments: 1..16 ascending hex64)");
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
  rec.AddMember("attribute_commitments", rapidjson::Value(c["attribute_commitments"], a), a);
  rec.AddMember("department", str(*department, a), a);
  rec.AddMember("resident", str(*resident, a), a);
  rec.AddMember("terms", str(to_hex(*terms), a), a);
  rec.AddMember("until", rapidjson::Value(static_cast<int64_t>(*until)), a);
  rec.AddMember("v", 2, a);
  IMI_RETURN_IF_ERROR(w->put(kConsentApp, "consent/" + id, rec));
  emit(*w, "consented", id);
  return TxOutcome::success();
}

Result<TxOutcome> op_revoke(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                            const ledger::StateReader& state, ledger::AppState* w) {
  const auto& args = tx.args();
  auto id = ledger::get_hex32(args, "consent");
  if (!ledger::expect_members(args, {"consent"}).is_ok() || !id) {
    return bad("args must be {\"consent\": id}");
  }
  auto rec = load(state, to_hex(*id));
  if (!rec) return rec.status();
  if (!rec->has_value()) return TxOutcome::fail(ledger::kCodeNotFound, "no consent " + to_hex(*id));
  ConsentRecord& r = **rec;
  if (tx.from() != r.resident) {
    return TxOutcome::fail(ledger::kCodeForbidden, "only the resident revokes a consent");
  }
  if (r.revoked) return TxOutcome::fail(ledger::kCodeConflict, "already revoked");
  if (!w) return TxOutcome::success();
  r.doc.AddMember("revoked", rapidjson::Value(static_cast<int64_t>(ctx.height)),
                  r.doc.GetAllocator());
  IMI_RETURN_IF_ERROR(w->put(kConsentApp, "consent/" + to_hex(*id), r.doc));
  emit(*w, "consent_revoked", to_hex(*id));
  return TxOutcome::success();
}

// Writes the access record (and the flagged marker of a lawful read).
Status log_access(ledger::AppState& w, const ledger::Transaction& tx,
                  const ledger::BlockContext& ctx, std::string_view resident,
                  std::string_view consent, std::string_view basis) {
  const auto& args = tx.args();
  const std::string key =
      "access/" + std::string(resident) + "/" + height_key(ctx.height) + "/" + tx.id_hex();
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("attribute_commitments", rapidjson::Value(args["attribute_commitments"], a), a);
  if (!basis.empty()) rec.AddMember("basis", str(basis, a), a);
  rec.AddMember("commitment", rapidjson::Value(args["commitment"], a), a);
  if (!consent.empty()) rec.AddMember("consent", str(consent, a), a);
  rec.AddMember("department", str(tx.from(), a), a);
  if (!basis.empty()) rec.AddMember("flagged", true, a);
  rec.AddMember("height", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
  rec.AddMember("sealed", rapidjson::Value(args["sealed"], a), a);
  rec.AddMember("time", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), a);
  IMI_RETURN_IF_ERROR(w.put(kConsentApp, key, rec));
  if (basis.empty()) return Status::ok();
  rapidjson::Document flag(rapidjson::kObjectType);
  flag.AddMember("access", str(key, flag.GetAllocator()), flag.GetAllocator());
  return w.put(kConsentApp,
               "flagged/" + tx.from() + "/" + height_key(ctx.height) + "/" + tx.id_hex(), flag);
}

Result<TxOutcome> op_read(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                          const ledger::StateReader& state, ledger::AppState* w) {
  const auto& args = tx.args();
  if (!ledger::expect_members(args, {"consent", "attribute_commitments", "commitment", "sealed"})
           .is_ok()) {
    return bad(
        "under rules version 2 a read is {consent, attribute_commitments, commitment, "
        "sealed}");
  }
  auto id = ledger::get_hex32(args, "consent");
  if (!id) return bad("consent must be a hex64 id");
  auto rec = load(state, to_hex(*id));
  if (!rec) return rec.status();
  if (!rec->has_value()) return TxOutcome::fail(kConsentCodeNoConsent, "no consent " + to_hex(*id));
  const ConsentRecord& r = **rec;
  if (tx.from() != r.department) {
    return TxOutcome::fail(ledger::kCodeForbidden, "only the consent's department reads under it");
  }
  if (r.revoked || ctx.time_ms >= r.until) {
    return TxOutcome::fail(kConsentCodeNoConsent, "the consent is revoked or expired");
  }
  auto wanted = commitments(args["attribute_commitments"]);
  if (!wanted || !ledger::get_hex32(args, "commitment") ||
      !sealed_ok(args["sealed"], {"resident"}, {"auditor"}, kSealedB64Max)) {
    return bad(
        "read needs 1..16 ascending hex64 attribute commitments, a hex64 commitment and "
        "sealed openings (base64url, at most 4096 characters)");
  }
  for (const auto& c : *wanted) {
    if (!std::binary_search(r.granted.begin(), r.granted.end(), c)) {
      return TxOutcome::fail(kConsentCodeNotCovered,
                             "the consent does not cover attribute commitment " + c);
    }
  }
  if (!w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(log_access(*w, tx, ctx, r.resident, to_hex(*id), {}));
  emit(*w, "read", to_hex(*id));
  return TxOutcome::success();
}

Result<TxOutcome> op_read_lawful(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                 const ledger::StateReader& state, ledger::AppState* w) {
  const auto& args = tx.args();
  if (!ledger::expect_members(
           args, {"basis", "resident", "attribute_commitments", "commitment", "sealed"})
           .is_ok()) {
    return bad("args must be {basis, resident, attribute_commitments, commitment, sealed}");
  }
  auto basis = ledger::get_string(args, "basis");
  auto resident = ledger::get_string(args, "resident");
  if (!basis || !is_statute(*basis))
    return bad("basis must be a statute id of 1..64 [A-Za-z0-9._-]");
  if (!resident || !identity::is_valid_did(*resident)) return bad("resident must be a did:imi");
  if (!commitments(args["attribute_commitments"]) || !ledger::get_hex32(args, "commitment") ||
      !sealed_ok(args["sealed"], {"auditor", "resident"}, {}, kSealedB64Max)) {
    return bad(
        "read_lawful needs 1..16 ascending hex64 attribute commitments, a hex64 "
        "commitment and openings sealed to the resident and an auditor");
  }
  auto dept = has_role(state, tx.from(), "department");
  if (!dept) return dept.status();
  if (!*dept) {
    return TxOutcome::fail(ledger::kCodeForbidden, "only a department reads under a lawful basis");
  }
  if (!w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(log_access(*w, tx, ctx, *resident, {}, *basis));
  rapidjson::Document ev(rapidjson::kObjectType);
  auto& a = ev.GetAllocator();
  ev.AddMember("basis", str(*basis, a), a);
  ev.AddMember("department", str(tx.from(), a), a);
  ev.AddMember("type", "read_lawful", a);
  w->emit(ev);
  return TxOutcome::success();
}

rapidjson::Value attribute_json(const AttributeOpening& o, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("name", str(o.name, a), a);
  v.AddMember("salt", str(to_hex(o.salt), a), a);
  return v;
}

rapidjson::Document terms_json(const TermsOpening& t) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value attrs(rapidjson::kArrayType);
  for (const auto& o : t.attributes) attrs.PushBack(attribute_json(o, a), a);
  d.AddMember("attributes", attrs, a);
  d.AddMember("purpose", str(t.purpose, a), a);
  d.AddMember("salt", str(to_hex(t.salt), a), a);
  return d;
}

rapidjson::Document read_json(const ReadOpening& o) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value attrs(rapidjson::kArrayType);
  for (const auto& at : o.attributes) attrs.PushBack(attribute_json(at, a), a);
  d.AddMember("attributes", attrs, a);
  if (!o.basis.empty()) d.AddMember("basis", str(o.basis, a), a);
  d.AddMember("case", str(o.case_id, a), a);
  if (!o.consent.empty()) d.AddMember("consent", str(o.consent, a), a);
  d.AddMember("salt", str(to_hex(o.salt), a), a);
  return d;
}

// Sorted hex commitments of `attrs`.
std::vector<std::string> commitment_list(const std::vector<AttributeOpening>& attrs) {
  std::vector<std::string> out;
  for (const auto& o : attrs) out.push_back(to_hex(attribute_commitment(o)));
  std::sort(out.begin(), out.end());
  return out;
}

rapidjson::Value commitment_array(const std::vector<AttributeOpening>& attrs,
                                  rapidjson::Document::AllocatorType& a) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& c : commitment_list(attrs)) arr.PushBack(str(c, a), a);
  return arr;
}

// Whether `v` holds the commitments of `attrs` (as a set).
bool same_commitments(const rapidjson::Value& v, const std::vector<AttributeOpening>& attrs) {
  auto listed = v.IsObject() && v.HasMember("attribute_commitments")
                    ? commitments(v["attribute_commitments"])
                    : std::nullopt;
  return listed && *listed == commitment_list(attrs);
}

// 1..16 distinct valid names.
bool names_ok(const std::vector<AttributeOpening>& attrs) {
  if (attrs.empty() || attrs.size() > kAttributesMax) return false;
  std::set<std::string> seen;
  for (const auto& o : attrs) {
    if (!is_attribute(o.name) || !seen.insert(o.name).second) return false;
  }
  return true;
}

// Attribute openings of a parsed array of {"name","salt"}, or nullopt.
std::optional<std::vector<AttributeOpening>> attribute_openings(const rapidjson::Value& v) {
  if (!v.IsArray()) return std::nullopt;
  std::vector<AttributeOpening> out;
  for (const auto& e : v.GetArray()) {
    auto name = ledger::get_string(e, "name");
    auto salt = ledger::get_hex32(e, "salt");
    if (!ledger::expect_members(e, {"name", "salt"}).is_ok() || !name || !salt) {
      return std::nullopt;
    }
    out.push_back({std::string(*name), *salt});
  }
  if (!names_ok(out)) return std::nullopt;
  return out;
}

Result<rapidjson::Document> open_json(const identity::KeyPair& recipient,
                                      std::string_view sealed_b64) {
  auto raw = identity::base64url_decode(sealed_b64);
  if (!raw) return Status::error("consent.bad_opening", "sealed must be base64url");
  auto plain = identity::open_sealed(recipient, *raw);
  if (!plain) return plain.status();
  auto doc = ledger::parse_strict(
      std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
  if (!doc) return Status::error("consent.bad_opening", "the opening is not strict JSON");
  return doc;
}

Result<std::string> seal_b64(const identity::PublicKey& to, const std::string& plain) {
  auto box = identity::seal(to, as_bytes(plain));
  if (!box) return box.status();
  return identity::base64url_encode(*box);
}

}  // namespace

Result<TxOutcome> run_v2(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                         const ledger::StateReader& state, ledger::AppState* w) {
  if (tx.op() == "grant") return op_grant(tx, ctx, state, w);
  if (tx.op() == "revoke") return op_revoke(tx, ctx, state, w);
  if (tx.op() == "read") return op_read(tx, ctx, state, w);
  if (tx.op() == "read_lawful") return op_read_lawful(tx, ctx, state, w);
  return TxOutcome::fail(ledger::kCodeUnknownOp, "consent has no op " + tx.op() +
                                                     " (ops: grant, revoke, read, read_lawful)");
}

}  // namespace consent_internal

using namespace consent_internal;

Hash32 attribute_commitment(const AttributeOpening& o) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("name", str(o.name, a), a);
  d.AddMember("salt", str(to_hex(o.salt), a), a);
  return sha256(ledger::jcs(d));
}

Hash32 terms_commitment(const TermsOpening& t) { return sha256(ledger::jcs(terms_json(t))); }

bool terms_match(const TermsOpening& t, const rapidjson::Value& consent) {
  auto terms = ledger::get_hex32(consent, "terms");
  return terms && *terms == terms_commitment(t) && same_commitments(consent, t.attributes);
}

Result<SignedConsent> make_consent(const identity::KeyPair& resident, const ConsentTerms& terms,
                                   const identity::PublicKey& department_key,
                                   const identity::PublicKey* auditor_key) {
  SignedConsent out;
  for (const auto& name : terms.attributes) out.terms.attributes.push_back({name, fresh_salt()});
  out.terms.purpose = terms.purpose;
  out.terms.salt = fresh_salt();
  if (!names_ok(out.terms.attributes) || terms.purpose.size() > kPurposeBytesMax ||
      !identity::is_valid_did(terms.department)) {
    return Status::error("consent.bad_terms",
                         "a consent names a department DID, 1..16 distinct attributes of "
                         "[a-z0-9_]{1,32} and a purpose of at most 256 bytes");
  }
  const std::string plain = ledger::jcs(terms_json(out.terms));
  rapidjson::Document& d = out.consent;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("attribute_commitments", commitment_array(out.terms.attributes, a), a);
  d.AddMember("department", str(terms.department, a), a);
  d.AddMember("key", str(to_hex(resident.public_key()), a), a);
  d.AddMember("resident", str(resident.did(), a), a);
  rapidjson::Value sealed(rapidjson::kObjectType);
  auto to_department = seal_b64(department_key, plain);
  if (!to_department) return to_department.status();
  sealed.AddMember("department", str(*to_department, a), a);
  if (auditor_key) {
    auto to_auditor = seal_b64(*auditor_key, plain);
    if (!to_auditor) return to_auditor.status();
    sealed.AddMember("auditor", str(*to_auditor, a), a);
  }
  d.AddMember("sealed", sealed, a);
  d.AddMember("terms", str(to_hex(terms_commitment(out.terms)), a), a);
  d.AddMember("until", rapidjson::Value(static_cast<int64_t>(terms.until_ms)), a);
  d.AddMember("v", 2, a);
  auto sig = resident.sign(identity::Domain::kConsent, ledger::jcs(d));
  d.AddMember("sig", str(to_hex(sig), a), a);
  out.id = consent_id(d);
  return out;
}

Result<TermsOpening> open_terms(const identity::KeyPair& recipient, const rapidjson::Value& consent,
                                std::string_view sealed_b64) {
  auto doc = open_json(recipient, sealed_b64);
  if (!doc) return doc.status();
  auto bad_opening = Status::error("consent.bad_opening", "not the opening of this consent");
  if (!ledger::expect_members(*doc, {"attributes", "purpose", "salt"}).is_ok()) return bad_opening;
  auto attrs = attribute_openings((*doc)["attributes"]);
  auto purpose = ledger::get_string(*doc, "purpose");
  auto salt = ledger::get_hex32(*doc, "salt");
  if (!attrs || !purpose || !salt) return bad_opening;
  TermsOpening t{std::move(*attrs), std::string(*purpose), *salt};
  if (!terms_match(t, consent)) return bad_opening;
  return t;
}

Hash32 read_commitment(const ReadOpening& o) { return sha256(ledger::jcs(read_json(o))); }

Result<ReadOpening> consent_read(const TermsOpening& terms, std::string consent_id,
                                 const std::vector<std::string>& names, std::string case_id) {
  ReadOpening o;
  o.consent = std::move(consent_id);
  o.case_id = std::move(case_id);
  for (const auto& n : names) {
    auto it = std::find_if(terms.attributes.begin(), terms.attributes.end(),
                           [&](const AttributeOpening& a) { return a.name == n; });
    if (it == terms.attributes.end()) {
      return Status::error("consent.not_in_terms", "the consent's terms do not name " + n);
    }
    o.attributes.push_back(*it);
  }
  return o;
}

ReadOpening lawful_read(std::string basis, const std::vector<std::string>& names,
                        std::string case_id) {
  ReadOpening o;
  o.basis = std::move(basis);
  o.case_id = std::move(case_id);
  for (const auto& n : names) o.attributes.push_back({n, fresh_salt()});
  return o;
}

Result<rapidjson::Document> make_read_args(ReadOpening opening, std::string_view resident,
                                           const identity::PublicKey& resident_key,
                                           const identity::PublicKey* auditor_key) {
  const bool lawful = !opening.basis.empty();
  if (lawful == !opening.consent.empty() || !names_ok(opening.attributes) ||
      opening.case_id.size() > kCaseBytesMax ||
      (lawful ? !is_statute(opening.basis) || !auditor_key || !identity::is_valid_did(resident)
              : !is_lower_hex(opening.consent, 64))) {
    return Status::error("consent.bad_read",
                         "a read names a consent id or (with an auditor) a statute, 1..16 "
                         "distinct attributes and a case of at most 128 bytes");
  }
  if (opening.salt == Hash32{}) opening.salt = fresh_salt();
  const std::string plain = ledger::jcs(read_json(opening));
  rapidjson::Document args(rapidjson::kObjectType);
  auto& a = args.GetAllocator();
  args.AddMember("attribute_commitments", commitment_array(opening.attributes, a), a);
  if (lawful) args.AddMember("basis", str(opening.basis, a), a);
  args.AddMember("commitment", str(to_hex(read_commitment(opening)), a), a);
  if (!lawful) args.AddMember("consent", str(opening.consent, a), a);
  if (lawful) args.AddMember("resident", str(resident, a), a);
  rapidjson::Value sealed(rapidjson::kObjectType);
  auto to_resident = seal_b64(resident_key, plain);
  if (!to_resident) return to_resident.status();
  sealed.AddMember("resident", str(*to_resident, a), a);
  if (auditor_key) {
    auto to_auditor = seal_b64(*auditor_key, plain);
    if (!to_auditor) return to_auditor.status();
    sealed.AddMember("auditor", str(*to_auditor, a), a);
  }
  args.AddMember("sealed", sealed, a);
  return args;
}

Result<ReadOpening> open_read(const identity::KeyPair& recipient, std::string_view sealed_b64) {
  auto doc = open_json(recipient, sealed_b64);
  if (!doc) return doc.status();
  auto bad_opening = Status::error("consent.bad_opening", "not a read opening");
  if (!ledger::expect_members(*doc, {"attributes", "case", "salt"}, {"basis", "consent"}).is_ok() ||
      ledger::has_field(*doc, "basis") == ledger::has_field(*doc, "consent")) {
    return bad_opening;
  }
  auto attrs = attribute_openings((*doc)["attributes"]);
  auto case_id = ledger::get_string(*doc, "case");
  auto salt = ledger::get_hex32(*doc, "salt");
  if (!attrs || !case_id || !salt) return bad_opening;
  ReadOpening o;
  o.attributes = std::move(*attrs);
  o.case_id = std::string(*case_id);
  o.salt = *salt;
  for (const char* f : {"basis", "consent"}) {
    if (!ledger::has_field(*doc, f)) continue;
    auto s = ledger::get_string(*doc, f);
    if (!s) return bad_opening;
    (std::string_view(f) == "basis" ? o.basis : o.consent) = std::string(*s);
  }
  return o;
}

bool read_matches(const ReadOpening& o, const rapidjson::Value& access) {
  auto commitment = ledger::get_hex32(access, "commitment");
  if (!commitment || *commitment != read_commitment(o) || !same_commitments(access, o.attributes)) {
    return false;
  }
  auto consent = ledger::get_string(access, "consent");
  auto basis = ledger::get_string(access, "basis");
  return o.basis.empty() ? consent && *consent == o.consent : basis && *basis == o.basis;
}

}  // namespace imi::apps
