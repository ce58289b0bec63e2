// Private to the approval app (apps/approval*.cc): the context every op runs
// in, the case loaded with its matter version, role and clock helpers, the
// statistics counters and the ops of each part. Not for other modules.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "apps/app_util.h"
#include "apps/approval.h"
#include "ledger/app.h"
#include "ledger/json.h"

namespace imi::apps::approval_detail {

using ledger::TxOutcome;
using util::Alloc;
using util::bad;
using util::bool_of;
using util::emit;
using util::expect_args;
using util::int_of;
using util::num;
using util::set;
using util::str;
using util::str_of;

using Op = util::Op<ApprovalParams>;
constexpr int64_t kDayMs = 86400000;

// Records of the approval namespace.
inline Result<std::optional<rapidjson::Document>> read(const ledger::StateReader& state,
                                                       std::string_view key) {
  return util::read(state, kApprovalApp, key);
}
inline Status write(ledger::AppState& w, std::string_view key, const rapidjson::Value& value) {
  return util::write(w, kApprovalApp, key, value);
}

// 1..64 of [A-Za-z0-9._-]: matter, material, reason, statute ids, labels.
bool is_valid_ident(std::string_view s);
// 1..31 of the same: question ids.
bool is_valid_question_id(std::string_view s);

TxOutcome fail(int64_t code, std::string message);
// kApprovalCodeLimit naming the field and the limit.
TxOutcome over_limit(std::string_view field, uint64_t max);

// A case with the matter version it opened under.
struct Case {
  std::string id;
  rapidjson::Document rec;     // "case/<id>"
  rapidjson::Document matter;  // "matter/<m>/v/<v>"
  std::string key() const { return "case/" + id; }
  std::string status() const { return str_of(rec, "status"); }
  std::string applicant() const { return str_of(rec, "applicant"); }
  std::string department() const { return str_of(rec, "department"); }
  std::string matter_id() const { return str_of(rec, "matter"); }
};

// The current definition of matter `id` (nullopt if none).
Result<std::optional<rapidjson::Document>> read_matter(const ledger::StateReader& state,
                                                       std::string_view id);
// Loads the case named by args member `field` into `c`: code 3 for a bad id,
// 5 for no such case, kApprovalCodeNotInScope for a delegate whose grant
// excludes its matter; nullopt when loaded.
Result<std::optional<TxOutcome>> load_case(const Op& op, std::string_view field, Case& c);
// kApprovalCodeNotInScope when `op` is delegated by a grant whose matters
// exclude `matter`.
Result<std::optional<TxOutcome>> check_scope(const Op& op, std::string_view matter);

// Code 4 unless the actor holds `role`.
Result<std::optional<TxOutcome>> require_role(const Op& op, std::string_view role);
// Code 4 unless the actor is the case's applicant.
std::optional<TxOutcome> require_applicant(const Op& op, const Case& c);
// Code 4 unless the actor is the case's current department and holds the
// department role; then code 6 unless the status is one of `statuses`.
Result<std::optional<TxOutcome>> require_department(
    const Op& op, const Case& c, std::initializer_list<std::string_view> statuses);
// Code 6 unless the case's status is one of `statuses`.
std::optional<TxOutcome> require_status(const Case& c,
                                        std::initializer_list<std::string_view> statuses);

// The entry of `list` (a member of the matter version: "materials",
// "questions") whose "id" is `id`, or null.
const rapidjson::Value* find_entry(const rapidjson::Value& matter, std::string_view list,
                                   std::string_view id);
// Whether the string array member `list` of `obj` holds `value`.
bool holds(const rapidjson::Value& obj, std::string_view list, std::string_view value);

// Index keys.
std::string waiting_key(std::string_view department, std::string_view case_id);
std::string open_key(std::string_view matter, std::string_view case_id);

// The statutory clock. start_clock: running from now with `left_ms` left
// (deadline "case/<id>" unless the case is already overdue), status
// "in_review", waiting at its department. stop_clock: the time since it
// started added to clock_used_ms, deadline cancelled, out of the waiting
// index.
Status start_clock(ledger::AppState& w, Case& c, int64_t now, int64_t left_ms);
Status stop_clock(ledger::AppState& w, Case& c, int64_t now);
// Time limit of the case's matter version minus the clock used.
int64_t time_left(const Case& c);
// Cancels the deadlines of every question of the case.
Status cancel_questions(ledger::AppState& w, const Case& c);
// Writes the case record.
Status save(ledger::AppState& w, const Case& c);
rapidjson::Document case_event(std::string_view case_id);

// Statistics counters (apps/approval_stats.cc): adds to "stats/<matter>/<day>"
// and "stats_dept/<matter>/<department>/<day>" for the day of `now`.
struct StatsDelta {
  int64_t opened = 0, accepted = 0, decided = 0, approved = 0, rejected = 0, overdue = 0;
  std::optional<int64_t> accept_ms, decide_ms;
  int64_t rating = 0;  // a score 1..5, 0 for none
};
Status add_stats(ledger::AppState& w, std::string_view matter, std::string_view department,
                 int64_t now, const StatsDelta& d);
// The index key of a day's counters: "stats/<matter>/<day>" or, with a
// department, "stats_dept/<matter>/<department>/<day>"; `day` in 9 digits.
std::string stats_key(std::string_view matter, std::string_view department, int64_t day);
Result<ledger::QueryPage> stats_query(const ledger::QueryParams& params, std::string_view cursor,
                                      size_t limit, const ledger::IndexReader& index);

// Ops (apps/approval_matters.cc).
Result<TxOutcome> op_define_matter(Op& op);
// Ops (apps/approval_cases.cc).
Result<TxOutcome> op_open_case(Op& op);
Result<TxOutcome> op_accept_case(Op& op);
Result<TxOutcome> op_add_material(Op& op);
Result<TxOutcome> op_verify_material(Op& op);
// Ops (apps/approval_questions.cc).
Result<TxOutcome> op_ask(Op& op);
Result<TxOutcome> op_record_answer(Op& op);
Result<TxOutcome> op_consent_reuse(Op& op);
Result<TxOutcome> op_reuse_answer(Op& op);
Result<TxOutcome> question_deadline(std::string_view case_id, std::string_view question,
                                    ledger::AppState& w);
// Ops (apps/approval_decisions.cc).
Result<TxOutcome> op_return_case(Op& op);
Result<TxOutcome> op_decide(Op& op);  // approve, reject
Result<TxOutcome> op_issue_certificate(Op& op);
Result<TxOutcome> op_rate(Op& op);
Result<TxOutcome> op_withdraw(Op& op);
Result<TxOutcome> case_deadline(std::string_view case_id, const ledger::BlockContext& ctx,
                                ledger::AppState& w);

}  // namespace imi::apps::approval_detail
