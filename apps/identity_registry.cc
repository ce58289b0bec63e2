#include "apps/identity_registry.h"

#include <algorithm>
#include <map>

#include "apps/governance.h"
#include "apps/identity_registry_records.h"
#include "apps/identity_registry_status.h"
#include "ledger/executor_account.h"
#include "ledger/json.h"

namespace imi::apps {
namespace {

using identity::sdjwt::DidStatus;
using ledger::TxOutcome;

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string did_key(std::string_view did) { return "did/" + std::string(did); }
std::string recovery_key(std::string_view did) { return "recovery/" + std::string(did); }

void emit(ledger::AppState& state, std::string_view type, std::string_view did) {
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("did", str(did, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("type", str(type, ev.GetAllocator()), ev.GetAllocator());
  state.emit(ev);
}

// Writes the record and makes the account's current keys those of the record,
// so the executor's sender rule accepts exactly them from the next transaction.
Status save(ledger::AppState& state, std::string_view did, const DidRecord& r) {
  IMI_RETURN_IF_ERROR(state.put(kIdentityApp, did_key(did), did_record_json(r)));
  auto account = ledger::read_account(state, did);
  if (!account) return account.status();
  ledger::Account acc = account->value_or(ledger::Account{});
  acc.keys.clear();
  if (r.status == DidStatus::kActive) {
    for (const auto& [n, k] : r.current()) acc.keys.push_back(k);
  }
  return state.put(ledger::kAccountApp, did, ledger::account_to_json(std::move(acc)));
}

bool in_history(const DidRecord& r, const identity::PublicKey& k) {
  return std::any_of(r.keys.begin(), r.keys.end(), [&](const auto& e) { return e.key == k; });
}

uint64_t next_n(const DidRecord& r) { return r.keys.empty() ? 1 : r.keys.back().n + 1; }

// A signed object carried in args: `signer` must be a current account key of
// the DID in `by_field`, and `sig` must verify over the object without "sig".
Result<std::optional<TxOutcome>> check_signed(const ledger::StateReader& state,
                                              const rapidjson::Value& obj,
                                              std::string_view by_field,
                                              std::string_view key_field) {
  auto by = ledger::get_string(obj, by_field);
  auto key = ledger::get_hex32(obj, key_field);
  auto sig = ledger::get_hex64(obj, "sig");
  if (!by || !key || !sig || !identity::is_valid_did(*by)) {
    return std::optional<TxOutcome>(TxOutcome::fail(
        kIdCodeBadAttestation, "signed object needs its signer's DID, key and sig"));
  }
  auto account = ledger::read_account(state, *by);
  if (!account) return account.status();
  if (!account->has_value() || !(*account)->has_key(*key)) {
    return std::optional<TxOutcome>(TxOutcome::fail(
        kIdCodeBadAttestation, to_hex(*key) + " is not a current key of " + std::string(*by)));
  }
  if (!identity::verify(identity::Domain::kAttestation, *key, ledger::jcs_without(obj, "sig"),
                        *sig)) {
    return std::optional<TxOutcome>(
        TxOutcome::fail(kIdCodeBadAttestation, "signature of " + std::string(*by) + " is invalid"));
  }
  return std::optional<TxOutcome>();
}

#define IMI_CHECK_SIGNED(state, obj, by, key)    \
  do {                                           \
    auto c_ = check_signed(state, obj, by, key); \
    if (!c_) return c_.status();                 \
    if (c_->has_value()) return **c_;            \
  } while (0)

TxOutcome bad(std::string m) { return TxOutcome::fail(ledger::kCodeBadArgs, std::move(m)); }

Result<TxOutcome> op_register(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                              const ledger::StateReader& state, ledger::AppState* w) {
  if (!ledger::expect_members(tx.args(), {"attestation"}).is_ok()) {
    return bad("args must be {\"attestation\": {...}}");
  }
  const rapidjson::Value& att = tx.args()["attestation"];
  if (!ledger::expect_members(
           att, {"type", "did", "key", "guardians", "registrar", "registrar_key", "sig"})
           .is_ok()) {
    return bad("attestation must be {type, did, key, guardians, registrar, registrar_key, sig}");
  }
  auto type = ledger::get_string(att, "type");
  auto did = ledger::get_string(att, "did");
  auto key = ledger::get_hex32(att, "key");
  auto guardians = ledger::get_array(att, "guardians");
  if (!type || *type != "register" || !did || !key || !guardians) {
    return bad("attestation type must be \"register\", with did, key (hex64) and guardians");
  }
  if (*did != tx.from() || *key != tx.key()) {
    return TxOutcome::fail(ledger::kCodeForbidden,
                           "the DID being registered must send the registration with its key");
  }
  DidRecord r;
  for (const auto& g : (*guardians)->GetArray()) {
    auto h = g.IsString() ? from_hex_fixed<32>(std::string_view(g.GetString(), g.GetStringLength()))
                          : std::nullopt;
    if (!h || !is_lower_hex(std::string_view(g.GetString(), g.GetStringLength()), 64)) {
      return bad("guardians are hex64 commitments");
    }
    if (std::find(r.guardians.begin(), r.guardians.end(), *h) != r.guardians.end()) {
      return bad("a guardian is named twice");
    }
    r.guardians.push_back(*h);
  }
  if (r.guardians.size() > kGuardiansMax) {
    return bad("at most " + std::to_string(kGuardiansMax) + " guardians");
  }
  auto registrar = ledger::get_string(att, "registrar");
  if (!registrar) return bad("registrar must be a DID");
  auto role = has_role(state, *registrar, kRegistrarRole);
  if (!role) return role.status();
  if (!*role) {
    return TxOutcome::fail(kIdCodeBadAttestation,
                           std::string(*registrar) + " does not hold the registrar role");
  }
  IMI_CHECK_SIGNED(state, att, "registrar", "registrar_key");
  auto existing = read_did(state, tx.from());
  if (!existing) return existing.status();
  if (existing->has_value()) {
    return TxOutcome::fail(ledger::kCodeConflict, tx.from() + " is already registered");
  }
  if (!w) return TxOutcome::success();
  r.status = DidStatus::kActive;
  r.keys.push_back({1, *key, ctx.height, std::nullopt});
  r.registrar = std::string(*registrar);
  r.registered = ctx.height;
  IMI_RETURN_IF_ERROR(save(*w, tx.from(), r));
  emit(*w, "registered", tx.from());
  return TxOutcome::success();
}

Result<TxOutcome> op_rotate(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                            const ledger::StateReader& state, ledger::AppState* w) {
  const auto& args = tx.args();
  if (!ledger::expect_members(args, {}, {"add", "remove"}).is_ok() || args.MemberCount() == 0) {
    return bad("args must be {\"add\"?: hex64, \"remove\"?: [n...]}, at least one");
  }
  auto rec = read_did(state, tx.from());
  if (!rec) return rec.status();
  if (!rec->has_value())
    return TxOutcome::fail(ledger::kCodeNotFound, tx.from() + " is not registered");
  DidRecord r = std::move(**rec);
  if (r.status != DidStatus::kActive) {
    return TxOutcome::fail(kIdCodeNotActive, tx.from() + " is not active");
  }
  if (ledger::has_field(args, "remove")) {
    auto remove = ledger::get_array(args, "remove");
    if (!remove) return bad("remove must be an array of key numbers");
    for (const auto& n : (*remove)->GetArray()) {
      auto it = std::find_if(r.keys.begin(), r.keys.end(), [&](const DidKeyRecord& k) {
        return n.IsUint64() && k.n == n.GetUint64() && !k.revoked;
      });
      if (it == r.keys.end()) return bad("remove names a key number that is not current");
      it->revoked = ctx.height;
    }
  }
  if (ledger::has_field(args, "add")) {
    auto add = ledger::get_hex32(args, "add");
    if (!add || !identity::is_valid_public_key(*add)) return bad("add must be a valid key (hex64)");
    if (in_history(r, *add)) {
      return TxOutcome::fail(kIdCodeKeyUsed, "that key is or was a key of " + tx.from());
    }
    r.keys.push_back({next_n(r), *add, ctx.height, std::nullopt});
  }
  const size_t current = r.current().size();
  if (current == 0) return bad("a rotation must leave at least one current key");
  if (current > kDidKeysMax || r.keys.size() > kKeyHistoryMax) {
    return TxOutcome::fail(ledger::kCodeConflict, "too many keys");
  }
  if (!w) return TxOutcome::success();
  IMI_RETURN_IF_ERROR(save(*w, tx.from(), r));
  emit(*w, "rotated", tx.from());
  return TxOutcome::success();
}

Result<TxOutcome> op_freeze_or_deactivate(const ledger::Transaction& tx,
                                          const ledger::BlockContext& ctx,
                                          const ledger::StateReader& state, ledger::AppState* w) {
  const bool freeze = tx.op() == "freeze";
  const auto& args = tx.args();
  if (!ledger::expect_members(args,
                              freeze ? std::initializer_list<std::string_view>{"did"}
                                     : std::initializer_list<std::string_view>{},
                              freeze ? std::initializer_list<std::string_view>{}
                                     : std::initializer_list<std::string_view>{"did"})
           .is_ok()) {
    return bad(freeze ? "args must be {\"did\": did}" : "args must be {\"did\"?: did}");
  }
  std::string target = tx.from();
  if (ledger::has_field(args, "did")) {
    auto d = ledger::get_string(args, "did");
    if (!d || !identity::is_valid_did(*d)) return bad("did must be a did:imi");
    target = std::string(*d);
  }
  if (freeze || target != tx.from()) {
    auto role = has_role(state, tx.from(), kRegistrarRole);
    if (!role) return role.status();
    if (!*role) return TxOutcome::fail(ledger::kCodeForbidden, "only a registrar may do this");
  }
  auto rec = read_did(state, target);
  if (!rec) return rec.status();
  if (!rec->has_value())
    return TxOutcome::fail(ledger::kCodeNotFound, target + " is not registered");
  DidRecord r = std::move(**rec);
  if (r.status == DidStatus::kDeactivated || (freeze && r.status != DidStatus::kActive)) {
    return TxOutcome::fail(
        kIdCodeNotActive,
        target + " is " + std::string(identity::sdjwt::did_status_name(r.status)));
  }
  if (!w) return TxOutcome::success();
  if (freeze) {
    r.status = DidStatus::kFrozen;
  } else {
    r.status = DidStatus::kDeactivated;
    for (auto& k : r.keys) {
      if (!k.revoked) k.revoked = ctx.height;
    }
    IMI_RETURN_IF_ERROR(w->erase(kIdentityApp, recovery_key(target)));
  }
  IMI_RETURN_IF_ERROR(save(*w, target, r));
  emit(*w, freeze ? "frozen" : "deactivated", target);
  return TxOutcome::success();
}

Result<TxOutcome> op_recover(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                             const ledger::StateReader& state, ledger::AppState* w) {
  const auto& args = tx.args();
  if (!ledger::expect_members(args, {"did", "key"}, {"approvals"}).is_ok()) {
    return bad("args must be {\"did\", \"key\", \"approvals\"?: [...]}");
  }
  auto did = ledger::get_string(args, "did");
  auto key = ledger::get_hex32(args, "key");
  if (!did || !identity::is_valid_did(*did) || !key || !identity::is_valid_public_key(*key)) {
    return bad("did must be a did:imi and key a valid key (hex64)");
  }
  auto rec = read_did(state, *did);
  if (!rec) return rec.status();
  if (!rec->has_value()) {
    return TxOutcome::fail(ledger::kCodeNotFound, std::string(*did) + " is not registered");
  }
  DidRecord r = std::move(**rec);
  if (r.status == DidStatus::kDeactivated) {
    return TxOutcome::fail(kIdCodeNotActive, std::string(*did) + " is deactivated");
  }
  if (in_history(r, *key)) {
    return TxOutcome::fail(kIdCodeKeyUsed, "that key is or was a key of " + std::string(*did));
  }
  std::map<std::string, std::string> approvers;  // did -> "registrar" | "guardian"
  auto pending = state.get_json(kIdentityApp, recovery_key(*did));
  if (!pending) return pending.status();
  if (pending->has_value()) {
    const auto& p = **pending;
    auto pk = ledger::get_hex32(p, "key");
    auto pr = ledger::get_uint(p, "recovery");
    auto list = ledger::get_array(p, "approvals");
    if (!pk || !pr || !list)
      return Status::error("state.corrupt_value", "pending recovery malformed");
    if (*pk == *key && *pr == r.recoveries) {
      for (const auto& e : (*list)->GetArray()) {
        auto by = ledger::get_string(e, "by");
        auto as = ledger::get_string(e, "as");
        if (!by || !as) return Status::error("state.corrupt_value", "pending recovery malformed");
        approvers[std::string(*by)] = std::string(*as);
      }
    }
  }
  bool any_new = false;
  auto sender_registrar = has_role(state, tx.from(), kRegistrarRole);
  if (!sender_registrar) return sender_registrar.status();
  if (*sender_registrar) {
    approvers[tx.from()] = "registrar";
    any_new = true;
  }
  if (ledger::has_field(args, "approvals")) {
    auto list = ledger::get_array(args, "approvals");
    if (!list || (*list)->Size() > 4) return bad("approvals must be an array of at most 4");
    for (const auto& p : (*list)->GetArray()) {
      if (!ledger::expect_members(p, {"type", "did", "key", "recovery", "by", "signer", "sig"},
                                  {"guardian_salt"})
               .is_ok()) {
        return bad("an approval is {type, did, key, recovery, by, signer, guardian_salt?, sig}");
      }
      auto type = ledger::get_string(p, "type");
      auto pdid = ledger::get_string(p, "did");
      auto pkey = ledger::get_hex32(p, "key");
      auto prec = ledger::get_uint(p, "recovery");
      auto by = ledger::get_string(p, "by");
      if (!type || *type != "recover" || !pdid || *pdid != *did || !pkey || *pkey != *key ||
          !prec || *prec != r.recoveries || !by) {
        return TxOutcome::fail(kIdCodeBadAttestation,
                               "an approval must name this DID, this key and recovery " +
                                   std::to_string(r.recoveries));
      }
      IMI_CHECK_SIGNED(state, p, "by", "signer");
      auto reg = has_role(state, *by, kRegistrarRole);
      if (!reg) return reg.status();
      std::string as;
      if (*reg) {
        as = "registrar";
      } else if (ledger::has_field(p, "guardian_salt")) {
        auto salt = ledger::get_hex32(p, "guardian_salt");
        if (salt && std::find(r.guardians.begin(), r.guardians.end(),
                              guardian_commitment(*by, *salt)) != r.guardians.end()) {
          as = "guardian";
        }
      }
      if (as.empty()) {
        return TxOutcome::fail(kIdCodeBadAttestation,
                               std::string(*by) + " is neither a registrar nor a named guardian");
      }
      approvers[std::string(*by)] = as;
      any_new = true;
    }
  }
  if (!any_new) {
    return TxOutcome::fail(ledger::kCodeForbidden,
                           "a recovery needs a registrar sender or signed approvals");
  }
  if (!w) return TxOutcome::success();
  const bool has_registrar = std::any_of(approvers.begin(), approvers.end(),
                                         [](const auto& e) { return e.second == "registrar"; });
  if (approvers.size() >= 2 && has_registrar) {
    for (auto& k : r.keys) {
      if (!k.revoked) k.revoked = ctx.height;
    }
    r.keys.push_back({next_n(r), *key, ctx.height, std::nullopt});
    r.status = DidStatus::kActive;
    ++r.recoveries;
    if (r.keys.size() > kKeyHistoryMax) r.keys.erase(r.keys.begin());
    IMI_RETURN_IF_ERROR(w->erase(kIdentityApp, recovery_key(*did)));
    IMI_RETURN_IF_ERROR(save(*w, *did, r));
    emit(*w, "recovered", *did);
    return TxOutcome::success();
  }
  rapidjson::Document p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  p.AddMember("key", str(to_hex(*key), a), a);
  p.AddMember("recovery", rapidjson::Value(static_cast<int64_t>(r.recoveries)), a);
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& [by, as] : approvers) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("as", str(as, a), a);
    e.AddMember("by", str(by, a), a);
    list.PushBack(e, a);
  }
  p.AddMember("approvals", list, a);
  IMI_RETURN_IF_ERROR(w->put(kIdentityApp, recovery_key(*did), p));
  emit(*w, "recovery_approved", *did);
  return TxOutcome::success();
}

Result<TxOutcome> op_status_list(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                 const ledger::StateReader& state, ledger::AppState* w) {
  auto issuer = is_issuer(state, tx.from());
  if (!issuer) return issuer.status();
  if (!*issuer) return TxOutcome::fail(ledger::kCodeForbidden, tx.from() + " holds no issuer role");
  auto rec = read_did(state, tx.from());
  if (!rec) return rec.status();
  if (!rec->has_value() || (*rec)->status != DidStatus::kActive) {
    return TxOutcome::fail(kIdCodeNotActive, "an issuer must be a registered, active DID");
  }
  return status_list_op(kIdentityApp, tx, ctx, state, w);
}

Result<TxOutcome> run(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                      const ledger::StateReader& state, ledger::AppState* w) {
  const std::string& op = tx.op();
  if (op == "register") return op_register(tx, ctx, state, w);
  if (op == "rotate") return op_rotate(tx, ctx, state, w);
  if (op == "freeze" || op == "deactivate") return op_freeze_or_deactivate(tx, ctx, state, w);
  if (op == "recover") return op_recover(tx, ctx, state, w);
  if (op == "status_list_create" || op == "status_list_update") {
    return op_status_list(tx, ctx, state, w);
  }
  return TxOutcome::fail(ledger::kCodeUnknownOp, "identity has no op " + op);
}

}  // namespace

Result<TxOutcome> IdentityRegistryApp::check(const ledger::Transaction& tx,
                                             const ledger::BlockContext& ctx,
                                             const ledger::StateReader& state) const {
  return run(tx, ctx, state, nullptr);
}

Result<TxOutcome> IdentityRegistryApp::apply(const ledger::Transaction& tx,
                                             const ledger::BlockContext& ctx,
                                             ledger::AppState& state) const {
  return run(tx, ctx, state, &state);
}

}  // namespace imi::apps
