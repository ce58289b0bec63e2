#include "apps/governance.h"

#include <algorithm>
#include <variant>

#include "apps/governance_state.h"
#include "identity/keys.h"
#include "ledger/json.h"
#include "ledger/transaction.h"

namespace imi::apps {
namespace {

using gov::str;
using ledger::TxOutcome;

struct Action {
  std::string type;
  std::string role, did;      // grant_role, revoke_role; did is also the validator id
  identity::PublicKey key{};  // add_validator, rekey_validator
  std::string name;           // set_limit
  int64_t value = 0;
  uint64_t at = 0;
};

TxOutcome bad_args(std::string why) {
  return TxOutcome::fail(ledger::kCodeBadArgs, std::move(why));
}
TxOutcome not_applicable(std::string why) {
  return TxOutcome::fail(kGovCodeNotApplicable, std::move(why));
}

std::variant<Action, TxOutcome> parse_action(const rapidjson::Value& a) {
  auto type = ledger::get_string(a, "type");
  if (!type) return bad_args("action must be an object with a \"type\"");
  Action out;
  out.type = std::string(*type);
  auto did_member = [&](std::string_view field) -> bool {
    auto d = ledger::get_string(a, field);
    if (!d || !identity::is_valid_did(*d)) return false;
    out.did = std::string(*d);
    return true;
  };
  auto key_member = [&]() -> bool {
    auto k = ledger::get_hex32(a, "key");
    if (!k || !identity::is_valid_public_key(*k)) return false;
    out.key = *k;
    return true;
  };
  if (out.type == "grant_role" || out.type == "revoke_role") {
    if (!ledger::expect_members(a, {"type", "role", "did"}).is_ok()) {
      return bad_args(out.type + " needs exactly type, role, did");
    }
    auto role = ledger::get_string(a, "role");
    if (!role || !ledger::is_valid_name(*role))
      return bad_args("role must be a name [a-z][a-z0-9_]*");
    out.role = std::string(*role);
    if (!did_member("did")) return bad_args("did must be a did:imi");
  } else if (out.type == "add_validator" || out.type == "rekey_validator") {
    if (!ledger::expect_members(a, {"type", "id", "key"}).is_ok()) {
      return bad_args(out.type + " needs exactly type, id, key");
    }
    if (!did_member("id")) return bad_args("id must be a did:imi");
    if (!key_member()) return bad_args("key must be a valid Ed25519 public key in hex");
  } else if (out.type == "remove_validator") {
    if (!ledger::expect_members(a, {"type", "id"}).is_ok()) {
      return bad_args("remove_validator needs exactly type, id");
    }
    if (!did_member("id")) return bad_args("id must be a did:imi");
  } else if (out.type == "set_limit") {
    if (!ledger::expect_members(a, {"type", "name", "value", "at"}).is_ok()) {
      return bad_args("set_limit needs exactly type, name, value, at");
    }
    auto name = ledger::get_string(a, "name");
    auto value = ledger::get_int(a, "value");
    auto at = ledger::get_uint(a, "at");
    if (!name || !value || !at)
      return bad_args("set_limit needs a name, an integer value and a height");
    ledger::ValidityLimits probe;
    if (Status s = ledger::set_limit(probe, *name, *value); !s.is_ok())
      return bad_args(s.message());
    out.name = std::string(*name);
    out.value = *value;
    out.at = *at;
  } else {
    return bad_args("unknown action type " + out.type);
  }
  return out;
}

// The validator set after `action`, applied to the last scheduled set.
Result<std::variant<ledger::ValidatorSet, TxOutcome>> changed_set(
    const Action& action, const ledger::StateReader& state) {
  using Out = std::variant<ledger::ValidatorSet, TxOutcome>;
  auto schedule = gov::read_schedule(state);
  if (!schedule) return schedule.status();
  if (schedule->empty()) return gov::corrupt("validators");
  std::vector<ledger::Validator> vals = schedule->back().set.validators();
  auto it =
      std::find_if(vals.begin(), vals.end(), [&](const auto& v) { return v.id == action.did; });
  if (action.type == "add_validator") {
    if (it != vals.end()) return Out(not_applicable(action.did + " is already a validator"));
    vals.push_back({action.did, action.key});
  } else if (it == vals.end()) {
    return Out(not_applicable(action.did + " is not a validator"));
  } else if (action.type == "remove_validator") {
    if (vals.size() == 1) return Out(not_applicable("cannot remove the last validator"));
    vals.erase(it);
  } else {
    if (it->key == action.key) return Out(not_applicable("the validator already has that key"));
    it->key = action.key;
  }
  auto set = ledger::ValidatorSet::make(std::move(vals));
  if (!set) return Out(not_applicable(set.status().message()));
  return Out(std::move(set).value());
}

// Whether `action` can apply to `state` now; its outcome if not.
Result<TxOutcome> applicable(const Action& action, const ledger::BlockContext& ctx,
                             const ledger::StateReader& state, bool proposing) {
  if (action.type == "grant_role" || action.type == "revoke_role") {
    auto held = has_role(state, action.did, action.role);
    if (!held) return held.status();
    if (action.type == "grant_role" && *held)
      return not_applicable(action.did + " already holds " + action.role);
    if (action.type == "revoke_role" && !*held)
      return not_applicable(action.did + " does not hold " + action.role);
    return TxOutcome::success();
  }
  if (action.type == "set_limit") {
    if (proposing && action.at <= ctx.height) {
      return not_applicable("a limit change must name a height above " +
                            std::to_string(ctx.height));
    }
    return TxOutcome::success();
  }
  auto set = changed_set(action, state);
  if (!set) return set.status();
  if (auto* fail = std::get_if<TxOutcome>(&*set)) return *fail;
  return TxOutcome::success();
}

// Runs an approved action at height ctx.height; returns the height it takes
// effect from.
Result<uint64_t> enact(const Action& action, const ledger::BlockContext& ctx,
                       ledger::AppState& state) {
  const uint64_t h = ctx.height;
  if (action.type == "grant_role") {
    rapidjson::Document d(rapidjson::kObjectType);
    d.AddMember("since", rapidjson::Value(static_cast<int64_t>(h)), d.GetAllocator());
    IMI_RETURN_IF_ERROR(state.put(kGovernanceApp, gov::role_key(action.role, action.did), d));
    return h;
  }
  if (action.type == "revoke_role") {
    IMI_RETURN_IF_ERROR(state.erase(kGovernanceApp, gov::role_key(action.role, action.did)));
    return h;
  }
  if (action.type == "set_limit") {
    auto r = gov::read_limits(state);
    if (!r) return r.status();
    uint64_t from = std::max(action.at, h + 1);
    // Changes already in force fold into the base; the rest stay sorted by height.
    auto in_force = gov::fold_limits(*r, h);
    if (!in_force) return in_force.status();
    r->base = *in_force;
    std::erase_if(r->changes, [&](const auto& c) { return c.at <= h; });
    auto pos = std::upper_bound(r->changes.begin(), r->changes.end(), from,
                                [](uint64_t at, const auto& c) { return at < c.at; });
    r->changes.insert(pos, {from, action.name, action.value});
    IMI_RETURN_IF_ERROR(gov::write_limits(state, *r));
    return from;
  }
  auto set = changed_set(action, state);
  if (!set) return set.status();
  uint64_t from = h + kValidatorChangeDelay;
  IMI_RETURN_IF_ERROR(
      gov::schedule_set(state, std::get<ledger::ValidatorSet>(std::move(*set)), from, h));
  return from;
}

}  // namespace

Status GovernanceApp::init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const {
  rapidjson::Document g(rapidjson::kObjectType);
  auto& a = g.GetAllocator();
  g.AddMember("delta_ms", rapidjson::Value(static_cast<int64_t>(genesis.block_time().delta_ms)), a);
  g.AddMember("empty_block_period_ms",
              rapidjson::Value(static_cast<int64_t>(genesis.block_time().empty_block_period_ms)),
              a);
  g.AddMember("hash", str(to_hex(genesis.hash()), a), a);
  g.AddMember("rules_version", rapidjson::Value(static_cast<int64_t>(genesis.rules_version())), a);
  IMI_RETURN_IF_ERROR(state.put(kGovernanceApp, "genesis", g));
  IMI_RETURN_IF_ERROR(
      state.put(kGovernanceApp, "validators", gov::schedule_to_json({{0, genesis.validators()}})));
  IMI_RETURN_IF_ERROR(gov::write_limits(state, {genesis.limits(), {}}));
  for (const auto& r : genesis.roles()) {
    rapidjson::Document d(rapidjson::kObjectType);
    d.AddMember("since", 0, d.GetAllocator());
    IMI_RETURN_IF_ERROR(state.put(kGovernanceApp, gov::role_key(r.role, r.did), d));
  }
  return Status::ok();
}

Result<TxOutcome> GovernanceApp::check(const ledger::Transaction& tx,
                                       const ledger::BlockContext& ctx,
                                       const ledger::StateReader& state) const {
  if (tx.op() != "propose" && tx.op() != "approve") {
    return TxOutcome::fail(ledger::kCodeUnknownOp, "governance has no op " + tx.op());
  }
  auto set = validator_set_at(state, ctx.height);
  if (!set) return set.status();
  const ledger::Validator* v = set->find(tx.from());
  if (v == nullptr || v->key != tx.key()) {
    return TxOutcome::fail(ledger::kCodeForbidden,
                           "only a validator in force, signing with its own key, may " + tx.op());
  }
  const rapidjson::Value& args = tx.args();
  if (tx.op() == "propose") {
    if (!ledger::expect_members(args, {"action"}).is_ok())
      return bad_args("args must be {\"action\":{...}}");
    auto action = parse_action(args["action"]);
    if (auto* fail = std::get_if<TxOutcome>(&action)) return *fail;
    return applicable(std::get<Action>(action), ctx, state, true);
  }
  if (!ledger::expect_members(args, {"proposal"}).is_ok())
    return bad_args("args must be {\"proposal\":id}");
  auto id = ledger::get_hex32(args, "proposal");
  if (!id) return bad_args("proposal must be a transaction id (64 lowercase hex)");
  auto p = state.get_json(kGovernanceApp, "proposal/" + to_hex(*id));
  if (!p) return p.status();
  if (!p->has_value()) return TxOutcome::fail(ledger::kCodeNotFound, "no proposal " + to_hex(*id));
  auto status = ledger::get_string(**p, "status");
  auto approvals = ledger::get_array(**p, "approvals");
  if (!status || !approvals) return gov::corrupt("proposal");
  if (*status != "open")
    return TxOutcome::fail(kGovCodeClosed, "proposal is " + std::string(*status));
  for (const auto& a : (*approvals)->GetArray()) {
    if (a.IsString() && tx.from() == a.GetString()) {
      return TxOutcome::fail(kGovCodeAlreadyApproved, tx.from() + " already approved it");
    }
  }
  return TxOutcome::success();
}

Result<TxOutcome> GovernanceApp::apply(const ledger::Transaction& tx,
                                       const ledger::BlockContext& ctx,
                                       ledger::AppState& state) const {
  auto checked = check(tx, ctx, state);
  if (!checked || !checked->ok()) return checked;

  std::string id;
  rapidjson::Document p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  if (tx.op() == "propose") {
    id = tx.id_hex();
    rapidjson::Value action;
    action.CopyFrom(tx.args()["action"], a);
    p.AddMember("action", action, a);
    p.AddMember("approvals", rapidjson::Value(rapidjson::kArrayType), a);
    p.AddMember("by", str(tx.from(), a), a);
    p.AddMember("height", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
    p.AddMember("status", "open", a);
    rapidjson::Document ev(rapidjson::kObjectType);
    ev.AddMember("id", str(id, ev.GetAllocator()), ev.GetAllocator());
    ev.AddMember("type", "proposed", ev.GetAllocator());
    state.emit(ev);
  } else {
    id = to_hex(*ledger::get_hex32(tx.args(), "proposal"));
    auto stored = state.get_json(kGovernanceApp, "proposal/" + id);
    if (!stored) return stored.status();
    p.CopyFrom(**stored, a);
  }
  // Approvals stay sorted and distinct (check() refused a second approval).
  std::vector<std::string> approvals;
  for (const auto& v : p["approvals"].GetArray()) approvals.emplace_back(v.GetString());
  approvals.insert(std::upper_bound(approvals.begin(), approvals.end(), tx.from()), tx.from());
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& d : approvals) list.PushBack(str(d, a), a);
  p["approvals"] = list;

  auto set = validator_set_at(state, ctx.height);
  if (!set) return set.status();
  int64_t counted = std::count_if(approvals.begin(), approvals.end(),
                                  [&](const std::string& d) { return set->find(d) != nullptr; });
  rapidjson::Document ev(rapidjson::kObjectType);
  auto& ea = ev.GetAllocator();
  ev.AddMember("approvals", rapidjson::Value(counted), ea);
  ev.AddMember("id", str(id, ea), ea);
  ev.AddMember("quorum", rapidjson::Value(static_cast<int64_t>(set->q())), ea);
  ev.AddMember("type", "approved", ea);
  state.emit(ev);

  if (static_cast<size_t>(counted) >= set->q()) {
    auto action = std::get<Action>(parse_action(p["action"]));
    auto ok = applicable(action, ctx, state, false);
    if (!ok) return ok.status();
    rapidjson::Document done(rapidjson::kObjectType);
    auto& da = done.GetAllocator();
    done.AddMember("id", str(id, da), da);
    if (ok->ok()) {
      auto effective = enact(action, ctx, state);
      if (!effective) return effective.status();
      p["status"].SetString("done", a);
      done.AddMember("effective", rapidjson::Value(static_cast<int64_t>(*effective)), da);
      done.AddMember("type", "enacted", da);
    } else {
      p["status"].SetString("failed", a);
      done.AddMember("reason", str(ok->message, da), da);
      done.AddMember("type", "failed", da);
    }
    p.AddMember("closed_at", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
    state.emit(done);
  }
  IMI_RETURN_IF_ERROR(state.put(kGovernanceApp, "proposal/" + id, p));
  return TxOutcome::success();
}

}  // namespace imi::apps
