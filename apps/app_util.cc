#include "apps/app_util.h"

#include "identity/keys.h"
#include "ledger/json.h"

namespace imi::apps::util {

TxOutcome bad(std::string_view field, std::string_view what) {
  return TxOutcome::fail(ledger::kCodeBadArgs, std::string(field) + ": " + std::string(what));
}

void set(rapidjson::Value& obj, std::string_view name, rapidjson::Value value, Alloc& a) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it != obj.MemberEnd()) {
    it->value = value;
  } else {
    obj.AddMember(str(name, a), value, a);
  }
}

std::string str_of(const rapidjson::Value& obj, std::string_view name) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

int64_t int_of(const rapidjson::Value& obj, std::string_view name, int64_t def) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return def;
  return it->value.GetInt64();
}

bool bool_of(const rapidjson::Value& obj, std::string_view name) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

bool is_valid_token(std::string_view s, bool colon) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [colon](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || (colon && c == ':');
  });
}

bool is_valid_id(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_valid_did(std::string_view s) { return identity::is_valid_did(s); }

std::optional<TxOutcome> expect_args(const rapidjson::Value& args,
                                     std::initializer_list<std::string_view> required,
                                     std::initializer_list<std::string_view> optional) {
  Status s = ledger::expect_members(args, required, optional);
  if (s.is_ok()) return std::nullopt;
  // The json.* message names the field.
  return TxOutcome::fail(ledger::kCodeBadArgs, "args: " + s.message());
}

Result<std::string> string_arg(const rapidjson::Value& args, std::string_view field,
                               bool (*valid)(std::string_view)) {
  auto v = ledger::get_string(args, field);
  if (!v || (valid && !valid(*v))) return Status::error("bad", std::string(field) + ": malformed");
  return std::string(*v);
}

Result<std::string> id_arg(const rapidjson::Value& args, std::string_view field) {
  return string_arg(args, field, &is_valid_id);
}

std::optional<TxOutcome> text_arg(const rapidjson::Value& args, std::string_view field,
                                  uint64_t max, bool required, std::string& out,
                                  int64_t too_long_code) {
  if (!ledger::has_field(args, field)) {
    if (required) return bad(field, "missing");
    return std::nullopt;
  }
  auto v = ledger::get_string(args, field);
  if (!v) return bad(field, "must be a string");
  if (v->empty()) return bad(field, "must be 1.." + std::to_string(max) + " bytes");
  if (v->size() > max)
    return TxOutcome::fail(too_long_code,
                           std::string(field) + ": must be 1.." + std::to_string(max) + " bytes");
  out = std::string(*v);
  return std::nullopt;
}

Result<std::optional<rapidjson::Document>> read(const ledger::StateReader& state,
                                                std::string_view app, std::string_view key) {
  return state.get_json(app, key);
}

Status write(ledger::AppState& w, std::string_view app, std::string_view key,
             const rapidjson::Value& value) {
  return w.put(app, key, value);
}

Status write_ref(ledger::AppState& w, std::string_view app, std::string_view key,
                 std::string_view id) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("id", str(id, d.GetAllocator()), d.GetAllocator());
  return w.put(app, key, d);
}

Status erase(ledger::AppState& w, std::string_view app, std::string_view key) {
  return w.erase(app, key);
}

void emit(ledger::AppState& w, rapidjson::Document& ev, std::string_view type) {
  set(ev, "type", str(type, ev.GetAllocator()), ev.GetAllocator());
  w.emit(ev);
}

rapidjson::Document event_of(std::string_view name, std::string_view value) {
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember(str(name, ev.GetAllocator()), str(value, ev.GetAllocator()), ev.GetAllocator());
  return ev;
}

Status bad_params(std::string_view app, std::string message) {
  return Status::error(std::string(app) + ".bad_params",
                       "genesis apps." + std::string(app) + ": " + std::move(message));
}

Result<std::optional<rapidjson::Document>> genesis_params(const ledger::Genesis& genesis,
                                                          std::string_view app) {
  auto given = genesis.app_params(app);
  if (!given) return bad_params(app, given.status().message());
  return given;
}

Result<std::string> query_param(const ledger::QueryParams& params, std::string_view name,
                                bool (*valid)(std::string_view), std::string_view what) {
  auto it = params.find(name);
  if (it == params.end() || !valid(it->second))
    return Status::error("query.bad_param", std::string(name) + " must be " + std::string(what));
  return it->second;
}

std::string last_segment(const ledger::IndexEntry& e) { return e.key.substr(e.key.rfind('/') + 1); }

}  // namespace imi::apps::util
