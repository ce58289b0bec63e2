// The approval app's questions (apps/approval.h): ask, record_answer,
// consent_reuse, reuse_answer, and the question deadline.
#include "apps/answers.h"
#include "apps/approval_internal.h"

namespace imi::apps::approval_detail {
namespace {

std::string question_key(std::string_view case_id, std::string_view q) {
  return "question/" + std::string(case_id) + "/" + std::string(q);
}
std::string question_deadline_key(std::string_view case_id, std::string_view q) {
  return "q/" + std::string(case_id) + "/" + std::string(q);
}

rapidjson::Document question_event(std::string_view case_id, std::string_view q) {
  auto ev = case_event(case_id);
  ev.AddMember("question", str(q, ev.GetAllocator()), ev.GetAllocator());
  return ev;
}

// The case named by "case", the question id and its definition in the
// case's matter version (5 if it has none), for ops on one question.
struct Asked {
  Case c;
  std::string q;
  const rapidjson::Value* def = nullptr;
};
Result<std::optional<TxOutcome>> load_question(const Op& op, Asked& out) {
  auto q = util::string_arg(op.args(), "question", &is_valid_question_id);
  if (!q) return std::optional<TxOutcome>(bad("question", "must be 1..31 of [A-Za-z0-9._-]"));
  out.q = *q;
  auto loaded = load_case(op, "case", out.c);
  if (!loaded || loaded->has_value()) return loaded;
  out.def = find_entry(out.c.matter, "questions", out.q);
  if (!out.def)
    return std::optional<TxOutcome>(
        fail(ledger::kCodeNotFound, "the matter has no question " + out.q));
  return std::optional<TxOutcome>();
}

// The question record, or nullopt when never asked.
Result<std::optional<rapidjson::Document>> read_question(const ledger::StateReader& state,
                                                         std::string_view case_id,
                                                         std::string_view q) {
  return read(state, question_key(case_id, q));
}

}  // namespace

Result<TxOutcome> op_ask(Op& op) {
  if (auto f = expect_args(op.args(), {"case", "question"})) return *f;
  Asked x;
  IMI_RETURN_IF_REFUSED(load_question(op, x));
  IMI_RETURN_IF_REFUSED(require_department(op, x.c, {"in_review", "returned"}));
  auto existing = read_question(op.state, x.c.id, x.q);
  if (!existing) return existing.status();
  if (existing->has_value() && str_of(**existing, "status") != "overdue")
    return fail(ledger::kCodeConflict, "question " + x.q + " is " + str_of(**existing, "status"));
  if (!op.w) return TxOutcome::success();

  const std::string authority = str_of(*x.def, "authority");
  const int64_t due = op.now() + int_of(*x.def, "within_ms");
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("asked_at", num(op.now()), a);
  rec.AddMember("authority", str(authority, a), a);
  rec.AddMember("department", str(op.actor(), a), a);
  rec.AddMember("due", num(due), a);
  rec.AddMember("status", "asked", a);
  IMI_RETURN_IF_ERROR(write(*op.w, question_key(x.c.id, x.q), rec));
  IMI_RETURN_IF_ERROR(
      op.w->schedule(question_deadline_key(x.c.id, x.q), static_cast<uint64_t>(due)));
  auto ev = question_event(x.c.id, x.q);
  auto& ea = ev.GetAllocator();
  ev.AddMember("authority", str(authority, ea), ea);
  ev.AddMember("department", str(op.actor(), ea), ea);
  ev.AddMember("due", num(due), ea);
  emit(*op.w, ev, "question_asked");
  return TxOutcome::success();
}

Result<TxOutcome> op_record_answer(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"case", "question", "commitment"})) return *f;
  auto commitment = ledger::get_hex32(args, "commitment");
  if (!commitment) return bad("commitment", "must be 64 lowercase hex");
  Asked x;
  IMI_RETURN_IF_REFUSED(load_question(op, x));
  auto qrec = read_question(op.state, x.c.id, x.q);
  if (!qrec) return qrec.status();
  if (!qrec->has_value()) return fail(ledger::kCodeNotFound, "question " + x.q + " was not asked");
  auto& rec = **qrec;
  // The answers app's record of the authority's answer to this department.
  auto answer =
      op.state.get_json(kAnswersApp, "answer/" + x.c.id + ":" + x.q + "/" + to_hex(*commitment));
  if (!answer) return answer.status();
  if (!answer->has_value() || str_of(**answer, "authority") != str_of(rec, "authority") ||
      str_of(**answer, "department") != op.actor())
    return fail(ledger::kCodeNotFound, "no answer " + to_hex(*commitment) + " by " +
                                           str_of(rec, "authority") + " to this department");
  IMI_RETURN_IF_REFUSED(require_department(op, x.c, {"in_review", "returned"}));
  if (str_of(rec, "status") == "answered")
    return fail(ledger::kCodeConflict, "question " + x.q + " is answered already");
  if (!op.w) return TxOutcome::success();

  auto& a = rec.GetAllocator();
  set(rec, "status", str("answered", a), a);
  set(rec, "commitment", str(to_hex(*commitment), a), a);
  set(rec, "answered_at", num(op.now()), a);
  set(rec, "valid_until", num(op.now() + int_of(*x.def, "valid_for_ms")), a);
  IMI_RETURN_IF_ERROR(write(*op.w, question_key(x.c.id, x.q), rec));
  IMI_RETURN_IF_ERROR(op.w->cancel(question_deadline_key(x.c.id, x.q)));
  auto ev = question_event(x.c.id, x.q);
  emit(*op.w, ev, "answer_recorded");
  return TxOutcome::success();
}

Result<TxOutcome> op_consent_reuse(Op& op) {
  if (auto f = expect_args(op.args(), {"case", "question", "from_case"})) return *f;
  Asked x;
  IMI_RETURN_IF_REFUSED(load_question(op, x));
  Case from;
  IMI_RETURN_IF_REFUSED(load_case(op, "from_case", from));
  const rapidjson::Value* from_def = find_entry(from.matter, "questions", x.q);
  if (!from_def || str_of(*from_def, "authority") != str_of(*x.def, "authority"))
    return fail(ledger::kCodeNotFound,
                "from_case has no question " + x.q + " to the same authority");
  if (auto f = require_applicant(op, x.c)) return *f;
  if (from.applicant() != x.c.applicant())
    return fail(ledger::kCodeForbidden, "from_case is another applicant's");
  if (auto f = require_status(x.c, {"submitted", "in_review", "returned"})) return *f;
  if (!op.w) return TxOutcome::success();
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("at", num(op.now()), a);
  rec.AddMember("from_case", str(from.id, a), a);
  IMI_RETURN_IF_ERROR(write(*op.w, "reuse_consent/" + x.c.id + "/" + x.q, rec));
  auto ev = question_event(x.c.id, x.q);
  ev.AddMember("from_case", str(from.id, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "reuse_consented");
  return TxOutcome::success();
}

Result<TxOutcome> op_reuse_answer(Op& op) {
  if (auto f = expect_args(op.args(), {"case", "question", "from_case"})) return *f;
  auto from_id = util::id_arg(op.args(), "from_case");
  if (!from_id) return bad("from_case", "must be a 32-hex case id");
  Asked x;
  IMI_RETURN_IF_REFUSED(load_question(op, x));
  IMI_RETURN_IF_REFUSED(require_department(op, x.c, {"in_review", "returned"}));
  auto existing = read_question(op.state, x.c.id, x.q);
  if (!existing) return existing.status();
  if (existing->has_value() && str_of(**existing, "status") == "answered")
    return fail(ledger::kCodeConflict, "question " + x.q + " is answered already");
  auto consent = read(op.state, "reuse_consent/" + x.c.id + "/" + x.q);
  if (!consent) return consent.status();
  if (!consent->has_value() || str_of(**consent, "from_case") != *from_id)
    return fail(kApprovalCodeNoConsent,
                "the applicant has not consented to reuse the answer of " + *from_id);
  auto source = read_question(op.state, *from_id, x.q);
  if (!source) return source.status();
  if (!source->has_value() || str_of(**source, "status") != "answered")
    return fail(ledger::kCodeNotFound, "from_case holds no answer to " + x.q);
  const auto& src = **source;
  if (int_of(src, "valid_until") <= op.now())
    return fail(kApprovalCodeAnswerExpired, "the answer in " + *from_id + " expired at " +
                                                std::to_string(int_of(src, "valid_until")));
  if (!op.w) return TxOutcome::success();

  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("answered_at", num(op.now()), a);
  rec.AddMember("asked_at", num(op.now()), a);
  rec.AddMember("authority", str(str_of(src, "authority"), a), a);
  rec.AddMember("commitment", str(str_of(src, "commitment"), a), a);
  rec.AddMember("department", str(op.actor(), a), a);
  rec.AddMember("due", num(op.now()), a);
  rec.AddMember("reused_from", str(*from_id, a), a);
  rec.AddMember("status", "answered", a);
  rec.AddMember("valid_until", num(int_of(src, "valid_until")), a);
  IMI_RETURN_IF_ERROR(write(*op.w, question_key(x.c.id, x.q), rec));
  IMI_RETURN_IF_ERROR(op.w->cancel(question_deadline_key(x.c.id, x.q)));
  auto ev = question_event(x.c.id, x.q);
  ev.AddMember("from_case", str(*from_id, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "answer_reused");
  return TxOutcome::success();
}

Result<TxOutcome> question_deadline(std::string_view case_id, std::string_view question,
                                    ledger::AppState& w) {
  auto doc = read_question(w, case_id, question);
  if (!doc) return doc.status();
  // Answered since: nothing to escalate.
  if (!doc->has_value() || str_of(**doc, "status") != "asked") return TxOutcome::success();
  auto& rec = **doc;
  set(rec, "status", str("overdue", rec.GetAllocator()), rec.GetAllocator());
  IMI_RETURN_IF_ERROR(write(w, question_key(case_id, question), rec));
  auto ev = question_event(case_id, question);
  auto& ea = ev.GetAllocator();
  ev.AddMember("authority", str(str_of(rec, "authority"), ea), ea);
  ev.AddMember("department", str(str_of(rec, "department"), ea), ea);
  emit(w, ev, "question_overdue");
  return TxOutcome::success();
}

}  // namespace imi::apps::approval_detail
