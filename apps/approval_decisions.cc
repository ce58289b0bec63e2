// The approval app's decisions (apps/approval.h): return_case, approve,
// reject, issue_certificate, rate, withdraw, and the statutory deadline.
#include <set>

#include "apps/approval_internal.h"

namespace imi::apps::approval_detail {
namespace {

// What approve still waits for, empty when nothing.
Result<std::string> incomplete(const ledger::StateReader& state, const Case& c) {
  for (const auto& m : c.matter["materials"].GetArray()) {
    const std::string id = str_of(m, "id");
    auto rec = read(state, "material/" + c.id + "/" + id);
    if (!rec) return rec.status();
    if (!rec->has_value()) return "material " + id + " is not given";
    auto it = (*rec)->FindMember("verified");
    if (it == (*rec)->MemberEnd() || !bool_of(it->value, "ok"))
      return "material " + id + " is not verified ok";
  }
  for (const auto& q : c.matter["questions"].GetArray()) {
    const std::string id = str_of(q, "id");
    auto rec = read(state, "question/" + c.id + "/" + id);
    if (!rec) return rec.status();
    if (!rec->has_value() || str_of(**rec, "status") != "answered")
      return "question " + id + " is not answered";
  }
  return std::string();
}

// The decision: the clock stops, the case leaves the indexes, counters.
Status decide(ledger::AppState& w, Case& c, int64_t now, std::string_view decision,
              const std::string& reason, const std::string& by) {
  IMI_RETURN_IF_ERROR(stop_clock(w, c, now));
  IMI_RETURN_IF_ERROR(cancel_questions(w, c));
  IMI_RETURN_IF_ERROR(util::erase(w, kApprovalApp, open_key(c.matter_id(), c.id)));
  auto& a = c.rec.GetAllocator();
  set(c.rec, "status", str("decided", a), a);
  set(c.rec, "decision", str(decision, a), a);
  if (!reason.empty()) set(c.rec, "reason", str(reason, a), a);
  set(c.rec, "decided_at", num(now), a);
  set(c.rec, "decided_by", str(by, a), a);
  IMI_RETURN_IF_ERROR(save(w, c));
  StatsDelta d;
  d.decided = 1;
  (decision == "approved" ? d.approved : d.rejected) = 1;
  d.decide_ms = now - int_of(c.rec, "accepted_at");
  IMI_RETURN_IF_ERROR(add_stats(w, c.matter_id(), by, now, d));
  auto ev = case_event(c.id);
  ev.AddMember("decision", str(decision, ev.GetAllocator()), ev.GetAllocator());
  if (!reason.empty()) ev.AddMember("reason", str(reason, ev.GetAllocator()), ev.GetAllocator());
  emit(w, ev, "case_decided");
  return Status::ok();
}

bool is_status_list(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
}

}  // namespace

Result<TxOutcome> op_return_case(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"case", "missing"})) return *f;
  auto missing = ledger::get_array(args, "missing");
  if (!missing || (*missing)->Empty()) return bad("missing", "must name at least one material");
  if ((*missing)->Size() > op.params.materials_max)
    return over_limit("missing", op.params.materials_max);
  std::set<std::string_view> seen;
  for (const auto& m : (*missing)->GetArray()) {
    if (!m.IsString() || !is_valid_ident({m.GetString(), m.GetStringLength()}))
      return bad("missing", "entries must be material ids");
    if (!seen.insert({m.GetString(), m.GetStringLength()}).second)
      return bad("missing", std::string(m.GetString()) + " named twice");
  }
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  for (auto id : seen)
    if (!find_entry(c.matter, "materials", id))
      return fail(ledger::kCodeNotFound, "the matter has no material " + std::string(id));
  IMI_RETURN_IF_REFUSED(require_department(op, c, {"in_review"}));
  if (!op.w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(stop_clock(*op.w, c, op.now()));
  auto& a = c.rec.GetAllocator();
  set(c.rec, "status", str("returned", a), a);
  set(c.rec, "missing", rapidjson::Value(**missing, a), a);
  IMI_RETURN_IF_ERROR(save(*op.w, c));
  auto ev = case_event(c.id);
  ev.AddMember("missing", rapidjson::Value(**missing, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "case_returned");
  return TxOutcome::success();
}

Result<TxOutcome> op_decide(Op& op) {
  const bool approve = op.tx.op() == "approve";
  const auto& args = op.args();
  if (auto f = approve ? expect_args(args, {"case"}) : expect_args(args, {"case", "reason"}))
    return *f;
  std::string reason;
  if (!approve) {
    auto r = util::string_arg(args, "reason", &is_valid_ident);
    if (!r) return bad("reason", "must be a reason code");
    reason = *r;
  }
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  if (!approve && !holds(c.matter, "reasons", reason))
    return bad("reason", reason + " is not one of the matter's reasons");
  IMI_RETURN_IF_REFUSED(require_department(op, c, {"in_review"}));
  if (approve) {
    auto missing = incomplete(op.state, c);
    if (!missing) return missing.status();
    if (!missing->empty()) return fail(kApprovalCodeIncomplete, *missing);
  }
  if (!op.w) return TxOutcome::success();
  ledger::AppState& w = *op.w;
  const auto& departments = c.matter["departments"];
  const int64_t next = int_of(c.rec, "department_index") + 1;
  if (!approve || next >= static_cast<int64_t>(departments.Size())) {
    IMI_RETURN_IF_ERROR(
        decide(w, c, op.now(), approve ? "approved" : "rejected", reason, op.actor()));
    return TxOutcome::success();
  }
  // Routed to the next department; the clock runs on.
  const std::string to = departments[static_cast<rapidjson::SizeType>(next)].GetString();
  IMI_RETURN_IF_ERROR(util::erase(w, kApprovalApp, waiting_key(c.department(), c.id)));
  IMI_RETURN_IF_ERROR(util::write_ref(w, kApprovalApp, waiting_key(to, c.id), c.id));
  auto& a = c.rec.GetAllocator();
  set(c.rec, "department_index", num(next), a);
  set(c.rec, "department", str(to, a), a);
  IMI_RETURN_IF_ERROR(save(w, c));
  auto ev = case_event(c.id);
  ev.AddMember("department", str(to, ev.GetAllocator()), ev.GetAllocator());
  emit(w, ev, "case_routed");
  return TxOutcome::success();
}

Result<TxOutcome> op_issue_certificate(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"case", "hash", "status_list", "index"})) return *f;
  auto hash = ledger::get_hex32(args, "hash");
  if (!hash) return bad("hash", "must be 64 lowercase hex");
  auto list = util::string_arg(args, "status_list", &is_status_list);
  if (!list) return bad("status_list", "must be a URI (printable ASCII, no spaces)");
  if (list->size() > op.params.text_bytes_max)
    return over_limit("status_list", op.params.text_bytes_max);
  auto index = ledger::get_uint(args, "index");
  if (!index) return bad("index", "must be an integer 0..2^53-1");
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  if (op.actor() != str_of(c.rec, "decided_by"))
    return fail(ledger::kCodeForbidden, "only the deciding department issues the certificate");
  if (str_of(c.rec, "decision") != "approved" || str_of(c.matter, "kind") != "approval")
    return fail(ledger::kCodeConflict, "only an approved case of an approval matter gets one");
  if (c.rec.HasMember("certificate"))
    return fail(ledger::kCodeConflict, "the certificate is issued already");
  if (!op.w) return TxOutcome::success();
  auto& a = c.rec.GetAllocator();
  rapidjson::Value cert(rapidjson::kObjectType);
  cert.AddMember("hash", str(to_hex(*hash), a), a);
  cert.AddMember("index", num(static_cast<int64_t>(*index)), a);
  cert.AddMember("status_list", str(*list, a), a);
  set(c.rec, "certificate", std::move(cert), a);
  IMI_RETURN_IF_ERROR(save(*op.w, c));
  auto ev = case_event(c.id);
  ev.AddMember("hash", str(to_hex(*hash), ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "certificate_issued");
  return TxOutcome::success();
}

Result<TxOutcome> op_rate(Op& op) {
  if (auto f = expect_args(op.args(), {"case", "score"})) return *f;
  auto score = ledger::get_int(op.args(), "score");
  if (!score || *score < 1 || *score > 5) return bad("score", "must be 1..5");
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  if (auto f = require_applicant(op, c)) return *f;
  if (auto f = require_status(c, {"decided"})) return *f;
  if (c.rec.HasMember("rating"))
    return fail(kApprovalCodeAlreadyRated, "the case is rated already");
  if (!op.w) return TxOutcome::success();
  set(c.rec, "rating", num(*score), c.rec.GetAllocator());
  IMI_RETURN_IF_ERROR(save(*op.w, c));
  StatsDelta d;
  d.rating = *score;
  IMI_RETURN_IF_ERROR(add_stats(*op.w, c.matter_id(), str_of(c.rec, "decided_by"), op.now(), d));
  auto ev = case_event(c.id);
  ev.AddMember("score", num(*score), ev.GetAllocator());
  emit(*op.w, ev, "case_rated");
  return TxOutcome::success();
}

Result<TxOutcome> op_withdraw(Op& op) {
  if (auto f = expect_args(op.args(), {"case"})) return *f;
  Case c;
  IMI_RETURN_IF_REFUSED(load_case(op, "case", c));
  if (auto f = require_applicant(op, c)) return *f;
  if (auto f = require_status(c, {"submitted", "in_review", "returned"})) return *f;
  if (!op.w) return TxOutcome::success();
  ledger::AppState& w = *op.w;
  IMI_RETURN_IF_ERROR(stop_clock(w, c, op.now()));
  IMI_RETURN_IF_ERROR(cancel_questions(w, c));
  IMI_RETURN_IF_ERROR(util::erase(w, kApprovalApp, open_key(c.matter_id(), c.id)));
  auto& a = c.rec.GetAllocator();
  set(c.rec, "status", str("withdrawn", a), a);
  set(c.rec, "withdrawn_at", num(op.now()), a);
  IMI_RETURN_IF_ERROR(save(w, c));
  auto ev = case_event(c.id);
  emit(w, ev, "case_withdrawn");
  return TxOutcome::success();
}

Result<TxOutcome> case_deadline(std::string_view case_id, const ledger::BlockContext& ctx,
                                ledger::AppState& w) {
  auto doc = read(w, "case/" + std::string(case_id));
  if (!doc) return doc.status();
  // Decided, withdrawn or returned since: the clock is not running.
  if (!doc->has_value() || str_of(**doc, "status") != "in_review" || bool_of(**doc, "overdue"))
    return TxOutcome::success();
  auto& rec = **doc;
  const std::string matter = str_of(rec, "matter");
  auto def = read(w, "matter/" + matter + "/v/" + std::to_string(int_of(rec, "version")));
  if (!def) return def.status();
  if (!def->has_value())
    return Status::error("state.corrupt_value",
                         "approval case " + std::string(case_id) + " names no matter");
  set(rec, "overdue", rapidjson::Value(true), rec.GetAllocator());
  IMI_RETURN_IF_ERROR(write(w, "case/" + std::string(case_id), rec));
  StatsDelta d;
  d.overdue = 1;
  IMI_RETURN_IF_ERROR(
      add_stats(w, matter, str_of(rec, "department"), static_cast<int64_t>(ctx.time_ms), d));
  auto ev = case_event(case_id);
  auto& ea = ev.GetAllocator();
  ev.AddMember("department", str(str_of(rec, "department"), ea), ea);
  ev.AddMember("due", num(int_of(rec, "due")), ea);
  ev.AddMember("matter", str(matter, ea), ea);
  ev.AddMember("supervisor", str(str_of(**def, "supervisor"), ea), ea);
  emit(w, ev, "case_overdue");
  return TxOutcome::success();
}

}  // namespace imi::apps::approval_detail
