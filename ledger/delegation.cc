#include "ledger/delegation.h"

#include <algorithm>
#include <set>
#include <variant>

#include "identity/keys.h"
#include "ledger/json.h"

namespace imi::ledger {
namespace {

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

TxOutcome bad(std::string message) { return TxOutcome::fail(kCodeBadArgs, std::move(message)); }

bool is_matter_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

// "<app>" or "<app>/<op>", neither the delegation app.
bool is_scope_entry(std::string_view s) {
  size_t slash = s.find('/');
  std::string_view app = s.substr(0, slash);
  if (!is_valid_name(app) || app == kDelegationApp) return false;
  return slash == std::string_view::npos || is_valid_name(s.substr(slash + 1));
}

Result<std::vector<std::string>> string_list(const rapidjson::Value& args, std::string_view field,
                                             bool (*valid)(std::string_view)) {
  auto arr = get_array(args, field);
  auto fail =
      Status::error("bad", std::string(field) + " must be an array of 1.." +
                               std::to_string(kDelegationScopeMax) + " distinct valid entries");
  if (!arr || (*arr)->Empty() || (*arr)->Size() > kDelegationScopeMax) return fail;
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& v : (*arr)->GetArray()) {
    if (!v.IsString()) return fail;
    std::string_view s(v.GetString(), v.GetStringLength());
    if (!valid(s) || !seen.insert(std::string(s)).second) return fail;
    out.emplace_back(s);
  }
  return out;
}

struct GrantArgs {
  std::string delegate;
  std::vector<std::string> scope, matters;
  uint64_t expires = 0;
};

std::variant<GrantArgs, TxOutcome> parse_grant(const Transaction& tx, const BlockContext& ctx) {
  const auto& args = tx.args();
  if (!expect_members(args, {"delegate", "scope", "expires"}, {"matters"}).is_ok())
    return bad(
        "args must be {\"delegate\": did, \"scope\": [\"app\" or \"app/op\", ...], "
        "\"expires\": ms, \"matters\"?: [id, ...]}");
  GrantArgs g;
  auto d = get_string(args, "delegate");
  if (!d || !identity::is_valid_did(*d)) return bad("delegate must be a did:imi");
  g.delegate = std::string(*d);
  auto scope = string_list(args, "scope", is_scope_entry);
  if (!scope)
    return bad("scope must be an array of 1.." + std::to_string(kDelegationScopeMax) +
               " distinct \"<app>\" or \"<app>/<op>\" (not delegation)");
  g.scope = std::move(*scope);
  if (has_field(args, "matters")) {
    auto m = string_list(args, "matters", is_matter_id);
    if (!m)
      return bad("matters must be an array of 1.." + std::to_string(kDelegationScopeMax) +
                 " distinct ids of 1..64 [A-Za-z0-9._:-]");
    g.matters = std::move(*m);
  }
  auto e = get_uint(args, "expires");
  if (!e || *e <= ctx.time_ms || *e - ctx.time_ms > kDelegationLifetimeMaxMs)
    return bad("expires must be a block time (ms) after now and at most about 5 years ahead");
  g.expires = *e;
  if (g.delegate == tx.from()) return TxOutcome::fail(kCodeConflict, "cannot delegate to yourself");
  return g;
}

std::variant<std::string, TxOutcome> parse_revoke(const Transaction& tx) {
  const auto& args = tx.args();
  if (!expect_members(args, {"delegate"}).is_ok()) return bad("args must be {\"delegate\": did}");
  auto d = get_string(args, "delegate");
  if (!d || !identity::is_valid_did(*d)) return bad("delegate must be a did:imi");
  return std::string(*d);
}

std::string record_key(std::string_view principal, std::string_view delegate) {
  return std::string(principal) + "/" + std::string(delegate);
}
std::string reverse_key(std::string_view delegate, std::string_view principal) {
  return "to/" + std::string(delegate) + "/" + std::string(principal);
}

}  // namespace

bool Delegation::covers(std::string_view app, std::string_view op) const {
  for (const auto& s : scope) {
    if (s == app) return true;
    if (s.size() == app.size() + 1 + op.size() && s.starts_with(app) && s[app.size()] == '/' &&
        std::string_view(s).substr(app.size() + 1) == op)
      return true;
  }
  return false;
}

bool Delegation::covers_matter(std::string_view matter) const {
  return matters.empty() || std::find(matters.begin(), matters.end(), matter) != matters.end();
}

Result<std::optional<Delegation>> find_delegation(const StateReader& state,
                                                  std::string_view principal,
                                                  std::string_view delegate) {
  auto doc = state.get_json(kDelegationApp, record_key(principal, delegate));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<Delegation>();
  const rapidjson::Value& v = **doc;
  auto corrupt = Status::error("state.corrupt_value", "delegation " + std::string(principal) + "/" +
                                                          std::string(delegate) + " is malformed");
  Delegation d;
  d.principal = principal;
  d.delegate = delegate;
  auto expires = get_uint(v, "expires");
  auto granted = get_uint(v, "granted_at");
  auto scope = get_array(v, "scope");
  if (!expires || !granted || !scope) return corrupt;
  d.expires_ms = *expires;
  d.granted_at_ms = *granted;
  for (const auto& s : (*scope)->GetArray()) {
    if (!s.IsString()) return corrupt;
    d.scope.emplace_back(s.GetString(), s.GetStringLength());
  }
  if (has_field(v, "matters")) {
    auto m = get_array(v, "matters");
    if (!m) return corrupt;
    for (const auto& s : (*m)->GetArray()) {
      if (!s.IsString()) return corrupt;
      d.matters.emplace_back(s.GetString(), s.GetStringLength());
    }
  }
  return std::optional<Delegation>(std::move(d));
}

Result<TxOutcome> check_delegation(const Transaction& tx, const BlockContext& ctx,
                                   const StateReader& state, bool app_accepts) {
  const std::string& principal = tx.on_behalf_of();
  if (!app_accepts)
    return TxOutcome::fail(kCodeForbidden, "app " + tx.app() +
                                               " does not take transactions sent on behalf "
                                               "of someone; the principal must send it");
  auto d = find_delegation(state, principal, tx.from());
  if (!d) return d.status();
  if (!d->has_value())
    return TxOutcome::fail(kCodeForbidden, principal + " has not delegated to " + tx.from() +
                                               " (or revoked it); ask for a delegation "
                                               "grant first");
  if ((*d)->expires_ms <= ctx.time_ms)
    return TxOutcome::fail(kCodeForbidden, "the delegation from " + principal + " to " + tx.from() +
                                               " expired at " + std::to_string((*d)->expires_ms) +
                                               "; the principal must grant it again");
  if (!(*d)->covers(tx.app(), tx.op()))
    return TxOutcome::fail(kCodeForbidden, "the delegation from " + principal + " to " + tx.from() +
                                               " does not cover " + tx.app() + "/" + tx.op());
  return TxOutcome::success();
}

Result<TxOutcome> DelegationApp::check(const Transaction& tx, const BlockContext& ctx,
                                       const StateReader& state) const {
  if (tx.op() == "grant") {
    auto g = parse_grant(tx, ctx);
    if (auto* f = std::get_if<TxOutcome>(&g)) return *f;
    return TxOutcome::success();
  }
  if (tx.op() == "revoke") {
    auto r = parse_revoke(tx);
    if (auto* f = std::get_if<TxOutcome>(&r)) return *f;
    auto existing = state.get(kDelegationApp, record_key(tx.from(), std::get<std::string>(r)));
    if (!existing) return existing.status();
    if (!existing->has_value())
      return TxOutcome::fail(kCodeNotFound,
                             tx.from() + " has no delegation to " + std::get<std::string>(r));
    return TxOutcome::success();
  }
  return TxOutcome::fail(kCodeUnknownOp,
                         "delegation has no op " + tx.op() + " (ops: grant, revoke)");
}

Result<TxOutcome> DelegationApp::apply(const Transaction& tx, const BlockContext& ctx,
                                       AppState& state) const {
  auto checked = check(tx, ctx, state);
  if (!checked || !checked->ok()) return checked;
  rapidjson::Document ev(rapidjson::kObjectType);
  auto& ea = ev.GetAllocator();
  if (tx.op() == "grant") {
    auto g = std::get<GrantArgs>(parse_grant(tx, ctx));
    rapidjson::Document rec(rapidjson::kObjectType);
    auto& a = rec.GetAllocator();
    rec.AddMember("delegate", str(g.delegate, a), a);
    rec.AddMember("expires", rapidjson::Value(static_cast<int64_t>(g.expires)), a);
    rec.AddMember("granted_at", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), a);
    if (!g.matters.empty()) {
      rapidjson::Value m(rapidjson::kArrayType);
      for (const auto& s : g.matters) m.PushBack(str(s, a), a);
      rec.AddMember("matters", m, a);
    }
    rec.AddMember("principal", str(tx.from(), a), a);
    rapidjson::Value sc(rapidjson::kArrayType);
    for (const auto& s : g.scope) sc.PushBack(str(s, a), a);
    rec.AddMember("scope", sc, a);
    IMI_RETURN_IF_ERROR(state.put(kDelegationApp, record_key(tx.from(), g.delegate), rec));
    rapidjson::Document rev(rapidjson::kObjectType);
    rev.AddMember("expires", rapidjson::Value(static_cast<int64_t>(g.expires)), rev.GetAllocator());
    IMI_RETURN_IF_ERROR(state.put(kDelegationApp, reverse_key(g.delegate, tx.from()), rev));
    ev.AddMember("delegate", str(g.delegate, ea), ea);
    ev.AddMember("type", "delegation_granted", ea);
  } else {
    std::string delegate = std::get<std::string>(parse_revoke(tx));
    IMI_RETURN_IF_ERROR(state.erase(kDelegationApp, record_key(tx.from(), delegate)));
    IMI_RETURN_IF_ERROR(state.erase(kDelegationApp, reverse_key(delegate, tx.from())));
    ev.AddMember("delegate", str(delegate, ea), ea);
    ev.AddMember("type", "delegation_revoked", ea);
  }
  ev.AddMember("principal", str(tx.from(), ea), ea);
  state.emit(ev);
  return TxOutcome::success();
}

Result<QueryPage> DelegationApp::query(std::string_view name, const QueryParams& params,
                                       std::string_view cursor, size_t limit,
                                       const IndexReader& index) const {
  auto did_param = [&](std::string_view p) -> Result<std::string> {
    auto it = params.find(p);
    if (it == params.end() || !identity::is_valid_did(it->second))
      return Status::error("query.bad_param", std::string(p) + " must be a did:imi");
    return it->second;
  };
  if (name == "granted") {
    auto p = did_param("principal");
    if (!p) return p.status();
    return scan_query(index, kDelegationApp, *p + "/", cursor, limit);
  }
  if (name == "held") {
    auto d = did_param("delegate");
    if (!d) return d.status();
    return scan_query(
        index, kDelegationApp, "to/" + *d + "/", cursor, limit, [](const IndexEntry& e) {
          // "to/<delegate>/<principal>" -> "<principal>/<delegate>"
          std::string_view k(e.key);
          k.remove_prefix(3);
          size_t slash = k.find('/');
          return std::string(k.substr(slash + 1)) + "/" + std::string(k.substr(0, slash));
        });
  }
  return Status::error("query.unknown", "delegation has no query " + std::string(name) +
                                            " (queries: granted, held)");
}

}  // namespace imi::ledger
