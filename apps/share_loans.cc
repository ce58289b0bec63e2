// The share app's listings and loans (apps/share.h): list, unlist, request,
// accept, decline, cancel, handover, return, rate, and the loan deadline.
#include <algorithm>
#include <vector>

#include "apps/share_internal.h"
#include "identity/base64url.h"
#include "identity/sealed.h"

namespace imi::apps::share_detail {
namespace {

constexpr std::string_view kKinds[] = {"lend", "give", "skill"};

bool is_kind(std::string_view s) {
  return std::find(std::begin(kKinds), std::end(kKinds), s) != std::end(kKinds);
}
bool is_endorsement_type(std::string_view s) {
  return std::find(std::begin(kShareEndorsementTypes), std::end(kShareEndorsementTypes), s) !=
         std::end(kShareEndorsementTypes);
}

using util::text_arg;

std::vector<std::string> requires_of(const rapidjson::Value& listing) {
  std::vector<std::string> out;
  auto it = listing.FindMember("requires");
  if (it == listing.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray())
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  return out;
}

// Closes an open listing: status "closed", out of its cell's open index and
// the owner's open count.
Status close_listing(ledger::AppState& w, rapidjson::Document& listing) {
  const std::string id = str_of(listing, "id");
  set(listing, "status", str("closed", listing.GetAllocator()), listing.GetAllocator());
  IMI_RETURN_IF_ERROR(write(w, "listing/" + id, listing));
  IMI_RETURN_IF_ERROR(erase(w, "open/" + str_of(listing, "cell") + "/" + id));
  return add_open_listings(w, str_of(listing, "owner"), -1);
}

// One loan fewer in progress on the listing; `clear_on_loan` when the item
// it lent is back (or never left).
Status loan_ended(ledger::AppState& w, rapidjson::Document& listing, bool clear_on_loan) {
  auto& a = listing.GetAllocator();
  set(listing, "active_loans", num(std::max<int64_t>(0, int_of(listing, "active_loans") - 1)), a);
  if (clear_on_loan) listing.RemoveMember("on_loan");
  return write(w, "listing/" + str_of(listing, "id"), listing);
}

rapidjson::Document loan_event(std::string_view id) { return util::event_of("loan", id); }

}  // namespace

Result<TxOutcome> op_list(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"kind", "category", "title", "committee", "cell"},
                           {"description", "availability", "requires"}))
    return *f;
  auto kind = string_arg(args, "kind", &is_kind);
  if (!kind) return bad("kind", "must be lend, give or skill");
  auto category = string_arg(args, "category", &is_valid_label);
  if (!category) return bad("category", "must be a name [a-z][a-z0-9_]{0,31}");
  std::string title, description, availability;
  if (auto f = text_arg(args, "title", op.params.title_bytes_max, true, title)) return *f;
  if (auto f = text_arg(args, "description", op.params.description_bytes_max, false, description))
    return *f;
  if (auto f =
          text_arg(args, "availability", op.params.availability_bytes_max, false, availability))
    return *f;
  auto committee = string_arg(args, "committee", &is_valid_committee);
  if (!committee) return bad("committee", "must be 1..64 of [A-Za-z0-9._:-]");
  auto cell = string_arg(args, "cell", &is_valid_cell);
  if (!cell) return bad("cell", "must be r<row>c<col>");
  std::vector<std::string> required;
  if (ledger::has_field(args, "requires")) {
    auto arr = ledger::get_array(args, "requires");
    if (!arr) return bad("requires", "must be an array");
    for (const auto& v : (*arr)->GetArray()) {
      if (!v.IsString() || !is_endorsement_type({v.GetString(), v.GetStringLength()}))
        return bad("requires",
                   "entries must be party_member, stable_employment or "
                   "no_criminal_record");
      std::string t(v.GetString(), v.GetStringLength());
      if (std::find(required.begin(), required.end(), t) != required.end())
        return bad("requires", t + " named twice");
      required.push_back(std::move(t));
    }
    std::sort(required.begin(), required.end());
  }
  auto count = read_count(op.state, op.actor());
  if (!count) return count.status();
  if (static_cast<uint64_t>(int_of(*count, "open_listings")) >= op.params.open_listings_per_did_max)
    return TxOutcome::fail(kShareCodeLimit,
                           "at most " + std::to_string(op.params.open_listings_per_did_max) +
                               " open listings per resident");
  if (!op.w) return TxOutcome::success();

  const std::string id = op.new_id();
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("active_loans", 0, a);
  if (!availability.empty()) rec.AddMember("availability", str(availability, a), a);
  rec.AddMember("category", str(*category, a), a);
  rec.AddMember("cell", str(*cell, a), a);
  rec.AddMember("committee", str(*committee, a), a);
  rec.AddMember("created", num(op.now()), a);
  if (!description.empty()) rec.AddMember("description", str(description, a), a);
  rec.AddMember("height", num(static_cast<int64_t>(op.ctx.height)), a);
  rec.AddMember("id", str(id, a), a);
  rec.AddMember("kind", str(*kind, a), a);
  rec.AddMember("owner", str(op.actor(), a), a);
  rapidjson::Value req(rapidjson::kArrayType);
  for (const auto& t : required) req.PushBack(str(t, a), a);
  rec.AddMember("requires", req, a);
  if (!op.tx.on_behalf_of().empty()) rec.AddMember("sender", str(op.tx.from(), a), a);
  rec.AddMember("status", "open", a);
  rec.AddMember("title", str(title, a), a);
  IMI_RETURN_IF_ERROR(write(*op.w, "listing/" + id, rec));
  IMI_RETURN_IF_ERROR(write_ref(*op.w, "open/" + *cell + "/" + id, id));
  IMI_RETURN_IF_ERROR(write_ref(*op.w, "owned/" + op.actor() + "/" + id, id));
  IMI_RETURN_IF_ERROR(add_open_listings(*op.w, op.actor(), 1));

  rapidjson::Document ev(rapidjson::kObjectType);
  auto& ea = ev.GetAllocator();
  ev.AddMember("category", str(*category, ea), ea);
  ev.AddMember("cell", str(*cell, ea), ea);
  ev.AddMember("committee", str(*committee, ea), ea);
  ev.AddMember("kind", str(*kind, ea), ea);
  ev.AddMember("listing", str(id, ea), ea);
  emit(*op.w, ev, "listed");
  return TxOutcome::success();
}

Result<TxOutcome> op_unlist(Op& op) {
  if (auto f = expect_args(op.args(), {"listing"})) return *f;
  auto id = id_arg(op.args(), "listing");
  if (!id) return bad("listing", "must be a 32-hex id");
  auto listing = read(op.state, "listing/" + *id);
  if (!listing) return listing.status();
  if (!listing->has_value()) return TxOutcome::fail(ledger::kCodeNotFound, "no listing " + *id);
  auto& l = **listing;
  if (str_of(l, "owner") != op.actor())
    return TxOutcome::fail(ledger::kCodeForbidden, "only the owner unlists");
  if (str_of(l, "status") != "open")
    return TxOutcome::fail(ledger::kCodeConflict, "the listing is not open");
  if (int_of(l, "active_loans") > 0)
    return TxOutcome::fail(ledger::kCodeConflict, "the listing has loans in progress");
  if (!op.w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(close_listing(*op.w, l));
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("listing", str(*id, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "unlisted");
  return TxOutcome::success();
}

Result<TxOutcome> op_request(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"listing"}, {"until", "sealed", "commitment"})) return *f;
  auto id = id_arg(args, "listing");
  if (!id) return bad("listing", "must be a 32-hex id");
  auto listing = read(op.state, "listing/" + *id);
  if (!listing) return listing.status();
  if (!listing->has_value()) return TxOutcome::fail(ledger::kCodeNotFound, "no listing " + *id);
  auto& l = **listing;
  const std::string kind = str_of(l, "kind");
  std::optional<uint64_t> until;
  if (kind == "lend") {
    auto u = ledger::get_uint(args, "until");
    if (!u) return bad("until", "a lend request needs the due date in ms");
    if (*u <= op.ctx.time_ms || *u - op.ctx.time_ms > op.params.loan_duration_ms_max)
      return bad("until", "must be after now and at most " +
                              std::to_string(op.params.loan_duration_ms_max) + " ms ahead");
    until = *u;
  } else if (ledger::has_field(args, "until")) {
    return bad("until", "only a lend request has a due date");
  }
  const bool needs = !requires_of(l).empty();
  std::string sealed, commitment;
  if (needs) {
    auto s = ledger::get_string(args, "sealed");
    auto raw = s ? identity::base64url_decode(*s) : std::nullopt;
    if (!raw || raw->size() < identity::kSealedOverheadBytes ||
        raw->size() > op.params.sealed_bytes_max)
      return bad("sealed", "the listing has requirements: a base64url sealed box of at most " +
                               std::to_string(op.params.sealed_bytes_max) + " bytes is needed");
    auto c = ledger::get_hex32(args, "commitment");
    if (!c) return bad("commitment", "the listing has requirements: 64 lowercase hex needed");
    sealed = std::string(*s);
    commitment = to_hex(*c);
  } else if (ledger::has_field(args, "sealed") || ledger::has_field(args, "commitment")) {
    return bad(ledger::has_field(args, "sealed") ? "sealed" : "commitment",
               "the listing has no requirements");
  }
  if (str_of(l, "owner") == op.actor())
    return TxOutcome::fail(kShareCodeOwnListing, "one cannot request one's own listing");
  if (str_of(l, "status") != "open")
    return TxOutcome::fail(ledger::kCodeConflict, "the listing is not open");
  if (!op.w) return TxOutcome::success();

  const std::string loan = op.new_id();
  const std::string lender = str_of(l, "owner");
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("borrower", str(op.actor(), a), a);
  if (needs) rec.AddMember("commitment", str(commitment, a), a);
  rec.AddMember("created", num(op.now()), a);
  rec.AddMember("handover_borrower", false, a);
  rec.AddMember("handover_lender", false, a);
  rec.AddMember("id", str(loan, a), a);
  rec.AddMember("kind", str(kind, a), a);
  rec.AddMember("lender", str(lender, a), a);
  rec.AddMember("listing", str(*id, a), a);
  rec.AddMember("rated_by_borrower", false, a);
  rec.AddMember("rated_by_lender", false, a);
  rec.AddMember("requirements_checked", false, a);
  if (needs) rec.AddMember("sealed", str(sealed, a), a);
  if (!op.tx.on_behalf_of().empty()) rec.AddMember("sender", str(op.tx.from(), a), a);
  rec.AddMember("status", "requested", a);
  if (until) rec.AddMember("until", num(static_cast<int64_t>(*until)), a);
  IMI_RETURN_IF_ERROR(write(*op.w, "loan/" + loan, rec));
  IMI_RETURN_IF_ERROR(write_ref(*op.w, "loans/" + lender + "/" + loan, loan));
  IMI_RETURN_IF_ERROR(write_ref(*op.w, "loans/" + op.actor() + "/" + loan, loan));
  set(l, "active_loans", num(int_of(l, "active_loans") + 1), l.GetAllocator());
  IMI_RETURN_IF_ERROR(write(*op.w, "listing/" + *id, l));

  auto ev = loan_event(loan);
  ev.AddMember("listing", str(*id, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "requested");
  return TxOutcome::success();
}

Result<TxOutcome> op_loan_step(Op& op) {
  const std::string& name = op.tx.op();
  const auto& args = op.args();
  if (name == "accept") {
    if (auto f = expect_args(args, {"loan"}, {"requirements_checked"})) return *f;
  } else if (name == "rate") {
    if (auto f = expect_args(args, {"loan", "score"})) return *f;
  } else if (auto f = expect_args(args, {"loan"})) {
    return *f;
  }
  auto id = id_arg(args, "loan");
  if (!id) return bad("loan", "must be a 32-hex id");
  bool checked = false;
  if (ledger::has_field(args, "requirements_checked")) {
    auto c = ledger::get_bool(args, "requirements_checked");
    if (!c) return bad("requirements_checked", "must be true or false");
    checked = *c;
  }
  int64_t score = 0;
  if (name == "rate") {
    auto s = ledger::get_int(args, "score");
    if (!s || *s < 1 || *s > 5) return bad("score", "must be 1..5");
    score = *s;
  }
  auto loan_doc = read(op.state, "loan/" + *id);
  if (!loan_doc) return loan_doc.status();
  if (!loan_doc->has_value()) return TxOutcome::fail(ledger::kCodeNotFound, "no loan " + *id);
  auto& loan = **loan_doc;
  auto listing_doc = read(op.state, "listing/" + str_of(loan, "listing"));
  if (!listing_doc) return listing_doc.status();
  if (!listing_doc->has_value())
    return Status::error("state.corrupt_value", "share loan " + *id + " names no listing");
  auto& listing = **listing_doc;

  const std::string lender = str_of(loan, "lender"), borrower = str_of(loan, "borrower");
  const std::string status = str_of(loan, "status"), kind = str_of(loan, "kind");
  const bool is_lender = op.actor() == lender, is_borrower = op.actor() == borrower;
  const std::string_view side = is_lender ? "lender" : "borrower";
  auto forbidden = [](std::string_view who) {
    return TxOutcome::fail(ledger::kCodeForbidden, "only " + std::string(who) + " may do this");
  };
  auto wrong_state = [&](std::string_view allowed) {
    return TxOutcome::fail(ledger::kCodeConflict,
                           "the loan is " + status + "; this needs " + std::string(allowed));
  };

  if (name == "accept" || name == "decline" || name == "return") {
    if (!is_lender) return forbidden("the owner");
  } else if (!is_lender && !is_borrower) {
    return forbidden("the lender or the borrower");
  }
  if (name == "accept") {
    if (status != "requested") return wrong_state("requested");
    if (str_of(listing, "status") != "open")
      return TxOutcome::fail(ledger::kCodeConflict, "the listing is closed");
    if (kind == "lend" && listing.HasMember("on_loan"))
      return TxOutcome::fail(ledger::kCodeConflict, "the item is already lent");
    if (!requires_of(listing).empty() && !checked)
      return TxOutcome::fail(kShareCodeUnchecked,
                             "the listing has requirements: accept with requirements_checked "
                             "after verifying the presentation");
  } else if (name == "decline") {
    if (status != "requested") return wrong_state("requested");
  } else if (name == "cancel") {
    if (status != "requested" && status != "accepted") return wrong_state("requested or accepted");
  } else if (name == "handover") {
    if (status != "accepted") return wrong_state("accepted");
    if (bool_of(loan, "handover_" + std::string(side)))
      return TxOutcome::fail(ledger::kCodeConflict,
                             "the " + std::string(side) + " confirmed the handover already");
  } else if (name == "return") {
    if (status != "handed_over" && status != "overdue")
      return wrong_state("handed_over or overdue");
  } else {  // rate
    if (status != "returned" && status != "completed") return wrong_state("returned or completed");
    if (bool_of(loan, "rated_by_" + std::string(side)))
      return TxOutcome::fail(kShareCodeAlreadyRated,
                             "the " + std::string(side) + " rated this loan already");
  }
  if (!op.w) return TxOutcome::success();

  ledger::AppState& w = *op.w;
  auto& a = loan.GetAllocator();
  const std::string loan_key = "loan/" + *id;
  auto set_status = [&](std::string_view s) { set(loan, "status", str(s, a), a); };
  if (name == "accept") {
    set_status("accepted");
    set(loan, "requirements_checked", rapidjson::Value(checked), a);
    set(loan, "accepted_at", num(op.now()), a);
    if (kind == "lend") {
      set(listing, "on_loan", str(*id, listing.GetAllocator()), listing.GetAllocator());
      IMI_RETURN_IF_ERROR(write(w, "listing/" + str_of(listing, "id"), listing));
    }
    IMI_RETURN_IF_ERROR(write(w, loan_key, loan));
    auto ev = loan_event(*id);
    emit(w, ev, "accepted");
  } else if (name == "decline" || name == "cancel") {
    const bool was_accepted = status == "accepted";
    set_status(name == "decline" ? "declined" : "cancelled");
    if (name == "cancel") set(loan, "cancelled_by", str(op.actor(), a), a);
    IMI_RETURN_IF_ERROR(write(w, loan_key, loan));
    IMI_RETURN_IF_ERROR(loan_ended(w, listing, was_accepted && kind == "lend"));
    auto ev = loan_event(*id);
    emit(w, ev, name == "decline" ? "declined" : "cancelled");
  } else if (name == "handover") {
    set(loan, "handover_" + std::string(side), rapidjson::Value(true), a);
    auto ev = loan_event(*id);
    ev.AddMember("by", str(op.actor(), ev.GetAllocator()), ev.GetAllocator());
    emit(w, ev, "handover_confirmed");
    if (bool_of(loan, "handover_lender") && bool_of(loan, "handover_borrower")) {
      if (kind == "lend") {
        const int64_t until = int_of(loan, "until");
        set_status("handed_over");
        set(loan, "handed_over_at", num(op.now()), a);
        IMI_RETURN_IF_ERROR(w.schedule(loan_key, static_cast<uint64_t>(until)));
        auto done = loan_event(*id);
        done.AddMember("until", num(until), done.GetAllocator());
        emit(w, done, "handed_over");
      } else {
        set_status("completed");
        set(loan, "handed_over_at", num(op.now()), a);
        IMI_RETURN_IF_ERROR(loan_ended(w, listing, false));
        IMI_RETURN_IF_ERROR(add_reputation(w, borrower, {{"loans_completed", 1}}));
        auto done = loan_event(*id);
        emit(w, done, "completed");
        if (kind == "give" && str_of(listing, "status") == "open") {
          IMI_RETURN_IF_ERROR(close_listing(w, listing));
          rapidjson::Document gone(rapidjson::kObjectType);
          gone.AddMember("listing", str(str_of(listing, "id"), gone.GetAllocator()),
                         gone.GetAllocator());
          emit(w, gone, "unlisted");
        }
      }
    }
    IMI_RETURN_IF_ERROR(write(w, loan_key, loan));
  } else if (name == "return") {
    const bool on_time = op.now() <= int_of(loan, "until");
    set_status("returned");
    set(loan, "returned_at", num(op.now()), a);
    set(loan, "on_time", rapidjson::Value(on_time), a);
    IMI_RETURN_IF_ERROR(write(w, loan_key, loan));
    IMI_RETURN_IF_ERROR(w.cancel(loan_key));
    IMI_RETURN_IF_ERROR(loan_ended(w, listing, true));
    IMI_RETURN_IF_ERROR(add_reputation(
        w, borrower, {{"loans_completed", 1}, {on_time ? "on_time_returns" : "late_returns", 1}}));
    auto ev = loan_event(*id);
    ev.AddMember("on_time", on_time, ev.GetAllocator());
    emit(w, ev, "returned");
  } else {  // rate
    set(loan, "rated_by_" + std::string(side), rapidjson::Value(true), a);
    IMI_RETURN_IF_ERROR(write(w, loan_key, loan));
    IMI_RETURN_IF_ERROR(add_reputation(w, is_lender ? borrower : lender,
                                       {{"ratings_count", 1}, {"ratings_sum", score}}));
    auto ev = loan_event(*id);
    ev.AddMember("by", str(op.actor(), ev.GetAllocator()), ev.GetAllocator());
    ev.AddMember("score", num(score), ev.GetAllocator());
    emit(w, ev, "rated");
  }
  return TxOutcome::success();
}

Result<TxOutcome> loan_deadline(std::string_view id, const ledger::BlockContext&,
                                ledger::AppState& w) {
  const std::string key = "loan/" + std::string(id);
  auto doc = read(w, key);
  if (!doc) return doc.status();
  // A loan returned or gone since has nothing left to do.
  if (!doc->has_value() || str_of(**doc, "status") != "handed_over") return TxOutcome::success();
  auto& loan = **doc;
  set(loan, "status", str("overdue", loan.GetAllocator()), loan.GetAllocator());
  IMI_RETURN_IF_ERROR(write(w, key, loan));
  rapidjson::Document ev = loan_event(id);
  auto& ea = ev.GetAllocator();
  ev.AddMember("borrower", str(str_of(loan, "borrower"), ea), ea);
  ev.AddMember("listing", str(str_of(loan, "listing"), ea), ea);
  ev.AddMember("until", num(int_of(loan, "until")), ea);
  emit(w, ev, "loan_overdue");
  return TxOutcome::success();
}

}  // namespace imi::apps::share_detail
