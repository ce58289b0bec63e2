// The one-door approval service (DESIGN "Applications": approval; issue 18):
// a matter catalogue, cases accepted at any window ("trust first, approve
// later"), materials as anchored document hashes or sealed credential
// presentations (never paper, never claims on chain), yes/no questions to the
// authority that holds the data (answered through the `answers` app), routing
// through departments in order, decisions, statutory time limits as
// deadlines, certificates (an SD-JWT VC held by the applicant; only its hash
// and status-list entry on chain), ratings and statistics.
//
// The applicant appears only under a pseudonymous DID (one per department
// if the resident wishes); personal details travel off chain. Every op an
// applicant sends accepts delegation (ledger/delegation.h); a grant's
// "matters" list, when present, must name the case's matter.
//
// Roles (governance): catalogue (defines matters), window (clerks), department
// (routes and decides; also the answers app's department role), and the
// answering roles of the answers app (authority, registrar, ...).
//
// Ids: matter ids, material ids, reason codes, statutes and labels are 1..64
// of [A-Za-z0-9._-]; question ids are 1..31 of them (no ':', and at most 31
// bytes, so "<case>:<question>" is an answers-app case id of at most 64);
// a case is named by the first 32 hex of the id of the transaction that
// opened it. Times are block times (ms); a day is floor(time / 86400000)
// (UTC).
//
// Parameters (genesis "apps":{"approval":{...}}, any subset; state "params"):
//   name_bytes_max 200, text_bytes_max 500, departments_max 8,
//   materials_max 32, questions_max 16, reasons_max 32,
//   sealed_bytes_max 16384, time_limit_ms_max 31622400000 (366 days),
//   stats_days_max 366
// each a positive integer (approval.bad_params at genesis otherwise, naming
// the member). A transaction going beyond one of them gets
// kApprovalCodeLimit (the message names the field); a malformed value, 3.
//
// Ops (args; who; effect):
//   define_matter {"matter":id,"name":text,"kind":"service"|"approval",
//       "departments":[did,...],"materials":[M,...],"questions":[Q,...],
//       "reasons":[code,...],"time_limit_ms":n,"supervisor":did,
//       "statutes"?:[id,...]}                                 catalogue role
//     M = {"id","kind":"document"|"credential","doc_type"?:label,
//          "credential_type"?:label,"claims"?:[label],"predicates"?:[label]}
//       (document needs doc_type and has no credential members; credential
//       needs credential_type; claims, predicates and statutes hold at most
//       kApprovalLabelsMax distinct labels)
//     Q = {"id","text":text,"authority":did,"within_ms":n,"valid_for_ms":n}
//     departments: 1..departments_max distinct DIDs, each holding the
//     department role (4 naming it otherwise); every question's authority
//     holds an answering role of the answers app (4 otherwise); ids distinct
//     within their list; within_ms 1..time_limit_ms_max; valid_for_ms
//     positive. Defining an existing matter publishes version v+1; cases
//     keep the version they opened under.
//   open_case {"matter":id,"applicant":did,"window"?:id}       window role
//       -> status "accepted" at once (accepted_at = opened_at = block time)
//   open_case {"matter":id}                                   the applicant
//       (or a delegate; applicant = tx.actor()) -> status "submitted"
//     Either way department = departments[0]; "open_case" with "applicant"
//     is the window form.
//   accept_case {"case":id,"window"?:id}                      window role; submitted
//       -> "accepted" (time to acceptance = accepted_at - opened_at)
//     On acceptance the statutory clock starts: deadline "case/<id>" at
//     accepted_at + time_limit_ms; department = departments[0];
//     status "in_review".
//   add_material {"case":id,"material":id,"hash"?:hex64,"sealed"?:b64url,
//       "commitment"?:hex64}                                  the applicant
//     a document material needs hash (anchored in the anchor app: 5 if not);
//     a credential material needs sealed (to the current department's key)
//     and commitment = SHA-256(JCS({"presentation":string,"salt":hex64})).
//     Replaces an earlier submission of that material (its verification too).
//     Allowed while the case is submitted, in_review or returned (6 once
//     decided or withdrawn); the material must be one of the matter
//     version's (5). When the case is "returned" and every missing material
//     is now given, the clock resumes: status "in_review", deadline at now +
//     time left (a case already overdue stays overdue and is not scheduled
//     again).
//   verify_material {"case":id,"material":id,"ok":bool}       current department
//     its client opened and checked the material against the chain (issuer
//     key, status list, anchor); ok false is recorded too. The material must
//     have been given (5).
//   The current department's ops verify_material, ask, record_answer,
//   reuse_answer run while the case is in_review or returned (6 otherwise);
//   the actor must be the case's department and hold the department role (4).
//   ask {"case":id,"question":id}                             current department
//     the question (from the case's matter version) goes to its authority:
//     record "question/<case>/<q>" with deadline "q/<case>/<q>" at now +
//     within_ms; event question_asked {case,question,authority,department,due}.
//     A question asked and pending, or answered, cannot be asked again (6);
//     an overdue one can.
//     The authority answers with the answers app using case id
//     "<case>:<question>" and this department.
//   record_answer {"case":id,"question":id,"commitment":hex64} current department
//     the answers app holds answer "<case>:<question>"/<commitment> by the
//     question's authority to this department (5 otherwise; 5 too for a
//     question never asked, 6 for one answered): question "answered"
//     (cancels its deadline), valid until now + valid_for_ms.
//   consent_reuse {"case":id,"question":id,"from_case":id}     the applicant
//     the applicant consents that the answer recorded in from_case (same
//     applicant, same matter question id and authority) is reused here.
//     from_case missing, or without that question by that authority: 5;
//     another applicant's case: 4; this case decided or withdrawn: 6.
//   reuse_answer {"case":id,"question":id,"from_case":id}      current department
//     needs that consent (kApprovalCodeNoConsent) and a still-valid answer
//     in from_case (kApprovalCodeAnswerExpired; 5 if from_case never got
//     one; 6 if this question is already answered): question "answered"
//     ("reused_from": from_case), with from_case's commitment and
//     valid_until; cancels this question's deadline if it was asked.
//   return_case {"case":id,"missing":[material id,...]}       current department
//     -> "returned": the clock pauses (time used so far kept), the deadline
//     is cancelled; event case_returned {case,missing}. missing: 1..
//     materials_max distinct material ids of the matter version (5 for one
//     it does not name).
//   approve {"case":id}                                       current department; in_review
//     every material of the matter version given and verified ok and every
//     question of it answered, recorded or reused (the yes or no is the
//     department's to read; kApprovalCodeIncomplete otherwise): the next
//     department (event case_routed), or after the last one the decision
//     "approved" (status "decided").
//   reject {"case":id,"reason":code}                          current department; in_review
//     reason from the matter's reasons (3 otherwise) -> decision "rejected".
//   A decision stops the clock, cancels the case's deadlines and leaves the
//   waiting and open indexes.
//   issue_certificate {"case":id,"hash":hex64,"status_list":uri,"index":n}
//       the deciding department; an approved case of kind "approval"
//     records the certificate's hash (SHA-256 of the SD-JWT VC text issued
//     to the applicant's DID) and its status-list entry (status_list:
//     printable ASCII without spaces, at most text_bytes_max bytes; index
//     0..2^53-1). Once (6).
//   rate {"case":id,"score":1..5}                            the applicant; decided; once
//   withdraw {"case":id}                                      the applicant; not decided
//     -> status "withdrawn" (stops the clock, cancels the deadlines).
//
// Delegation: a transaction with on_behalf_of acting on a matter (any op
// naming a case or a matter) needs a grant whose matters cover it
// (kApprovalCodeNotInScope); the executor has already refused one without a
// grant or out of the grant's scope (4).
// Statuses: submitted, in_review, returned, decided, withdrawn ("accepted"
// only passes: acceptance moves a case to in_review in the same op).
//
// Deadlines: "case/<id>" at the statutory limit: a case not decided becomes
// overdue ("overdue": true, status unchanged) and escalates to the matter's
// supervisor: event case_overdue {case,matter,supervisor,department,due}.
// "q/<case>/<q>": an unanswered question escalates: event question_overdue
// {case,question,authority,department}. A deadline whose case or question
// moved on meanwhile fires with code 0 and no event.
//
// Events (each {"type",...}; strict JSON, integers only; DIDs are public
// actors' or the applicant's pseudonymous one, never personal data):
//   matter_defined {matter,version}, case_opened {case,matter,status},
//   case_accepted {case,department,due}, material_added {case,material},
//   material_verified {case,material,ok}, question_asked, answer_recorded
//   {case,question}, reuse_consented {case,question,from_case},
//   answer_reused {case,question,from_case}, case_returned,
//   case_resumed {case,due}, case_routed {case,department},
//   case_decided {case,decision,reason?}, certificate_issued {case,hash},
//   case_rated {case,score}, case_withdrawn {case}, case_overdue,
//   question_overdue.
//
// State (namespace "approval"; indexed):
//   "params"
//   "matter/<id>" {"id","version"}; "matter/<id>/v/<v>" {the definition,"version","by","height"}
//   "case/<id>" {"id","matter","version","applicant","opened_by","sender"?,
//      ("sender": the DID that signed, when a delegate did)
//      "window"?,"status","opened_at","accepted_at"?,"department_index",
//      "department","clock_used_ms","clock_since"?,"due"?,"overdue",
//      "missing"?:[...],"decision"?,"reason"?,"decided_at"?,"decided_by"?,
//      "certificate"?:{"hash","status_list","index"},"rating"?,"withdrawn_at"?}
//   "material/<case>/<material>" {"hash"?|"commitment","sealed"?,"added_at","sender"?,
//      "verified"?:{"by","ok","at"}}
//   "question/<case>/<q>" {"authority","department","asked_at","due",
//      "status":"asked"|"answered"|"overdue","commitment"?,"answered_at"?,
//      "valid_until"?,"reused_from"?}
//   "reuse_consent/<case>/<q>" {"from_case","at"}
//   secondary keys, each {"id"}: "by_applicant/<did>/<case>",
//      "by_department/<did>/<case>" (cases in_review at that department),
//      "open/<matter>/<case>" (cases neither decided nor withdrawn)
//   "stats/<matter>/<day>" and "stats_dept/<matter>/<department>/<day>":
//      {"opened","accepted","decided","approved","rejected","overdue",
//       "accept_ms_sum","decide_ms_sum","accept_hist":[...],"decide_hist":[...],
//       "ratings","rating_sum","satisfied"}   (by the day of each event;
//      satisfied = ratings of 4 or 5; histograms count durations in the
//      buckets of kApprovalHistogramBoundsMs, the last one open-ended, so 17
//      counts; a duration equal to a bound falls in that bound's bucket).
//      <day> is written in 9 decimal digits with leading zeros so keys sort
//      by day. accept_ms = accepted_at - opened_at; decide_ms = decided_at -
//      accepted_at (calendar time, pauses included). The department of a
//      counter is the case's department when the event happens (opened,
//      accepted: departments[0]; decided, rated: the deciding one; overdue:
//      the current one).
//
// Queries (GET /v1/apps/approval/<query>): matters (all matters: the key of
//   each one's current version "matter/<id>/v/<v>"), cases
//   ?applicant=did, waiting ?department=did, open ?matter=id, stats
//   ?matter=id&department=did?&from=day&to=day: the counter records of those
//   days as items, and a summary {"opened","accepted","decided","approved",
//   "rejected","overdue","accept_ms":{"median","p90"},"decide_ms":{"median",
//   "p90"},"rating_mean_milli","satisfied_permille"} (median and p90 are the
//   upper bounds of the histogram buckets they fall in: the first bucket
//   where the running count reaches ceil(n/2), ceil(9n/10); null with no
//   durations or in the open-ended bucket; the rating figures are rounded
//   down and null without ratings; integers only). from <= to, at most
//   stats_days_max days; the summary covers the whole range on every page.
//   Case queries return "case/<id>" keys in id order; query.bad_param for a
//   missing or malformed parameter.
//
// Codes: 2, 3 (the message names the field), 4 wrong actor or role, 5 no
// such matter/case/material/question/answer, 6 wrong state, and:
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kApprovalApp = "approval";
constexpr std::string_view kCatalogueRole = "catalogue";
constexpr std::string_view kWindowRole = "window";
constexpr std::string_view kDepartmentRole = "department";

constexpr int64_t kApprovalCodeIncomplete = 100;     // materials unverified or questions open
constexpr int64_t kApprovalCodeNoConsent = 101;      // reuse without the applicant's consent
constexpr int64_t kApprovalCodeAnswerExpired = 102;  // the answer to reuse is no longer valid
constexpr int64_t kApprovalCodeAlreadyRated = 103;
constexpr int64_t kApprovalCodeNotInScope = 104;  // a delegation whose matters exclude this one
constexpr int64_t kApprovalCodeLimit = 105;       // a genesis limit is exceeded

// Labels a material's claims / predicates and a matter's statutes list at most.
constexpr size_t kApprovalLabelsMax = 32;
// Bytes of a question id (so "<case>:<question>" fits an answers-app case id).
constexpr size_t kApprovalQuestionIdBytesMax = 31;

// Upper bounds (ms) of the duration histogram buckets; a last bucket holds
// everything longer.
constexpr std::array<uint64_t, 16> kApprovalHistogramBoundsMs = {
    60000,    300000,    600000,    1800000,   3600000,    7200000,    14400000,   28800000,
    86400000, 172800000, 432000000, 864000000, 1728000000, 2592000000, 5184000000, 7776000000};

struct ApprovalParams {
  uint64_t name_bytes_max = 200;
  uint64_t text_bytes_max = 500;
  uint64_t departments_max = 8;
  uint64_t materials_max = 32;
  uint64_t questions_max = 16;
  uint64_t reasons_max = 32;
  uint64_t sealed_bytes_max = 16384;
  uint64_t time_limit_ms_max = 31622400000ull;
  uint64_t stats_days_max = 366;
};

class ApprovalApp : public ledger::App {
 public:
  std::string_view name() const override { return kApprovalApp; }
  Status init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const override;
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
  Result<ledger::TxOutcome> on_deadline(std::string_view key, const ledger::BlockContext& ctx,
                                        ledger::AppState& state) const override;
  bool accepts_delegation() const override { return true; }
  bool indexed() const override { return true; }
  Result<ledger::QueryPage> query(std::string_view name, const ledger::QueryParams& params,
                                  std::string_view cursor, size_t limit,
                                  const ledger::IndexReader& index) const override;
  std::vector<std::string> query_names() const override {
    return {"matters", "cases", "waiting", "open", "stats"};
  }
};

}  // namespace imi::apps
