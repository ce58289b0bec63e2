#include "ledger/deadlines.h"

#include <cstdio>

#include "ledger/json.h"

namespace imi::ledger {

bool is_valid_deadline_key(std::string_view key) {
  return !key.empty() && key.size() <= kDeadlineKeyBytesMax &&
         key.find('\0') == std::string_view::npos;
}

DeadlineKeys deadline_keys(std::string_view app, std::string_view key, uint64_t time_ms) {
  char t[17];
  std::snprintf(t, sizeof t, "%016llu", static_cast<unsigned long long>(time_ms));
  DeadlineKeys k;
  k.at = "at/" + std::string(t) + "/" + std::string(app) + "/" + std::string(key);
  k.by = "by/" + std::string(app) + "/" + std::string(key);
  return k;
}

std::string deadline_at_value(std::string_view app, std::string_view key, uint64_t time_ms) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("app", rapidjson::Value(app.data(), static_cast<rapidjson::SizeType>(app.size()), a),
              a);
  d.AddMember("key", rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size()), a),
              a);
  d.AddMember("time", rapidjson::Value(static_cast<int64_t>(time_ms)), a);
  return jcs(d);
}

std::string deadline_by_value(uint64_t time_ms) {
  return "{\"time\":" + std::to_string(time_ms) + "}";
}

Result<std::optional<uint64_t>> pending_deadline(const StateReader& state, std::string_view app,
                                                 std::string_view key) {
  auto doc = state.get_json(kDeadlineNamespace, deadline_keys(app, key, 0).by);
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<uint64_t>();
  auto t = get_uint(**doc, "time");
  if (!t)
    return Status::error("state.corrupt_value", "deadline record of " + std::string(app) + "/" +
                                                    std::string(key) + " is malformed");
  return std::optional<uint64_t>(*t);
}

Result<DueDeadline> parse_deadline_entry(const IndexEntry& entry) {
  auto corrupt =
      Status::error("state.corrupt_value", "deadline entry " + entry.key + " is malformed");
  auto doc = parse_strict(entry.value);
  if (!doc) return corrupt;
  auto app = get_string(*doc, "app");
  auto key = get_string(*doc, "key");
  auto time = get_uint(*doc, "time");
  if (!app || !key || !time) return corrupt;
  DueDeadline d{std::string(*app), std::string(*key), *time};
  if (deadline_keys(d.app, d.key, d.time_ms).at != entry.key) return corrupt;
  return d;
}

}  // namespace imi::ledger
