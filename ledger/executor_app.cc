// AppState and the StateReader helpers of ledger/app.h.
#include "ledger/app.h"
#include "ledger/json.h"

namespace imi::ledger {

Result<std::optional<rapidjson::Document>> StateReader::get_json(std::string_view app,
                                                                 std::string_view key) const {
  auto raw = get(app, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<rapidjson::Document>();
  auto doc = parse_strict(**raw);
  if (!doc) {
    return Status::error("state.corrupt_value",
                         "stored value of " + std::string(app) + "/" + std::string(key) +
                             " is not strict JSON: " + doc.status().message());
  }
  return std::optional<rapidjson::Document>(std::move(doc).value());
}

Status App::init_genesis(const Genesis&, AppState&) const { return Status::ok(); }

AppState::AppState(const StateReader& base, std::string app)
    : base_(base), app_(std::move(app)), events_(rapidjson::kArrayType) {}

Result<std::optional<std::string>> AppState::get(std::string_view app, std::string_view key) const {
  auto it = writes_.find({std::string(app), std::string(key)});
  if (it != writes_.end()) return it->second;
  return base_.get(app, key);
}

Status AppState::check_namespace(std::string_view app) const {
  if (app == app_ || app == "account") return Status::ok();
  return Status::error("state.foreign_write",
                       "app " + app_ + " tried to write namespace " + std::string(app));
}

Status AppState::put(std::string_view app, std::string_view key, const rapidjson::Value& value) {
  IMI_RETURN_IF_ERROR(check_namespace(app));
  writes_[{std::string(app), std::string(key)}] = jcs(value);
  return Status::ok();
}

Status AppState::erase(std::string_view app, std::string_view key) {
  IMI_RETURN_IF_ERROR(check_namespace(app));
  writes_[{std::string(app), std::string(key)}] = std::nullopt;
  return Status::ok();
}

void AppState::emit(const rapidjson::Value& event) {
  rapidjson::Value copy;
  copy.CopyFrom(event, events_.GetAllocator());
  events_.PushBack(copy, events_.GetAllocator());
}

}  // namespace imi::ledger
