// The approval app's catalogue (apps/approval.h): define_matter, which
// publishes a new version of a matter's definition.
#include <set>

#include "apps/answers.h"
#include "apps/approval_internal.h"
#include "apps/governance.h"

namespace imi::apps::approval_detail {
namespace {

using Check = std::optional<TxOutcome>;

// Whether `did` holds any of the answers app's answering roles.
Result<bool> can_answer(const ledger::StateReader& state, std::string_view did) {
  for (auto role : kAnswerRoles) {
    auto has = has_role(state, did, role);
    if (!has) return has.status();
    if (*has) return true;
  }
  return false;
}

// An array member `field` (required unless `optional`) of at most `max`
// entries (`limit_code` beyond), into `out`.
Check array_arg(const rapidjson::Value& obj, const std::string& field, std::string_view member,
                size_t max, int64_t limit_code, bool optional, const rapidjson::Value*& out) {
  out = nullptr;
  if (!ledger::has_field(obj, member)) return optional ? Check() : bad(field, "missing");
  auto arr = ledger::get_array(obj, member);
  if (!arr) return bad(field, "must be an array");
  if ((*arr)->Size() > max) {
    if (limit_code == kApprovalCodeLimit) return over_limit(field, max);
    return bad(field, "at most " + std::to_string(max) + " entries");
  }
  out = *arr;
  return Check();
}

// A list of distinct strings each accepted by `valid`.
Check string_list(const rapidjson::Value& obj, const std::string& field, std::string_view member,
                  size_t max, int64_t limit_code, bool optional, bool (*valid)(std::string_view)) {
  const rapidjson::Value* arr = nullptr;
  if (auto f = array_arg(obj, field, member, max, limit_code, optional, arr)) return f;
  if (!arr) return Check();
  std::set<std::string_view> seen;
  for (const auto& v : arr->GetArray()) {
    if (!v.IsString() || !valid({v.GetString(), v.GetStringLength()}))
      return bad(field, "entries are malformed");
    if (!seen.insert({v.GetString(), v.GetStringLength()}).second)
      return bad(field, std::string(v.GetString()) + " named twice");
  }
  return Check();
}

Check check_material(const rapidjson::Value& m, const std::string& field) {
  if (auto f =
          expect_args(m, {"id", "kind"}, {"doc_type", "credential_type", "claims", "predicates"}))
    return bad(field, f->message);
  if (!util::string_arg(m, "id", &is_valid_ident)) return bad(field + ".id", "malformed");
  const std::string kind = str_of(m, "kind");
  if (kind == "document") {
    if (!util::string_arg(m, "doc_type", &is_valid_ident))
      return bad(field + ".doc_type", "a document needs a doc_type label");
    for (std::string_view other : {"credential_type", "claims", "predicates"})
      if (ledger::has_field(m, other))
        return bad(field + "." + std::string(other), "only for a credential");
    return Check();
  }
  if (kind != "credential") return bad(field + ".kind", "must be document or credential");
  if (!util::string_arg(m, "credential_type", &is_valid_ident))
    return bad(field + ".credential_type", "a credential needs a credential_type label");
  if (ledger::has_field(m, "doc_type")) return bad(field + ".doc_type", "only for a document");
  for (std::string_view list : {"claims", "predicates"})
    if (auto f = string_list(m, field + "." + std::string(list), list, kApprovalLabelsMax,
                             ledger::kCodeBadArgs, true, &is_valid_ident))
      return f;
  return Check();
}

Result<Check> check_question(const Op& op, const rapidjson::Value& q, const std::string& field) {
  if (auto f = expect_args(q, {"id", "text", "authority", "within_ms", "valid_for_ms"}))
    return Check(bad(field, f->message));
  if (!util::string_arg(q, "id", &is_valid_question_id))
    return Check(bad(field + ".id", "must be 1..31 of [A-Za-z0-9._-]"));
  std::string text;
  if (auto f = util::text_arg(q, "text", op.params.text_bytes_max, true, text, kApprovalCodeLimit))
    return Check(fail(f->code, field + "." + f->message));
  auto authority = util::string_arg(q, "authority", &util::is_valid_did);
  if (!authority) return Check(bad(field + ".authority", "must be a did:imi"));
  auto within = ledger::get_int(q, "within_ms");
  if (!within || *within <= 0) return Check(bad(field + ".within_ms", "must be positive"));
  if (static_cast<uint64_t>(*within) > op.params.time_limit_ms_max)
    return Check(over_limit(field + ".within_ms", op.params.time_limit_ms_max));
  auto valid_for = ledger::get_int(q, "valid_for_ms");
  if (!valid_for || *valid_for <= 0 || static_cast<uint64_t>(*valid_for) > ledger::kDeadlineTimeMax)
    return Check(bad(field + ".valid_for_ms", "must be positive"));
  auto answers = can_answer(op.state, *authority);
  if (!answers) return answers.status();
  if (!*answers)
    return Check(fail(ledger::kCodeForbidden,
                      field + ".authority: " + *authority + " holds no answering role"));
  return Check();
}

// Checks the entries of list `member` with `each`, and that their ids are distinct.
template <class F>
Result<Check> check_entries(const rapidjson::Value& arr, std::string_view member, F each) {
  std::set<std::string> ids;
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    const std::string field = std::string(member) + "[" + std::to_string(i) + "]";
    if (!arr[i].IsObject()) return Check(bad(field, "must be an object"));
    auto f = each(arr[i], field);
    if (!f) return f.status();
    if (f->has_value()) return f;
    if (!ids.insert(str_of(arr[i], "id")).second)
      return Check(bad(field + ".id", str_of(arr[i], "id") + " named twice"));
  }
  return Check();
}

}  // namespace

Result<TxOutcome> op_define_matter(Op& op) {
  const auto& args = op.args();
  const auto& p = op.params;
  if (auto f = expect_args(args,
                           {"matter", "name", "kind", "departments", "materials", "questions",
                            "reasons", "time_limit_ms", "supervisor"},
                           {"statutes"}))
    return *f;
  auto matter = util::string_arg(args, "matter", &is_valid_ident);
  if (!matter) return bad("matter", "must be 1..64 of [A-Za-z0-9._-]");
  std::string name;
  if (auto f = util::text_arg(args, "name", p.name_bytes_max, true, name, kApprovalCodeLimit))
    return *f;
  const std::string kind = str_of(args, "kind");
  if (kind != "service" && kind != "approval") return bad("kind", "must be service or approval");
  if (auto f = string_list(args, "departments", "departments", p.departments_max,
                           kApprovalCodeLimit, false, &util::is_valid_did))
    return *f;
  if (args["departments"].Empty()) return bad("departments", "at least one department");
  const rapidjson::Value* materials = nullptr;
  if (auto f = array_arg(args, "materials", "materials", p.materials_max, kApprovalCodeLimit, false,
                         materials))
    return *f;
  IMI_RETURN_IF_REFUSED(check_entries(*materials, "materials",
                                      [](const rapidjson::Value& m, const std::string& field) {
                                        return Result<Check>(check_material(m, field));
                                      }));
  const rapidjson::Value* questions = nullptr;
  if (auto f = array_arg(args, "questions", "questions", p.questions_max, kApprovalCodeLimit, false,
                         questions))
    return *f;
  if (auto f = string_list(args, "reasons", "reasons", p.reasons_max, kApprovalCodeLimit, false,
                           &is_valid_ident))
    return *f;
  auto limit = ledger::get_int(args, "time_limit_ms");
  if (!limit || *limit <= 0) return bad("time_limit_ms", "must be positive");
  if (static_cast<uint64_t>(*limit) > p.time_limit_ms_max)
    return over_limit("time_limit_ms", p.time_limit_ms_max);
  if (!util::string_arg(args, "supervisor", &util::is_valid_did))
    return bad("supervisor", "must be a did:imi");
  if (auto f = string_list(args, "statutes", "statutes", kApprovalLabelsMax, ledger::kCodeBadArgs,
                           true, &is_valid_ident))
    return *f;
  IMI_RETURN_IF_REFUSED(check_entries(*questions, "questions",
                                      [&](const rapidjson::Value& q, const std::string& field) {
                                        return check_question(op, q, field);
                                      }));
  IMI_RETURN_IF_REFUSED(require_role(op, kCatalogueRole));
  for (const auto& d : args["departments"].GetArray()) {
    auto has = has_role(op.state, {d.GetString(), d.GetStringLength()}, kDepartmentRole);
    if (!has) return has.status();
    if (!*has)
      return fail(ledger::kCodeForbidden,
                  "departments: " + std::string(d.GetString()) + " lacks the department role");
  }
  auto head = read(op.state, "matter/" + *matter);
  if (!head) return head.status();
  const int64_t version = head->has_value() ? int_of(**head, "version") + 1 : 1;
  if (!op.w) return TxOutcome::success();

  rapidjson::Document def(rapidjson::kObjectType);
  auto& a = def.GetAllocator();
  def.CopyFrom(args, a);
  def.AddMember("by", str(op.actor(), a), a);
  def.AddMember("height", num(static_cast<int64_t>(op.ctx.height)), a);
  def.AddMember("version", num(version), a);
  IMI_RETURN_IF_ERROR(write(*op.w, "matter/" + *matter + "/v/" + std::to_string(version), def));
  rapidjson::Document h(rapidjson::kObjectType);
  h.AddMember("id", str(*matter, h.GetAllocator()), h.GetAllocator());
  h.AddMember("version", num(version), h.GetAllocator());
  IMI_RETURN_IF_ERROR(write(*op.w, "matter/" + *matter, h));
  auto ev = util::event_of("matter", *matter);
  ev.AddMember("version", num(version), ev.GetAllocator());
  emit(*op.w, ev, "matter_defined");
  return TxOutcome::success();
}

}  // namespace imi::apps::approval_detail
