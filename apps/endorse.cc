#include "apps/endorse.h"

#include <algorithm>

#include "apps/governance.h"
#include "apps/identity_registry.h"
#include "apps/identity_registry_status.h"
#include "ledger/json.h"

namespace imi::apps {
namespace {

using ledger::TxOutcome;
constexpr std::string_view kVctPrefix = "imi:endorsement:";

std::optional<std::string_view> role_for(std::string_view type) {
  for (const auto& t : kEndorsementTypes) {
    if (t.type == type) return t.role;
  }
  return std::nullopt;
}

Result<TxOutcome> run(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                      const ledger::StateReader& state, ledger::AppState* w) {
  const std::string& op = tx.op();
  if (op != "define" && op != "status_list_create" && op != "status_list_update") {
    return TxOutcome::fail(ledger::kCodeUnknownOp, "endorse has no op " + op);
  }
  auto rec = read_did(state, tx.from());
  if (!rec) return rec.status();
  if (!rec->has_value() || (*rec)->status != identity::sdjwt::DidStatus::kActive) {
    return TxOutcome::fail(kIdCodeNotActive, "an issuer must be a registered, active DID");
  }
  if (op != "define") {
    auto types = endorsement_types(state, tx.from());
    if (!types) return types.status();
    if (types->empty()) {
      return TxOutcome::fail(ledger::kCodeForbidden,
                             tx.from() + " has defined no endorsement types");
    }
    return status_list_op(kEndorseApp, tx, ctx, state, w);
  }
  if (!ledger::expect_members(tx.args(), {"types"}).is_ok()) {
    return TxOutcome::fail(ledger::kCodeBadArgs, "args must be {\"types\": [type...]}");
  }
  auto types = ledger::get_array(tx.args(), "types");
  if (!types || (*types)->Empty() || (*types)->Size() > std::size(kEndorsementTypes)) {
    return TxOutcome::fail(ledger::kCodeBadArgs, "types must list 1..3 endorsement types");
  }
  std::vector<std::string> names;
  for (const auto& t : (*types)->GetArray()) {
    if (!t.IsString()) return TxOutcome::fail(ledger::kCodeBadArgs, "a type is a string");
    std::string name(t.GetString(), t.GetStringLength());
    auto role = role_for(name);
    if (!role) return TxOutcome::fail(ledger::kCodeBadArgs, "no endorsement type " + name);
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return TxOutcome::fail(ledger::kCodeBadArgs, "type " + name + " named twice");
    }
    auto has = has_role(state, tx.from(), *role);
    if (!has) return has.status();
    if (!*has) {
      return TxOutcome::fail(ledger::kCodeForbidden,
                             "issuing " + name + " needs the role " + std::string(*role));
    }
    names.push_back(std::move(name));
  }
  if (!w) return TxOutcome::success();
  std::sort(names.begin(), names.end());
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& n : names) arr.PushBack(rapidjson::Value(n.c_str(), a), a);
  d.AddMember("types", arr, a);
  d.AddMember("since", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
  IMI_RETURN_IF_ERROR(w->put(kEndorseApp, "issuer/" + tx.from(), d));
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("issuer", rapidjson::Value(tx.from().c_str(), ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("type", "issuer_defined", ev.GetAllocator());
  w->emit(ev);
  return TxOutcome::success();
}

}  // namespace

Result<TxOutcome> EndorseApp::check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    const ledger::StateReader& state) const {
  return run(tx, ctx, state, nullptr);
}

Result<TxOutcome> EndorseApp::apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    ledger::AppState& state) const {
  return run(tx, ctx, state, &state);
}

std::string endorsement_vct(std::string_view type) {
  return std::string(kVctPrefix) + std::string(type);
}

Result<std::vector<std::string>> endorsement_types(const ledger::StateReader& state,
                                                   std::string_view issuer) {
  auto doc = state.get_json(kEndorseApp, "issuer/" + std::string(issuer));
  if (!doc) return doc.status();
  std::vector<std::string> out;
  if (!doc->has_value()) return out;
  auto types = ledger::get_array(**doc, "types");
  if (!types) return Status::error("state.corrupt_value", "endorse issuer record malformed");
  for (const auto& t : (*types)->GetArray()) {
    if (!t.IsString())
      return Status::error("state.corrupt_value", "endorse issuer record malformed");
    out.emplace_back(t.GetString(), t.GetStringLength());
  }
  return out;
}

Result<bool> endorsement_authorised(const ledger::StateReader& state,
                                    const identity::sdjwt::Verification& v) {
  std::string_view vct = v.vct;
  if (vct.substr(0, kVctPrefix.size()) != kVctPrefix) {
    return Status::error("endorse.not_endorsement", v.vct + " is not an endorsement type");
  }
  std::string_view type = vct.substr(kVctPrefix.size());
  auto role = role_for(type);
  if (!role) return Status::error("endorse.not_endorsement", v.vct + " is not an endorsement type");
  auto types = endorsement_types(state, v.issuer);
  if (!types) return types.status();
  if (std::find(types->begin(), types->end(), type) == types->end()) return false;
  return has_role(state, v.issuer, *role);
}

identity::sdjwt::IssueRequest endorsement_request(std::string_view issuer, uint64_t issuer_key_n,
                                                  std::string_view holder_kid,
                                                  std::string_view type, std::string_view list,
                                                  uint64_t idx, int64_t iat, int64_t nbf,
                                                  int64_t exp,
                                                  std::vector<identity::sdjwt::Claim> claims) {
  identity::sdjwt::IssueRequest r;
  r.vct = endorsement_vct(type);
  r.issuer = std::string(issuer);
  r.issuer_kid = identity::sdjwt::make_kid(issuer, issuer_key_n);
  r.iat = iat;
  r.nbf = nbf;
  r.exp = exp;
  r.holder_kid = std::string(holder_kid);
  r.status = identity::sdjwt::StatusRef{status_list_uri(kEndorseApp, issuer, list), idx};
  r.disclosable = std::move(claims);
  return r;
}

}  // namespace imi::apps
