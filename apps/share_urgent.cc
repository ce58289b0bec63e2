// The share app's skills and urgent help (apps/share.h): certify,
// uncertify, register_responder, unregister_responder, urgent, respond,
// arrived, close_urgent, and the escalation deadline.
#include <vector>

#include "apps/governance.h"
#include "apps/share_internal.h"

namespace imi::apps::share_detail {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

std::string skill_key(std::string_view did, std::string_view skill) {
  return "skill/" + std::string(did) + "/" + std::string(skill);
}
std::string responder_key(std::string_view skill, std::string_view cell, std::string_view did) {
  return "responder/" + std::string(skill) + "/" + std::string(cell) + "/" + std::string(did);
}
std::string cell_count_key(std::string_view skill, std::string_view cell) {
  return "cell_count/" + std::string(skill) + "/" + std::string(cell);
}

// Whether `did` holds a current certification for `skill` at `now`.
Result<bool> certified(const ledger::StateReader& state, std::string_view did,
                       std::string_view skill, int64_t now) {
  auto rec = read(state, skill_key(did, skill));
  if (!rec) return rec.status();
  return rec->has_value() && int_of(**rec, "expires") > now;
}

rapidjson::Document urgent_event(std::string_view id) { return util::event_of("urgent", id); }

}  // namespace

Result<TxOutcome> op_certify(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"did", "skill", "expires"})) return *f;
  auto did = string_arg(args, "did", &util::is_valid_did);
  if (!did) return bad("did", "must be a did:imi");
  auto skill = string_arg(args, "skill", &is_valid_label);
  if (!skill) return bad("skill", "must be a name [a-z][a-z0-9_]{0,31}");
  auto expires = ledger::get_uint(args, "expires");
  if (!expires || *expires <= op.ctx.time_ms) return bad("expires", "must be a time after now");
  auto issuer = has_role(op.state, op.actor(), kSkillIssuerRole);
  if (!issuer) return issuer.status();
  if (!*issuer)
    return TxOutcome::fail(ledger::kCodeForbidden,
                           "certifying needs the role " + std::string(kSkillIssuerRole));
  if (!op.w) return TxOutcome::success();
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("certified_at", num(op.now()), a);
  rec.AddMember("expires", num(static_cast<int64_t>(*expires)), a);
  rec.AddMember("issuer", str(op.actor(), a), a);
  IMI_RETURN_IF_ERROR(write(*op.w, skill_key(*did, *skill), rec));
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("did", str(*did, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("skill", str(*skill, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "certified");
  return TxOutcome::success();
}

Result<TxOutcome> op_uncertify(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"did", "skill"})) return *f;
  auto did = string_arg(args, "did", &util::is_valid_did);
  if (!did) return bad("did", "must be a did:imi");
  auto skill = string_arg(args, "skill", &is_valid_label);
  if (!skill) return bad("skill", "must be a name [a-z][a-z0-9_]{0,31}");
  auto rec = read(op.state, skill_key(*did, *skill));
  if (!rec) return rec.status();
  if (!rec->has_value())
    return TxOutcome::fail(ledger::kCodeNotFound, *did + " holds no certification for " + *skill);
  if (str_of(**rec, "issuer") != op.actor())
    return TxOutcome::fail(ledger::kCodeForbidden, "only the issuer that certified may uncertify");
  if (!op.w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(erase(*op.w, skill_key(*did, *skill)));
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("did", str(*did, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("skill", str(*skill, ev.GetAllocator()), ev.GetAllocator());
  emit(*op.w, ev, "uncertified");
  return TxOutcome::success();
}

Result<TxOutcome> op_responder(Op& op) {
  const bool reg = op.tx.op() == "register_responder";
  const auto& args = op.args();
  if (auto f = expect_args(args, {"skill", "cell"})) return *f;
  auto skill = string_arg(args, "skill", &is_valid_label);
  if (!skill) return bad("skill", "must be a name [a-z][a-z0-9_]{0,31}");
  auto cell = string_arg(args, "cell", &is_valid_cell);
  if (!cell) return bad("cell", "must be r<row>c<col>");
  const std::string key = responder_key(*skill, *cell, op.actor());
  auto existing = read(op.state, key);
  if (!existing) return existing.status();
  auto count_doc = read(op.state, cell_count_key(*skill, *cell));
  if (!count_doc) return count_doc.status();
  const int64_t count = count_doc->has_value() ? int_of(**count_doc, "count") : 0;
  if (reg) {
    auto ok = certified(op.state, op.actor(), *skill, op.now());
    if (!ok) return ok.status();
    if (!*ok)
      return TxOutcome::fail(kShareCodeNotCertified,
                             op.actor() + " holds no current certification for " + *skill);
    if (existing->has_value())
      return TxOutcome::fail(ledger::kCodeConflict, "already a responder there");
    if (static_cast<uint64_t>(count) >= op.params.responders_per_cell_max)
      return TxOutcome::fail(kShareCodeLimit,
                             "at most " + std::to_string(op.params.responders_per_cell_max) +
                                 " responders per skill and cell");
  } else if (!existing->has_value()) {
    return TxOutcome::fail(ledger::kCodeNotFound, "not a responder for " + *skill + " in " + *cell);
  }
  if (!op.w) return TxOutcome::success();
  rapidjson::Document cnt(rapidjson::kObjectType);
  cnt.AddMember("count", num(reg ? count + 1 : std::max<int64_t>(0, count - 1)),
                cnt.GetAllocator());
  IMI_RETURN_IF_ERROR(write(*op.w, cell_count_key(*skill, *cell), cnt));
  if (reg) {
    rapidjson::Document rec(rapidjson::kObjectType);
    auto& a = rec.GetAllocator();
    rec.AddMember("cell", str(*cell, a), a);
    rec.AddMember("did", str(op.actor(), a), a);
    if (!op.tx.on_behalf_of().empty()) rec.AddMember("sender", str(op.tx.from(), a), a);
    rec.AddMember("since", num(op.now()), a);
    rec.AddMember("skill", str(*skill, a), a);
    IMI_RETURN_IF_ERROR(write(*op.w, key, rec));
  } else {
    IMI_RETURN_IF_ERROR(erase(*op.w, key));
  }
  rapidjson::Document ev(rapidjson::kObjectType);
  auto& ea = ev.GetAllocator();
  ev.AddMember("cell", str(*cell, ea), ea);
  ev.AddMember("did", str(op.actor(), ea), ea);
  ev.AddMember("skill", str(*skill, ea), ea);
  emit(*op.w, ev, reg ? "responder_registered" : "responder_unregistered");
  return TxOutcome::success();
}

Result<TxOutcome> op_urgent(Op& op) {
  const auto& args = op.args();
  if (auto f = expect_args(args, {"skill", "cell", "committee", "expires_in_ms"})) return *f;
  auto skill = string_arg(args, "skill", &is_valid_label);
  if (!skill) return bad("skill", "must be a name [a-z][a-z0-9_]{0,31}");
  auto cell = string_arg(args, "cell", &is_valid_cell);
  if (!cell) return bad("cell", "must be r<row>c<col>");
  auto committee = string_arg(args, "committee", &is_valid_committee);
  if (!committee) return bad("committee", "must be 1..64 of [A-Za-z0-9._:-]");
  auto n = ledger::get_uint(args, "expires_in_ms");
  if (!n || *n < op.params.urgent_expiry_ms_min || *n > op.params.urgent_expiry_ms_max)
    return bad("expires_in_ms", "must be " + std::to_string(op.params.urgent_expiry_ms_min) + ".." +
                                    std::to_string(op.params.urgent_expiry_ms_max));
  auto count = read_count(op.state, op.actor());
  if (!count) return count.status();
  // Requests of the last hour (older ones are dropped when the list is written).
  std::vector<int64_t> recent;
  if (auto it = count->FindMember("urgent"); it != count->MemberEnd() && it->value.IsArray()) {
    for (const auto& t : it->value.GetArray())
      if (t.IsInt64() && t.GetInt64() > op.now() - kHourMs) recent.push_back(t.GetInt64());
  }
  if (recent.size() >= op.params.urgent_per_did_per_hour_max)
    return TxOutcome::fail(kShareCodeLimit,
                           "at most " + std::to_string(op.params.urgent_per_did_per_hour_max) +
                               " urgent requests per resident per hour");
  if (!op.w) return TxOutcome::success();

  const std::string id = op.new_id();
  const int64_t expires = op.now() + static_cast<int64_t>(*n);
  recent.push_back(op.now());
  rapidjson::Value times(rapidjson::kArrayType);
  for (int64_t t : recent) times.PushBack(num(t), count->GetAllocator());
  set(*count, "urgent", std::move(times), count->GetAllocator());
  IMI_RETURN_IF_ERROR(write(*op.w, "count/" + op.actor(), *count));

  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("cell", str(*cell, a), a);
  rec.AddMember("committee", str(*committee, a), a);
  rec.AddMember("created", num(op.now()), a);
  rec.AddMember("expires", num(expires), a);
  rec.AddMember("id", str(id, a), a);
  rec.AddMember("requester", str(op.actor(), a), a);
  if (!op.tx.on_behalf_of().empty()) rec.AddMember("sender", str(op.tx.from(), a), a);
  rec.AddMember("skill", str(*skill, a), a);
  rec.AddMember("status", "open", a);
  IMI_RETURN_IF_ERROR(write(*op.w, "urgent/" + id, rec));
  IMI_RETURN_IF_ERROR(write_ref(*op.w, "urgent_open/" + *cell + "/" + id, id));
  IMI_RETURN_IF_ERROR(op.w->schedule("urgent/" + id, static_cast<uint64_t>(expires)));

  auto ev = urgent_event(id);
  auto& ea = ev.GetAllocator();
  rapidjson::Value cells(rapidjson::kArrayType);
  for (const auto& c : cell_and_neighbours(*cell)) cells.PushBack(str(c, ea), ea);
  ev.AddMember("cell", str(*cell, ea), ea);
  ev.AddMember("cells", cells, ea);
  ev.AddMember("committee", str(*committee, ea), ea);
  ev.AddMember("expires", num(expires), ea);
  ev.AddMember("skill", str(*skill, ea), ea);
  emit(*op.w, ev, "urgent_help");
  return TxOutcome::success();
}

Result<TxOutcome> op_urgent_step(Op& op) {
  const std::string& name = op.tx.op();
  if (auto f = expect_args(op.args(), {"urgent"})) return *f;
  auto id = id_arg(op.args(), "urgent");
  if (!id) return bad("urgent", "must be a 32-hex id");
  const std::string key = "urgent/" + *id;
  auto doc = read(op.state, key);
  if (!doc) return doc.status();
  if (!doc->has_value()) return TxOutcome::fail(ledger::kCodeNotFound, "no urgent request " + *id);
  auto& u = **doc;
  const std::string status = str_of(u, "status"), skill = str_of(u, "skill");
  const std::string cell = str_of(u, "cell"), requester = str_of(u, "requester");
  const std::string responder = str_of(u, "responder");
  auto wrong_state = [&](std::string_view allowed) {
    return TxOutcome::fail(ledger::kCodeConflict,
                           "the request is " + status + "; this needs " + std::string(allowed));
  };

  if (name == "respond") {
    bool near = false;
    for (const auto& c : cell_and_neighbours(cell)) {
      auto r = read(op.state, responder_key(skill, c, op.actor()));
      if (!r) return r.status();
      if (r->has_value()) {
        near = true;
        break;
      }
    }
    auto ok = certified(op.state, op.actor(), skill, op.now());
    if (!ok) return ok.status();
    if (!near || !*ok)
      return TxOutcome::fail(
          kShareCodeNotCertified,
          "only a certified " + skill + " responder in or next to " + cell + " may respond");
    if (status == "escalated" || (status == "open" && op.now() >= int_of(u, "expires")))
      return TxOutcome::fail(kShareCodeExpired, "the request expired");
    if (status != "open") return wrong_state("open (another responder was first)");
  } else if (name == "arrived") {
    if (op.actor() != requester && op.actor() != responder)
      return TxOutcome::fail(ledger::kCodeForbidden, "only the requester or the responder");
    if (status != "accepted") return wrong_state("accepted");
  } else {  // close_urgent
    if (op.actor() != requester)
      return TxOutcome::fail(ledger::kCodeForbidden, "only the requester closes a request");
    if (status != "open" && status != "accepted") return wrong_state("open or accepted");
  }
  if (!op.w) return TxOutcome::success();

  ledger::AppState& w = *op.w;
  auto& a = u.GetAllocator();
  auto ev = urgent_event(*id);
  auto& ea = ev.GetAllocator();
  if (status == "open") {
    IMI_RETURN_IF_ERROR(erase(w, "urgent_open/" + cell + "/" + *id));
    IMI_RETURN_IF_ERROR(w.cancel(key));
  }
  if (name == "respond") {
    set(u, "status", str("accepted", a), a);
    set(u, "responder", str(op.actor(), a), a);
    set(u, "accepted_at", num(op.now()), a);
    ev.AddMember("cell", str(cell, ea), ea);
    ev.AddMember("responder", str(op.actor(), ea), ea);
    ev.AddMember("skill", str(skill, ea), ea);
    emit(w, ev, "urgent_accepted");
  } else if (name == "arrived") {
    set(u, "status", str("arrived", a), a);
    set(u, "arrived_at", num(op.now()), a);
    set(u, "arrived_by", str(op.actor(), a), a);
    ev.AddMember("by", str(op.actor(), ea), ea);
    emit(w, ev, "urgent_arrived");
  } else {
    set(u, "status", str("closed", a), a);
    set(u, "closed_at", num(op.now()), a);
    emit(w, ev, "urgent_closed");
  }
  IMI_RETURN_IF_ERROR(write(w, key, u));
  return TxOutcome::success();
}

Result<TxOutcome> urgent_deadline(std::string_view id, const ledger::BlockContext&,
                                  ledger::AppState& w) {
  const std::string key = "urgent/" + std::string(id);
  auto doc = read(w, key);
  if (!doc) return doc.status();
  // Answered or closed since: nothing to escalate.
  if (!doc->has_value() || str_of(**doc, "status") != "open") return TxOutcome::success();
  auto& u = **doc;
  set(u, "status", str("escalated", u.GetAllocator()), u.GetAllocator());
  IMI_RETURN_IF_ERROR(write(w, key, u));
  IMI_RETURN_IF_ERROR(erase(w, "urgent_open/" + str_of(u, "cell") + "/" + std::string(id)));
  auto ev = urgent_event(id);
  auto& ea = ev.GetAllocator();
  for (std::string_view f : {"cell", "committee", "requester", "skill"})
    ev.AddMember(str(f, ea), str(str_of(u, f), ea), ea);
  ev.AddMember("created", num(int_of(u, "created")), ea);
  ev.AddMember("expires", num(int_of(u, "expires")), ea);
  emit(w, ev, "urgent_escalated");
  return TxOutcome::success();
}

}  // namespace imi::apps::share_detail
