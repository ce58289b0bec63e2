// The community sharing app (DESIGN "Applications": share): residents lend
// or give items and offer skills to neighbours, and call for urgent help
// from trained neighbours nearby. Everything on chain is public text the
// resident wrote for a listing, coarse places (a neighbourhood committee and
// a grid cell, never a home's coordinates), statuses, times, ratings, and
// for requirements a sealed box plus a salted commitment: no claim value,
// name, phone or ID number is ever in a block.
//
// Every op accepts delegation (ledger/delegation.h): a delegate acts for
// tx.actor(), and the record names the actor.
//
// Places. committee: 1..64 of [A-Za-z0-9._:-]. cell: "r<row>c<col>", row and
// col decimal 0..9999 without leading zeros (the district's grid); the
// neighbours of a cell are the up to 8 cells around it.
// Ids: a listing, loan or urgent request is named by the first 32 hex of the
// id of the transaction that created it.
//
// Parameters (genesis "apps":{"share":{...}}, any subset; state "params"):
//   title_bytes_max 120, description_bytes_max 1000, availability_bytes_max 200,
//   open_listings_per_did_max 20, responders_per_cell_max 200,
//   urgent_per_did_per_hour_max 3, urgent_expiry_ms_min 60000,
//   urgent_expiry_ms_max 1800000, loan_duration_ms_max 7776000000 (90 days),
//   sealed_bytes_max 8192
// each a positive integer (share.bad_params at genesis otherwise).
//
// Ops (args; who; what):
//   list {"kind":"lend"|"give"|"skill","category":name,"title":text,
//         "description"?:text,"committee":id,"cell":cell,"availability"?:text,
//         "requires"?:[endorsement type,...]}            anyone
//     requires: distinct of kShareEndorsementTypes. New listing, status
//     "open". Limit open_listings_per_did_max (code 100).
//   unlist {"listing":id}                                the owner; no loan of it
//     requested/accepted/handed over -> status "closed"
//   request {"listing":id,"until"?:ms,"sealed"?:b64url,"commitment"?:hex64}
//     anyone but the owner (105). until (the due date) required for "lend",
//     after now and at most loan_duration_ms_max ahead; absent for give/skill.
//     A listing with requires needs sealed (the SD-JWT presentation sealed to
//     the owner's current key, at most sealed_bytes_max bytes decoded) and
//     commitment = SHA-256(JCS({"presentation":string,"salt":hex64})), else 3.
//     New loan, status "requested".
//   accept {"loan":id,"requirements_checked"?:true}      the owner; requested
//     a listing with requires needs requirements_checked true (104): the
//     lender's client opened and verified the presentation against the chain.
//     -> "accepted"
//   decline {"loan":id}                                   the owner; requested -> "declined"
//   cancel {"loan":id}                                    either side; requested/accepted -> "cancelled"
//   handover {"loan":id}                                  either side; accepted
//     records that side's confirmation; when both confirmed: lend ->
//     "handed_over" and a deadline at until (loan overdue); give/skill ->
//     "completed".
//   return {"loan":id}                                    the owner; handed_over or overdue
//     -> "returned" (cancels the deadline); on_time = time <= until.
//   rate {"loan":id,"score":1..5}                         either side, once (103);
//     returned or completed. Adds to the other side's reputation.
//   certify {"did":did,"skill":name,"expires":ms}         a skill_issuer (role)
//     the resident holds a current credential for the skill (first_aid, aed,
//     ...) from that issuer. Replaces an earlier one.
//   uncertify {"did":did,"skill":name}                    the issuer that certified
//   register_responder {"skill":name,"cell":cell}        a certified resident (101)
//     limit responders_per_cell_max per (skill, cell) (100).
//   unregister_responder {"skill":name,"cell":cell}      the responder
//   urgent {"skill":name,"cell":cell,"committee":id,"expires_in_ms":n}  anyone
//     n within urgent_expiry_ms_min..max; limit urgent_per_did_per_hour_max
//     (100). Status "open"; a deadline at created + n (escalation).
//   respond {"urgent":id}                                 a responder registered
//     for the skill in the cell or a neighbour, still certified (101); open
//     and not expired (102); the first wins, later ones get 6. -> "accepted",
//     cancels the escalation deadline.
//   arrived {"urgent":id}                                 requester or responder; accepted -> "arrived"
//   close_urgent {"urgent":id}                            the requester; open/accepted -> "closed"
//
// Deadlines: "loan/<id>" fires at until: a loan still handed_over becomes
// "overdue" (event loan_overdue). "urgent/<id>" fires at expiry: a request
// still open becomes "escalated" (event urgent_escalated, which the dispatch
// app turns into an incident).
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
//      "committee","cell","availability"?,"requires":[...],"status","created","height"}
//   "loan/<id>" {"id","listing","kind","lender","borrower","status","created",
//      "until"?,"commitment"?,"sealed"?,"requirements_checked",
//      "handover_lender","handover_borrower","handed_over_at"?,"returned_at"?,
//      "on_time"?,"rated_by_lender","rated_by_borrower","sender"}
//      ("sender": the DID that signed, when a delegate did)
//   "reputation/<did>" {"loans_completed","on_time_returns","late_returns",
//      "ratings_count","ratings_sum"}   mean rating = ratings_sum/ratings_count
//   "skill/<did>/<skill>" {"issuer","expires","certified_at"}
//   "responder/<skill>/<cell>/<did>" {"did","skill","cell","since"}
//   "urgent/<id>" {"id","requester","skill","cell","committee","created",
//      "expires","status","responder"?,"accepted_at"?,"arrived_at"?,"arrived_by"?}
//   secondary keys for queries: "open/<cell>/<id>", "owned/<did>/<id>",
//   "loans/<did>/<id>", "urgent_open/<cell>/<id>", "count/<did>" (open listings,
//   recent urgent times), "cell_count/<skill>/<cell>"
//
// Queries (GET /v1/apps/share/<query>): listings ?cell= (open listings in a
// cell), owned ?did= (a resident's listings), loans ?did= (as lender or
// borrower), urgent ?cell= (open urgent requests), responders ?skill=&cell=.
//
// Codes: 2 unknown op, 3 bad args (the message names the field), 4 wrong
// actor, 5 no such listing/loan/request, 6 wrong state, and the app's own:
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

constexpr int64_t kShareCodeLimit = 100;           // a genesis limit is reached
constexpr int64_t kShareCodeNotCertified = 101;    // no current certification for the skill
constexpr int64_t kShareCodeExpired = 102;         // the urgent request has expired
constexpr int64_t kShareCodeAlreadyRated = 103;    // this side rated this loan already
constexpr int64_t kShareCodeUnchecked = 104;       // accept without requirements_checked
constexpr int64_t kShareCodeOwnListing = 105;      // requesting one's own listing

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
