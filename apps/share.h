// The community sharing app (DESIGN "Applications": share): residents lend
// or give items and offer skills to neighbours, and call for urgent help
// from trained neighbours nearby. Everything on chain is public text the
// resident wrote for a listing, coarse places (a neighbourhood committee and
// a grid cell, never a home's coordinates), statuses, times, ratings, and
// for requirements a sealed box plus a salted commitment: no claim value,
// name, phone or ID number is ever in a block.
//
// Every op accepts delegation (ledger/delegation.h): a delegate acts for
// tx.actor(), and the record names the actor (owner, borrower, requester,
// did, "by" in events); a record a delegate created also keeps "sender".
//
// Places. committee: 1..64 of [A-Za-z0-9._:-]. cell: "r<row>c<col>", row and
// col decimal 0..9999 without leading zeros (the district's grid); the
// neighbours of a cell are the up to 8 cells around it.
// Ids: a listing, loan or urgent request is named by the first 32 hex of the
// id of the transaction that created it. Names (category, skill) follow the
// app/op name rule [a-z][a-z0-9_]{0,31}; title, description, availability
// are 1..their max bytes.
//
// Parameters (genesis "apps":{"share":{...}}, any subset; state "params"):
//   title_bytes_max 120, description_bytes_max 1000, availability_bytes_max 200,
//   open_listings_per_did_max 20, responders_per_cell_max 200,
//   urgent_per_did_per_hour_max 3, urgent_expiry_ms_min 60000,
//   urgent_expiry_ms_max 1800000, loan_duration_ms_max 7776000000 (90 days),
//   sealed_bytes_max 8192
// each a positive integer, and urgent_expiry_ms_min <= urgent_expiry_ms_max
// (share.bad_params at genesis otherwise, naming the member).
//
// Ops (args; who; what):
//   list {"kind":"lend"|"give"|"skill","category":name,"title":text,
//         "description"?:text,"committee":id,"cell":cell,"availability"?:text,
//         "requires"?:[endorsement type,...]}            anyone
//     requires: distinct of kShareEndorsementTypes. New listing, status
//     "open". Limit open_listings_per_did_max (code 100).
//   unlist {"listing":id}                                the owner; no loan of it
//     requested/accepted/handed over/overdue (6) -> status "closed"
//     A listing takes any number of requests; a "lend" listing has at most
//     one loan accepted or out at a time (accepting another is 6).
//   request {"listing":id,"until"?:ms,"sealed"?:b64url,"commitment"?:hex64}
//     anyone but the owner (105). until (the due date) required for "lend",
//     after now and at most loan_duration_ms_max ahead; absent for give/skill.
//     A listing with requires needs sealed (the SD-JWT presentation sealed to
//     the owner's current key, at most sealed_bytes_max bytes decoded) and
//     commitment = SHA-256(JCS({"presentation":string,"salt":hex64})), else 3.
//     sealed/commitment on a listing without requires, or until on
//     give/skill, are 3. The listing must be open (6). New loan, status
//     "requested".
//   accept {"loan":id,"requirements_checked"?:true}      the owner; requested
//     a listing with requires needs requirements_checked true (104): the
//     lender's client opened and verified the presentation against the chain.
//     The listing must be open and, for lend, not lent (6). -> "accepted"
//   decline {"loan":id}                                   the owner; requested -> "declined"
//   cancel {"loan":id}                                    either side; requested/accepted ->
//   "cancelled" handover {"loan":id}                                  either side; accepted
//     records that side's confirmation (twice is 6); when both confirmed:
//     lend -> "handed_over" and a deadline at until (loan overdue);
//     give/skill -> "completed", which counts loans_completed for the
//     receiver (the borrower); a completed "give" closes its listing (event
//     unlisted); a skill listing stays open.
//   return {"loan":id}                                    the owner; handed_over or overdue
//     -> "returned" (cancels the deadline); on_time = time <= until (a
//     return in the block at until is on time, though the deadline fired
//     first and made the loan "overdue"). The borrower's reputation gets
//     loans_completed +1 and on_time_returns or late_returns +1.
//   rate {"loan":id,"score":1..5}                         either side, once (103);
//     returned or completed (6). Adds to the other side's reputation
//     (ratings_count +1, ratings_sum +score).
//   certify {"did":did,"skill":name,"expires":ms (after now)}  a skill_issuer (role, 4)
//     the resident holds a current credential for the skill (first_aid, aed,
//     ...) from that issuer. Replaces an earlier one.
//   uncertify {"did":did,"skill":name}                    the issuer that certified (4; none: 5)
//     registrations stay, but respond checks the certification.
//   register_responder {"skill":name,"cell":cell}        a certified resident (101)
//     limit responders_per_cell_max per (skill, cell) (100); twice is 6.
//   unregister_responder {"skill":name,"cell":cell}      the responder (none: 5)
//   urgent {"skill":name,"cell":cell,"committee":id,"expires_in_ms":n}  anyone
//     n within urgent_expiry_ms_min..max; limit urgent_per_did_per_hour_max
//     (100; requests created in the last 3600000 ms count). Status "open";
//     a deadline at created + n (escalation).
//   respond {"urgent":id}                                 a responder registered
//     for the skill in the cell or a neighbour, still certified (101); open
//     and not expired (102: escalated, or open at or past expires); the first
//     wins, later ones get 6. -> "accepted", cancels the escalation deadline.
//   arrived {"urgent":id}                                 requester or responder; accepted ->
//   "arrived" close_urgent {"urgent":id}                            the requester; open/accepted ->
//   "closed"
//
// Deadlines: "loan/<id>" fires at until: a loan still handed_over becomes
// "overdue" (event loan_overdue). "urgent/<id>" fires at expiry: a request
// still open becomes "escalated" (event urgent_escalated, which the dispatch
// app turns into an incident). A deadline whose record moved on meanwhile
// fires with code 0 and no event.
//
// Events (each {"type":...} plus members; every event names the record id):
//   listed {listing,cell,committee,kind,category}, unlisted {listing},
//   requested {loan,listing}, accepted {loan}, declined {loan},
//   cancelled {loan}, handover_confirmed {loan,by}, handed_over {loan,until},
//   completed {loan}, returned {loan,on_time}, rated {loan,by,score},
//   loan_overdue {loan,listing,borrower,until}, certified {did,skill},
//   uncertified {did,skill}, responder_registered {did,skill,cell},
//   responder_unregistered {did,skill,cell},
//   urgent_help {urgent,skill,cell,cells:[cell and neighbours],committee,expires},
//   urgent_accepted {urgent,responder,cell,skill}, urgent_arrived {urgent,by},
//   urgent_closed {urgent},
//   urgent_escalated {urgent,skill,cell,committee,requester,created,expires}
//
// State (namespace "share"; indexed for queries):
//   "params" {...}
//   "listing/<id>" {"id","owner","kind","category","title","description"?,
//      "committee","cell","availability"?,"requires":[sorted],"status"
//      ("open"|"closed"),"created","height","active_loans" (loans requested,
//      accepted, handed over or overdue),"on_loan"? (lend: the loan accepted
//      or out),"sender"?}
//   "loan/<id>" {"id","listing","kind","lender","borrower","status","created",
//      "until"?,"commitment"?,"sealed"?,"requirements_checked",
//      "handover_lender","handover_borrower","handed_over_at"?,"returned_at"?,
//      "on_time"?,"rated_by_lender","rated_by_borrower","sender"?,
//      "accepted_at"?,"cancelled_by"?}
//      ("sender": the DID that signed, when a delegate did)
//   "reputation/<did>" {"loans_completed","on_time_returns","late_returns",
//      "ratings_count","ratings_sum"}   mean rating = ratings_sum/ratings_count
//   "skill/<did>/<skill>" {"issuer","expires","certified_at"}
//   "responder/<skill>/<cell>/<did>" {"did","skill","cell","since","sender"?}
//   "urgent/<id>" {"id","requester","skill","cell","committee","created",
//      "expires","status","responder"?,"accepted_at"?,"arrived_at"?,"arrived_by"?,
//      "closed_at"?,"sender"?}
//   secondary keys for queries, each {"id"}: "open/<cell>/<id>" (open
//   listings), "owned/<did>/<id>" (every listing of the owner, kept when
//   closed), "loans/<did>/<id>" (every loan, for lender and borrower),
//   "urgent_open/<cell>/<id>" (open requests only); counters
//   "count/<did>" {"open_listings","urgent":[creation times in the last hour]},
//   "cell_count/<skill>/<cell>" {"count"}
//
// Queries (GET /v1/apps/share/<query>): listings ?cell= (open listings in a
// cell), owned ?did= (a resident's listings), loans ?did= (as lender or
// borrower), urgent ?cell= (open urgent requests), responders ?skill=&cell=.
// Each returns record keys ("listing/<id>", "loan/<id>", "urgent/<id>",
// "responder/...") in id order; query.bad_param for a missing or malformed
// parameter.
//
// Codes: 2 unknown op, 3 bad args (the message names the field), 4 wrong
// actor, 5 no such listing/loan/request (or certification/registration), 6
// wrong state, and the app's own:
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kShareApp = "share";
constexpr std::string_view kSkillIssuerRole = "skill_issuer";
constexpr std::string_view kShareEndorsementTypes[] = {"party_member", "stable_employment",
                                                       "no_criminal_record"};

constexpr int64_t kShareCodeLimit = 100;         // a genesis limit is reached
constexpr int64_t kShareCodeNotCertified = 101;  // no current certification for the skill
constexpr int64_t kShareCodeExpired = 102;       // the urgent request has expired
constexpr int64_t kShareCodeAlreadyRated = 103;  // this side rated this loan already
constexpr int64_t kShareCodeUnchecked = 104;     // accept without requirements_checked
constexpr int64_t kShareCodeOwnListing = 105;    // requesting one's own listing

struct ShareParams {
  uint64_t title_bytes_max = 120;
  uint64_t description_bytes_max = 1000;
  uint64_t availability_bytes_max = 200;
  uint64_t open_listings_per_did_max = 20;
  uint64_t responders_per_cell_max = 200;
  uint64_t urgent_per_did_per_hour_max = 3;
  uint64_t urgent_expiry_ms_min = 60000;
  uint64_t urgent_expiry_ms_max = 1800000;
  uint64_t loan_duration_ms_max = 7776000000ull;
  uint64_t sealed_bytes_max = 8192;
};

// True for "r<row>c<col>" as above.
bool is_valid_cell(std::string_view cell);
// The cell and its up to 8 neighbours, sorted.
std::vector<std::string> cell_and_neighbours(std::string_view cell);

class ShareApp : public ledger::App {
 public:
  std::string_view name() const override { return kShareApp; }
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
    return {"listings", "owned", "loans", "urgent", "responders"};
  }
};

}  // namespace imi::apps
