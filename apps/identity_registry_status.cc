#include "apps/identity_registry_status.h"

#include "apps/identity_registry.h"
#include "ledger/json.h"

namespace imi::apps {
namespace {

using ledger::TxOutcome;
constexpr std::string_view kUriPrefix = "imi:status-list/";

std::string list_key(std::string_view issuer, std::string_view list) {
  return "list/" + std::string(issuer) + "/" + std::string(list);
}

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

struct Stored {
  uint64_t size = 0;
  std::string lst;
};

Result<std::optional<Stored>> read_stored(const ledger::StateReader& state, std::string_view app,
                                          std::string_view issuer, std::string_view list) {
  auto doc = state.get_json(app, list_key(issuer, list));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<Stored>();
  auto size = ledger::get_uint(**doc, "size");
  auto lst = ledger::get_string(**doc, "lst");
  if (!size || !lst) {
    return Status::error("state.corrupt_value", "status list " + list_key(issuer, list) + " in " +
                                                    std::string(app) + " is malformed");
  }
  return std::optional<Stored>(Stored{*size, std::string(*lst)});
}

Status put_list(ledger::AppState& state, std::string_view app, std::string_view issuer,
                std::string_view list, const identity::StatusList& l, uint64_t height) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("bits", 2, a);
  d.AddMember("lst", str(l.encode(), a), a);
  d.AddMember("size", rapidjson::Value(static_cast<int64_t>(l.size())), a);
  d.AddMember("updated", rapidjson::Value(static_cast<int64_t>(height)), a);
  return state.put(app, list_key(issuer, list), d);
}

}  // namespace

std::string status_list_uri(std::string_view app, std::string_view issuer, std::string_view list) {
  return std::string(kUriPrefix) + std::string(app) + "/" + std::string(issuer) + "/" +
         std::string(list);
}

std::optional<StatusListName> parse_status_list_uri(std::string_view uri) {
  if (uri.substr(0, kUriPrefix.size()) != kUriPrefix) return std::nullopt;
  uri.remove_prefix(kUriPrefix.size());
  size_t a = uri.find('/');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = uri.find('/', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  StatusListName n{std::string(uri.substr(0, a)), std::string(uri.substr(a + 1, b - a - 1)),
                   std::string(uri.substr(b + 1))};
  if (!ledger::is_valid_name(n.app) || !identity::is_valid_did(n.issuer) ||
      !is_valid_list_id(n.list)) {
    return std::nullopt;
  }
  return n;
}

bool is_valid_list_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

Result<TxOutcome> status_list_op(std::string_view app, const ledger::Transaction& tx,
                                 const ledger::BlockContext& ctx, const ledger::StateReader& state,
                                 ledger::AppState* write) {
  const rapidjson::Value& args = tx.args();
  auto list = ledger::get_string(args, "list");
  if (!list || !is_valid_list_id(*list)) {
    return TxOutcome::fail(ledger::kCodeBadArgs, "list must be an id of [a-z0-9_-]{1,32}");
  }
  auto stored = read_stored(state, app, tx.from(), *list);
  if (!stored) return stored.status();

  if (tx.op() == "status_list_create") {
    if (!ledger::expect_members(args, {"list", "size"}).is_ok()) {
      return TxOutcome::fail(ledger::kCodeBadArgs, "args must be {\"list\": id, \"size\": n}");
    }
    auto size = ledger::get_uint(args, "size");
    if (!size || *size == 0 || *size > kStatusListSizeMax || *size % 4 != 0) {
      return TxOutcome::fail(ledger::kCodeBadArgs, "size must be a multiple of 4 in 4.." +
                                                       std::to_string(kStatusListSizeMax));
    }
    if (stored->has_value()) {
      return TxOutcome::fail(ledger::kCodeConflict, "list " + std::string(*list) + " exists");
    }
    if (write) {
      auto l = identity::StatusList::make(*size);
      if (!l) return l.status();
      IMI_RETURN_IF_ERROR(put_list(*write, app, tx.from(), *list, *l, ctx.height));
    }
    return TxOutcome::success();
  }

  // status_list_update
  if (!ledger::expect_members(args, {"list", "updates"}).is_ok()) {
    return TxOutcome::fail(ledger::kCodeBadArgs,
                           "args must be {\"list\": id, \"updates\": [[idx, status]...]}");
  }
  auto updates = ledger::get_array(args, "updates");
  if (!updates || (*updates)->Empty() || (*updates)->Size() > kStatusUpdatesMax) {
    return TxOutcome::fail(
        ledger::kCodeBadArgs,
        "updates must hold 1.." + std::to_string(kStatusUpdatesMax) + " [idx, status] pairs");
  }
  if (!stored->has_value()) {
    return TxOutcome::fail(ledger::kCodeNotFound, "no list " + std::string(*list));
  }
  auto l = identity::StatusList::decode((*stored)->lst, kStatusListSizeMax);
  if (!l) return Status::error("state.corrupt_value", l.status().to_string());
  for (const auto& u : (*updates)->GetArray()) {
    if (!u.IsArray() || u.Size() != 2 || !u[0].IsUint64() || !u[1].IsUint64() ||
        u[1].GetUint64() > 2) {
      return TxOutcome::fail(ledger::kCodeBadArgs,
                             "each update is [idx, status] with status 0, 1 or 2");
    }
    const uint64_t idx = u[0].GetUint64();
    auto now = l->get(idx);
    if (!now) {
      return TxOutcome::fail(kIdCodeOutOfRange, "index " + std::to_string(idx) + " is beyond " +
                                                    std::to_string(l->size()));
    }
    auto next = static_cast<identity::CredentialStatus>(u[1].GetUint64());
    if (*now == identity::CredentialStatus::kInvalid && next != *now) {
      return TxOutcome::fail(kIdCodeFinalStatus,
                             "entry " + std::to_string(idx) + " is revoked for good");
    }
    IMI_RETURN_IF_ERROR(l->set(idx, next));
  }
  if (write) IMI_RETURN_IF_ERROR(put_list(*write, app, tx.from(), *list, *l, ctx.height));
  return TxOutcome::success();
}

Result<std::optional<identity::StatusList>> read_status_list(const ledger::StateReader& state,
                                                             std::string_view app,
                                                             std::string_view issuer,
                                                             std::string_view list) {
  auto stored = read_stored(state, app, issuer, list);
  if (!stored) return stored.status();
  if (!stored->has_value()) return std::optional<identity::StatusList>();
  auto l = identity::StatusList::decode((*stored)->lst, kStatusListSizeMax);
  if (!l) return Status::error("state.corrupt_value", l.status().to_string());
  return std::optional<identity::StatusList>(std::move(*l));
}

Result<std::optional<std::string>> status_list_json(const ledger::StateReader& state,
                                                    std::string_view app, std::string_view issuer,
                                                    std::string_view list) {
  auto stored = read_stored(state, app, issuer, list);
  if (!stored) return stored.status();
  if (!stored->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(R"({"bits":2,"lst":")" + (*stored)->lst + "\"}");
}

}  // namespace imi::apps
