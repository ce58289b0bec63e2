// The approval app's cases and materials (apps/approval.h): open_case,
// accept_case, add_material, verify_material.
#include "apps/anchor.h"
#include "apps/approval_internal.h"
#include "identity/base64url.h"
#include "identity/sealed.h"

namespace imi::apps::approval_detail {
namespace {

// Acceptance: the statutory clock starts at the full time limit.
Status accept(ledger::AppState& w, Case& c, int64_t now, const std::string& window) {
  auto& a = c.rec.GetAllocator();
  set(c.rec, "accepted_at", num(now), a);
  if (!window.empty()) set(c.rec, "window", str(window, a), a);
  IMI_RETURN_IF_ERROR(start_clock(w, c, now, time_left(c)));
  IMI_RETURN_IF_ERROR(save(w, c));
  StatsDelta d;
  d.accepted = 1;
  d.accept_ms = now - int_of(c.rec, "opened_at");
  IMI_RETURN_IF_ERROR(add_stats(w, c.matter_id(), c.department(), now, d));
  auto ev = case_event(c.id);
  auto& ea = ev.GetAllocator();
  ev.AddMember("department", str(c.department(), ea), ea);
  ev.AddMember("due", num(int_of(c.rec, "due")), ea);
  emit(w, ev, "case_accepted");
  return Status::ok();
}

// The optional "window" arg into `out` (3 if malformed).
std::optional<TxOutcome> window_arg(const rapidjson::Value& args, std::string& out) {
  if (!ledger::has_field(args, "window")) return std::nullopt;
  auto window = util::string_arg(args, "window", &is_valid_ident);
  if (!window) return bad("window", "must be 1..64 of [A-Za-z0-9._-]");
  out = *window;
  return std::nullopt;
}

rapidjson::Document material_event(std::string_view case_id, std::string_view material) {
  auto ev = case_event(case_id);
  ev.AddMember("material", str(material, ev.GetAllocator()), ev.GetAllocator());
  return ev;
}

}  // namespace

Result<TxOutcome> op_open_case(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"matter"}, {"applicant", "window"})) return *f;
  auto matter_id = util::string_arg(args, "matter", &is_valid_ident);
  if (!matter_id) return bad("matter", "must be 1..64 of [A-Za-z0-9._-]");
  const bool at_window = ledger::has_field(args, "applicant");
  std::string applicant = op.actor(), window;
  if (at_window) {
    auto a = util::string_arg(args, "applicant", &util::is_valid_did);
    if (!a) return bad("applicant", "must be a did:imi");
    applicant = *a;
    if (auto f = window_arg(args, window)) return *f;
  } else if (ledger::has_field(args, "window")) {
    return bad("window", "only a window clerk names a window (with the applicant)");
  }
  auto matter = read_matter(op.state, *matter_id);
  if (!matter) return matter.status();
  if (!matter->has_value()) return fail(ledger::kCodeNotFound, "no matter " + *matter_id);
  IMI_RETURN_IF_REFUSED(check_scope(op, *matter_id));
  if (at_window) {
    IMI_RETURN_IF_REFUSED(require_role(op, kWindowRole));
  }
  if (!op.w) return TxOutcome::success();

  Case c{op.new_id(), rapidjson::Document(rapidjson::kObjectType), std::move(**matter)};
  auto& r = c.rec;
  auto& a = r.GetAllocator();
  const std::string department = c.matter["departments"][0].GetString();
  r.AddMember("applicant", str(applicant, a), a);
  r.AddMember("clock_used_ms", 0, a);
  r.AddMember("department", str(department, a), a);
  r.AddMember("department_index", 0, a);
  r.AddMember("id", str(c.id, a), a);
  r.AddMember("matter", str(*matter_id, a), a);
  r.AddMember("opened_at", num(op.now()), a);
  r.AddMember("opened_by", str(op.actor(), a), a);
  r.AddMember("overdue", false, a);
  if (!op.tx.on_behalf_of().empty()) r.AddMember("sender", str(op.tx.from(), a), a);
  r.AddMember("status", "submitted", a);
  r.AddMember("version", num(int_of(c.matter, "version")), a);
  ledger::AppState& w = *op.w;
  IMI_RETURN_IF_ERROR(save(w, c));
  IMI_RETURN_IF_ERROR(
      util::write_ref(w, kApprovalApp, "by_applicant/" + applicant + "/" + c.id, c.id));
  IMI_RETURN_IF_ERROR(util::write_ref(w, kApprovalApp, open_key(*matter_id, c.id), c.id));
  StatsDelta d;
  d.opened = 1;
  IMI_RETURN_IF_ERROR(add_stats(w, *matter_id, department, op.now(), d));
  auto ev = case_event(c.id);
  ev.AddMember("matter", str(*matter_id, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("status", at_window ? "in_review" : "submitted", ev.GetAllocator());
  emit(w, ev, "case_opened");
  if (at_window) IMI_RETURN_IF_ERROR(accept(w, c, op.now(), window));
  return TxOutcome::success();
}

Result<TxOutcome> op_accept_case(Op& op) {
  if (auto f = expect_args(op.args(), {"case"}, {"window"})) return *f;
  std::string window;
  if (auto f = window_arg(op.args(), window)) return *f;
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  IMI_RETURN_IF_REFUSED(require_role(op, kWindowRole));
  if (auto f = require_status(c, {"submitted"})) return *f;
  if (!op.w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(accept(*op.w, c, op.now(), window));
  return TxOutcome::success();
}

Result<TxOutcome> op_add_material(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"case", "material"}, {"hash", "sealed", "commitment"})) return *f;
  auto material = util::string_arg(args, "material", &is_valid_ident);
  if (!material) return bad("material", "must be 1..64 of [A-Za-z0-9._-]");
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  const rapidjson::Value* def = find_entry(c.matter, "materials", *material);
  if (!def) return fail(ledger::kCodeNotFound, "the matter has no material " + *material);
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  if (str_of(*def, "kind") == "document") {
    for (std::string_view other : {"sealed", "commitment"})
      if (ledger::has_field(args, other)) return bad(other, "only for a credential material");
    auto hash = ledger::get_hex32(args, "hash");
    if (!hash)
      return bad("hash", "a document material needs the hex64 hash of an anchored document");
    auto anchored = anchor_lookup(op.state, *hash);
    if (!anchored) return anchored.status();
    if (!anchored->has_value())
      return fail(ledger::kCodeNotFound, "hash: no such document anchored");
    rec.AddMember("hash", str(to_hex(*hash), a), a);
  } else {
    if (ledger::has_field(args, "hash")) return bad("hash", "only for a document material");
    auto sealed = ledger::get_string(args, "sealed");
    auto raw = sealed ? identity::base64url_decode(*sealed) : std::nullopt;
    if (!raw || raw->size() < identity::kSealedOverheadBytes)
      return bad("sealed", "a credential material needs a base64url sealed box");
    if (raw->size() > op.params.sealed_bytes_max)
      return over_limit("sealed", op.params.sealed_bytes_max);
    auto commitment = ledger::get_hex32(args, "commitment");
    if (!commitment) return bad("commitment", "a credential material needs 64 lowercase hex");
    rec.AddMember("commitment", str(to_hex(*commitment), a), a);
    rec.AddMember("sealed", str(*sealed, a), a);
  }
  if (auto f = require_applicant(op, c)) return *f;
  if (auto f = require_status(c, {"submitted", "in_review", "returned"})) return *f;
  if (!op.w) return TxOutcome::success();

  ledger::AppState& w = *op.w;
  rec.AddMember("added_at", num(op.now()), a);
  if (!op.tx.on_behalf_of().empty()) rec.AddMember("sender", str(op.tx.from(), a), a);
  IMI_RETURN_IF_ERROR(write(w, "material/" + c.id + "/" + *material, rec));
  auto ev = material_event(c.id, *material);
  emit(w, ev, "material_added");
  if (c.status() != "returned") return TxOutcome::success();

  // A returned case resumes once every missing material is given.
  auto& ca = c.rec.GetAllocator();
  rapidjson::Value missing(rapidjson::kArrayType);
  for (const auto& m : c.rec["missing"].GetArray())
    if (std::string_view(m.GetString(), m.GetStringLength()) != *material)
      missing.PushBack(rapidjson::Value(m, ca), ca);
  if (!missing.Empty()) {
    set(c.rec, "missing", std::move(missing), ca);
    IMI_RETURN_IF_ERROR(save(w, c));
    return TxOutcome::success();
  }
  c.rec.RemoveMember("missing");
  IMI_RETURN_IF_ERROR(start_clock(w, c, op.now(), time_left(c)));
  IMI_RETURN_IF_ERROR(save(w, c));
  auto resumed = case_event(c.id);
  resumed.AddMember("due", num(int_of(c.rec, "due")), resumed.GetAllocator());
  emit(w, resumed, "case_resumed");
  return TxOutcome::success();
}

Result<TxOutcome> op_verify_material(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"case", "material", "ok"})) return *f;
  auto material = util::string_arg(args, "material", &is_valid_ident);
  if (!material) return bad("material", "must be 1..64 of [A-Za-z0-9._-]");
  auto ok = ledger::get_bool(args, "ok");
  if (!ok) return bad("ok", "must be true or false");
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  const std::string key = "material/" + c.id + "/" + *material;
  auto rec = read(op.state, key);
  if (!rec) return rec.status();
  if (!rec->has_value()) return fail(ledger::kCodeNotFound, "material " + *material + " not given");
  IMI_RETURN_IF_REFUSED(require_department(op, c, {"in_review", "returned"}));
  if (!op.w) return TxOutcome::success();
  auto& m = **rec;
  auto& a = m.GetAllocator();
  rapidjson::Value verified(rapidjson::kObjectType);
  verified.AddMember("at", num(op.now()), a);
  verified.AddMember("by", str(op.actor(), a), a);
  verified.AddMember("ok", *ok, a);
  set(m, "verified", std::move(verified), a);
  IMI_RETURN_IF_ERROR(write(*op.w, key, m));
  auto ev = material_event(c.id, *material);
  ev.AddMember("ok", *ok, ev.GetAllocator());
  emit(*op.w, ev, "material_verified");
  return TxOutcome::success();
}

}  // namespace imi::apps::approval_detail
