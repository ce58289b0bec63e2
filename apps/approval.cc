// The approval app: parameters, dispatch, deadlines, queries and the case
// helpers the ops share. The ops live in approval_matters.cc,
// approval_cases.cc, approval_questions.cc and approval_decisions.cc; the
// statistics in approval_stats.cc.
#include "apps/approval.h"

#include <algorithm>

#include "apps/approval_internal.h"
#include "apps/governance.h"
#include "ledger/delegation.h"

namespace imi::apps {
namespace approval_detail {

bool is_valid_ident(std::string_view s) { return util::is_valid_token(s, false); }

bool is_valid_question_id(std::string_view s) {
  return s.size() <= kApprovalQuestionIdBytesMax && is_valid_ident(s);
}

TxOutcome fail(int64_t code, std::string message) {
  return TxOutcome::fail(code, std::move(message));
}

TxOutcome over_limit(std::string_view field, uint64_t max) {
  return fail(kApprovalCodeLimit,
              std::string(field) + ": over the limit of " + std::to_string(max));
}

Result<std::optional<rapidjson::Document>> read_matter(const ledger::StateReader& state,
                                                       std::string_view id) {
  auto head = read(state, "matter/" + std::string(id));
  if (!head || !head->has_value()) return head;
  return read(state,
              "matter/" + std::string(id) + "/v/" + std::to_string(int_of(**head, "version")));
}

Result<std::optional<TxOutcome>> check_scope(const Op& op, std::string_view matter) {
  if (op.tx.on_behalf_of().empty()) return std::optional<TxOutcome>();
  auto grant = ledger::find_delegation(op.state, op.actor(), op.tx.from());
  if (!grant) return grant.status();
  // The executor ran check_delegation() first, so a grant exists.
  if (!grant->has_value())
    return std::optional<TxOutcome>(fail(ledger::kCodeForbidden, "no delegation"));
  if (!(*grant)->covers_matter(matter))
    return std::optional<TxOutcome>(fail(
        kApprovalCodeNotInScope,
        "the delegation from " + op.actor() + " does not cover matter " + std::string(matter)));
  return std::optional<TxOutcome>();
}

Result<std::optional<TxOutcome>> load_case(const Op& op, std::string_view field, Case& c) {
  auto id = util::id_arg(op.args(), field);
  if (!id) return std::optional<TxOutcome>(bad(field, "must be a 32-hex case id"));
  auto rec = read(op.state, "case/" + *id);
  if (!rec) return rec.status();
  if (!rec->has_value())
    return std::optional<TxOutcome>(fail(ledger::kCodeNotFound, "no case " + *id));
  c.id = *id;
  c.rec = std::move(**rec);
  auto matter =
      read(op.state, "matter/" + c.matter_id() + "/v/" + std::to_string(int_of(c.rec, "version")));
  if (!matter) return matter.status();
  if (!matter->has_value())
    return Status::error("state.corrupt_value", "approval case " + *id + " names no matter");
  c.matter = std::move(**matter);
  return check_scope(op, c.matter_id());
}

Result<std::optional<TxOutcome>> require_role(const Op& op, std::string_view role) {
  auto has = has_role(op.state, op.actor(), role);
  if (!has) return has.status();
  if (!*has)
    return std::optional<TxOutcome>(
        fail(ledger::kCodeForbidden, "this needs the role " + std::string(role)));
  return std::optional<TxOutcome>();
}

std::optional<TxOutcome> require_applicant(const Op& op, const Case& c) {
  if (op.actor() != c.applicant())
    return fail(ledger::kCodeForbidden, "only the applicant may do this");
  return std::nullopt;
}

std::optional<TxOutcome> require_status(const Case& c,
                                        std::initializer_list<std::string_view> statuses) {
  const std::string status = c.status();
  if (std::find(statuses.begin(), statuses.end(), status) != statuses.end()) return std::nullopt;
  std::string allowed;
  for (auto s : statuses) allowed += (allowed.empty() ? "" : " or ") + std::string(s);
  return fail(ledger::kCodeConflict, "the case is " + status + "; this needs " + allowed);
}

Result<std::optional<TxOutcome>> require_department(
    const Op& op, const Case& c, std::initializer_list<std::string_view> statuses) {
  if (op.actor() != c.department())
    return std::optional<TxOutcome>(
        fail(ledger::kCodeForbidden, "only the case's current department may do this"));
  auto role = require_role(op, kDepartmentRole);
  if (!role || role->has_value()) return role;
  return require_status(c, statuses);
}

const rapidjson::Value* find_entry(const rapidjson::Value& matter, std::string_view list,
                                   std::string_view id) {
  auto it = matter.FindMember(rapidjson::StringRef(list.data(), list.size()));
  if (it == matter.MemberEnd() || !it->value.IsArray()) return nullptr;
  for (const auto& e : it->value.GetArray())
    if (e.IsObject() && str_of(e, "id") == id) return &e;
  return nullptr;
}

bool holds(const rapidjson::Value& obj, std::string_view list, std::string_view value) {
  auto it = obj.FindMember(rapidjson::StringRef(list.data(), list.size()));
  if (it == obj.MemberEnd() || !it->value.IsArray()) return false;
  for (const auto& e : it->value.GetArray())
    if (e.IsString() && std::string_view(e.GetString(), e.GetStringLength()) == value) return true;
  return false;
}

std::string waiting_key(std::string_view department, std::string_view case_id) {
  return "by_department/" + std::string(department) + "/" + std::string(case_id);
}
std::string open_key(std::string_view matter, std::string_view case_id) {
  return "open/" + std::string(matter) + "/" + std::string(case_id);
}

Status start_clock(ledger::AppState& w, Case& c, int64_t now, int64_t left_ms) {
  auto& a = c.rec.GetAllocator();
  const int64_t due = now + std::max<int64_t>(0, left_ms);
  set(c.rec, "status", str("in_review", a), a);
  set(c.rec, "clock_since", num(now), a);
  set(c.rec, "due", num(due), a);
  if (!bool_of(c.rec, "overdue"))
    IMI_RETURN_IF_ERROR(w.schedule(c.key(), static_cast<uint64_t>(due)));
  return util::write_ref(w, kApprovalApp, waiting_key(c.department(), c.id), c.id);
}

Status stop_clock(ledger::AppState& w, Case& c, int64_t now) {
  if (c.rec.HasMember("clock_since")) {
    set(c.rec, "clock_used_ms",
        num(int_of(c.rec, "clock_used_ms") + now - int_of(c.rec, "clock_since")),
        c.rec.GetAllocator());
    c.rec.RemoveMember("clock_since");
  }
  c.rec.RemoveMember("due");
  IMI_RETURN_IF_ERROR(w.cancel(c.key()));
  return util::erase(w, kApprovalApp, waiting_key(c.department(), c.id));
}

int64_t time_left(const Case& c) {
  return int_of(c.matter, "time_limit_ms") - int_of(c.rec, "clock_used_ms");
}

Status cancel_questions(ledger::AppState& w, const Case& c) {
  auto it = c.matter.FindMember("questions");
  if (it == c.matter.MemberEnd() || !it->value.IsArray()) return Status::ok();
  for (const auto& q : it->value.GetArray())
    IMI_RETURN_IF_ERROR(w.cancel("q/" + c.id + "/" + str_of(q, "id")));
  return Status::ok();
}

Status save(ledger::AppState& w, const Case& c) { return write(w, c.key(), c.rec); }

rapidjson::Document case_event(std::string_view case_id) { return util::event_of("case", case_id); }

namespace {

using ParamField = util::ParamField<ApprovalParams>;
constexpr ParamField kParamFields[] = {
    {"departments_max", &ApprovalParams::departments_max},
    {"materials_max", &ApprovalParams::materials_max},
    {"name_bytes_max", &ApprovalParams::name_bytes_max},
    {"questions_max", &ApprovalParams::questions_max},
    {"reasons_max", &ApprovalParams::reasons_max},
    {"sealed_bytes_max", &ApprovalParams::sealed_bytes_max},
    {"stats_days_max", &ApprovalParams::stats_days_max},
    {"text_bytes_max", &ApprovalParams::text_bytes_max},
    {"time_limit_ms_max", &ApprovalParams::time_limit_ms_max},
};

Status params_from_json(const rapidjson::Value& obj, ApprovalParams& p) {
  return util::params_from_json<ApprovalParams>(kApprovalApp, std::span(kParamFields), obj, p);
}

Result<TxOutcome> run(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                      const ledger::StateReader& state, ledger::AppState* w) {
  auto params = util::load_params<ApprovalParams>(state, kApprovalApp, &params_from_json);
  if (!params) return params.status();
  Op op{tx, ctx, state, w, *params};
  if (!tx.args().IsObject()) return bad("args", "must be an object");
  const std::string& name = tx.op();
  if (name == "define_matter") return op_define_matter(op);
  if (name == "open_case") return op_open_case(op);
  if (name == "accept_case") return op_accept_case(op);
  if (name == "add_material") return op_add_material(op);
  if (name == "verify_material") return op_verify_material(op);
  if (name == "ask") return op_ask(op);
  if (name == "record_answer") return op_record_answer(op);
  if (name == "consent_reuse") return op_consent_reuse(op);
  if (name == "reuse_answer") return op_reuse_answer(op);
  if (name == "return_case") return op_return_case(op);
  if (name == "approve" || name == "reject") return op_decide(op);
  if (name == "issue_certificate") return op_issue_certificate(op);
  if (name == "rate") return op_rate(op);
  if (name == "withdraw") return op_withdraw(op);
  return fail(ledger::kCodeUnknownOp, "approval has no op " + name);
}

std::string to_case(const ledger::IndexEntry& e) { return "case/" + util::last_segment(e); }

// The current version's key of each matter head "matter/<id>" in the page:
// version records "matter/<id>/v/<v>" are skipped.
Result<ledger::QueryPage> matters_query(std::string_view cursor, size_t limit,
                                        const ledger::IndexReader& index) {
  constexpr std::string_view kPrefix = "matter/";
  if (!cursor.empty() && !cursor.starts_with(kPrefix))
    return Status::error("query.bad_param",
                         "cursor is not from this query; start again without one");
  ledger::QueryPage page;
  std::string after(cursor);
  const size_t batch = std::max<size_t>(limit, 16);
  while (page.keys.size() < limit) {
    auto entries = index.scan(kApprovalApp, kPrefix, after, batch);
    if (!entries) return entries.status();
    for (const auto& e : *entries) {
      after = e.key;
      if (e.key.find('/', kPrefix.size()) != std::string::npos) continue;
      auto head = ledger::parse_strict(e.value);
      if (!head) return Status::error("state.corrupt_value", "approval " + e.key);
      page.keys.push_back(e.key + "/v/" + std::to_string(int_of(*head, "version")));
      if (page.keys.size() == limit) {
        page.next = e.key;
        break;
      }
    }
    if (entries->size() < batch) break;
  }
  return page;
}

}  // namespace
}  // namespace approval_detail

using namespace approval_detail;

Status ApprovalApp::init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const {
  return util::init_params<ApprovalParams>(genesis, state, kApprovalApp, std::span(kParamFields),
                                           &params_from_json);
}

Result<TxOutcome> ApprovalApp::check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                     const ledger::StateReader& state) const {
  return run(tx, ctx, state, nullptr);
}

Result<TxOutcome> ApprovalApp::apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                     ledger::AppState& state) const {
  return run(tx, ctx, state, &state);
}

Result<TxOutcome> ApprovalApp::on_deadline(std::string_view key, const ledger::BlockContext& ctx,
                                           ledger::AppState& state) const {
  if (key.starts_with("case/")) return case_deadline(key.substr(5), ctx, state);
  if (key.starts_with("q/")) {
    std::string_view rest = key.substr(2);
    size_t slash = rest.find('/');
    if (slash != std::string_view::npos)
      return question_deadline(rest.substr(0, slash), rest.substr(slash + 1), state);
  }
  return fail(ledger::kCodeNotFound, "approval has no deadline " + std::string(key));
}

Result<ledger::QueryPage> ApprovalApp::query(std::string_view name,
                                             const ledger::QueryParams& params,
                                             std::string_view cursor, size_t limit,
                                             const ledger::IndexReader& index) const {
  if (name == "matters") return matters_query(cursor, limit, index);
  if (name == "cases" || name == "waiting") {
    const bool cases = name == "cases";
    auto did = util::query_param(params, cases ? "applicant" : "department", &util::is_valid_did,
                                 "a did:imi");
    if (!did) return did.status();
    return ledger::scan_query(index, kApprovalApp,
                              (cases ? "by_applicant/" : "by_department/") + *did + "/", cursor,
                              limit, &to_case);
  }
  if (name == "open") {
    auto matter = util::query_param(params, "matter", &is_valid_ident, "a matter id");
    if (!matter) return matter.status();
    return ledger::scan_query(index, kApprovalApp, "open/" + *matter + "/", cursor, limit,
                              &to_case);
  }
  if (name == "stats") return stats_query(params, cursor, limit, index);
  return Status::error("query.unknown", "approval has no query " + std::string(name) +
                                            " (queries: matters, cases, waiting, open, stats)");
}

}  // namespace imi::apps
