#include "apps/identity_registry_status.h"

#include <algorithm>
#include <map>

#include "apps/identity_registry.h"
#include "identity/base64url.h"
#include "ledger/json.h"

namespace imi::apps {
namespace {

using ledger::TxOutcome;
constexpr std::string_view kUriPrefix = "imi:status-list/";
constexpr size_t kChunkBytes = kStatusChunkEntries / 4;

std::string list_key(std::string_view issuer, std::string_view list) {
  return "list/" + std::string(issuer) + "/" + std::string(list);
}
std::string chunk_key(std::string_view issuer, std::string_view list, uint64_t c) {
  return list_key(issuer, list) + "/" + std::to_string(c);
}

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Status corrupt(std::string_view app, std::string_view key) {
  return Status::error("state.corrupt_value", "status list record " + std::string(key) + " in " +
                                                  std::string(app) + " is malformed");
}

// The list's size in entries, nullopt if there is no such list.
Result<std::optional<uint64_t>> read_size(const ledger::StateReader& state, std::string_view app,
                                          std::string_view issuer, std::string_view list) {
  auto doc = state.get_json(app, list_key(issuer, list));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<uint64_t>();
  auto size = ledger::get_uint(**doc, "size");
  if (!size || *size == 0 || *size > kStatusListSizeMax || *size % 4 != 0) {
    return corrupt(app, list_key(issuer, list));
  }
  return std::optional<uint64_t>(*size);
}

// The raw bytes of chunk c (zeros if absent), `len` bytes long.
Result<Bytes> read_chunk(const ledger::StateReader& state, std::string_view app,
                         std::string_view issuer, std::string_view list, uint64_t c, size_t len) {
  const std::string key = chunk_key(issuer, list, c);
  auto doc = state.get_json(app, key);
  if (!doc) return doc.status();
  if (!doc->has_value()) return Bytes(len, 0);
  auto text = ledger::get_string(**doc, "bytes");
  auto raw = text ? identity::base64url_decode(*text) : std::nullopt;
  if (!raw || raw->size() != len) return corrupt(app, key);
  return std::move(*raw);
}

size_t chunk_len(uint64_t size, uint64_t c) {
  const uint64_t total = size / 4;
  return static_cast<size_t>(std::min<uint64_t>(kChunkBytes, total - c * kChunkBytes));
}

Status put_meta(ledger::AppState& state, std::string_view app, std::string_view issuer,
                std::string_view list, uint64_t size, uint64_t height) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("bits", 2, a);
  d.AddMember("size", rapidjson::Value(static_cast<int64_t>(size)), a);
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
  auto size = read_size(state, app, tx.from(), *list);
  if (!size) return size.status();

  if (tx.op() == "status_list_create") {
    if (!ledger::expect_members(args, {"list", "size"}).is_ok()) {
      return TxOutcome::fail(ledger::kCodeBadArgs, "args must be {\"list\": id, \"size\": n}");
    }
    auto n = ledger::get_uint(args, "size");
    if (!n || *n == 0 || *n > kStatusListSizeMax || *n % 4 != 0) {
      return TxOutcome::fail(ledger::kCodeBadArgs, "size must be a multiple of 4 in 4.." +
                                                       std::to_string(kStatusListSizeMax));
    }
    if (size->has_value()) {
      return TxOutcome::fail(ledger::kCodeConflict, "list " + std::string(*list) + " exists");
    }
    // All entries start valid: absent chunks are zeros, so only the record is written.
    if (write) IMI_RETURN_IF_ERROR(put_meta(*write, app, tx.from(), *list, *n, ctx.height));
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
  if (!size->has_value()) {
    return TxOutcome::fail(ledger::kCodeNotFound, "no list " + std::string(*list));
  }
  const uint64_t n = **size;
  std::map<uint64_t, Bytes> chunks;  // touched chunks, in order
  for (const auto& u : (*updates)->GetArray()) {
    if (!u.IsArray() || u.Size() != 2 || !u[0].IsUint64() || !u[1].IsUint64() ||
        u[1].GetUint64() > 2) {
      return TxOutcome::fail(ledger::kCodeBadArgs,
                             "each update is [idx, status] with status 0, 1 or 2");
    }
    const uint64_t idx = u[0].GetUint64();
    if (idx >= n) {
      return TxOutcome::fail(kIdCodeOutOfRange,
                             "index " + std::to_string(idx) + " is beyond " + std::to_string(n));
    }
    const uint64_t c = idx / kStatusChunkEntries;
    auto it = chunks.find(c);
    if (it == chunks.end()) {
      auto raw = read_chunk(state, app, tx.from(), *list, c, chunk_len(n, c));
      if (!raw) return raw.status();
      it = chunks.emplace(c, std::move(*raw)).first;
    }
    uint8_t& byte = it->second[(idx % kStatusChunkEntries) / 4];
    const int shift = static_cast<int>(2 * (idx % 4));
    const uint8_t now = (byte >> shift) & 3;
    const auto next = static_cast<uint8_t>(u[1].GetUint64());
    if (now == static_cast<uint8_t>(identity::CredentialStatus::kInvalid) && next != now) {
      return TxOutcome::fail(kIdCodeFinalStatus,
                             "entry " + std::to_string(idx) + " is revoked for good");
    }
    byte = static_cast<uint8_t>((byte & ~(3 << shift)) | (next << shift));
  }
  if (!write) return TxOutcome::success();
  for (const auto& [c, raw] : chunks) {
    const std::string key = chunk_key(tx.from(), *list, c);
    if (std::all_of(raw.begin(), raw.end(), [](uint8_t b) { return b == 0; })) {
      IMI_RETURN_IF_ERROR(write->erase(app, key));
      continue;
    }
    rapidjson::Document d(rapidjson::kObjectType);
    d.AddMember("bytes", str(identity::base64url_encode(raw), d.GetAllocator()), d.GetAllocator());
    IMI_RETURN_IF_ERROR(write->put(app, key, d));
  }
  IMI_RETURN_IF_ERROR(put_meta(*write, app, tx.from(), *list, n, ctx.height));
  return TxOutcome::success();
}

Result<std::optional<identity::StatusList>> read_status_list(const ledger::StateReader& state,
                                                             std::string_view app,
                                                             std::string_view issuer,
                                                             std::string_view list) {
  auto size = read_size(state, app, issuer, list);
  if (!size) return size.status();
  if (!size->has_value()) return std::optional<identity::StatusList>();
  const uint64_t n = **size;
  Bytes all;
  all.reserve(n / 4);
  for (uint64_t c = 0; c * kStatusChunkEntries < n; ++c) {
    auto raw = read_chunk(state, app, issuer, list, c, chunk_len(n, c));
    if (!raw) return raw.status();
    all.insert(all.end(), raw->begin(), raw->end());
  }
  auto l = identity::StatusList::from_bytes(std::move(all));
  if (!l) return corrupt(app, list_key(issuer, list));
  return std::optional<identity::StatusList>(std::move(*l));
}

Result<std::optional<identity::CredentialStatus>> read_status_entry(
    const ledger::StateReader& state, std::string_view app, std::string_view issuer,
    std::string_view list, uint64_t idx) {
  auto size = read_size(state, app, issuer, list);
  if (!size) return size.status();
  if (!size->has_value() || idx >= **size) return std::optional<identity::CredentialStatus>();
  const uint64_t c = idx / kStatusChunkEntries;
  auto raw = read_chunk(state, app, issuer, list, c, chunk_len(**size, c));
  if (!raw) return raw.status();
  const uint8_t v = ((*raw)[(idx % kStatusChunkEntries) / 4] >> (2 * (idx % 4))) & 3;
  if (v == 3) return corrupt(app, chunk_key(issuer, list, c));
  return std::optional<identity::CredentialStatus>(static_cast<identity::CredentialStatus>(v));
}

Result<std::optional<std::string>> status_list_json(const ledger::StateReader& state,
                                                    std::string_view app, std::string_view issuer,
                                                    std::string_view list) {
  auto l = read_status_list(state, app, issuer, list);
  if (!l) return l.status();
  if (!l->has_value()) return std::optional<std::string>();
  return std::optional<std::string>((*l)->to_json());
}

}  // namespace imi::apps
