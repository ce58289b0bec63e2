// AppState and the StateReader helpers of ledger/app.h.
#include <cstdio>

#include "ledger/app.h"
#include "ledger/deadlines.h"
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

Result<TxOutcome> App::on_deadline(std::string_view key, const BlockContext&, AppState&) const {
  return TxOutcome::fail(kCodeUnknownOp,
                         "app " + std::string(name()) + " has no deadlines (key " +
                             std::string(key) + ")");
}

Result<QueryPage> App::query(std::string_view query_name, const QueryParams&, std::string_view,
                             size_t, const IndexReader&) const {
  return Status::error("query.unknown",
                       "app " + std::string(name()) + " has no query " + std::string(query_name));
}

Result<QueryPage> scan_query(const IndexReader& index, std::string_view app,
                             std::string_view prefix, std::string_view cursor, size_t limit,
                             std::string (*to_key)(const IndexEntry&)) {
  if (!cursor.empty() && !cursor.starts_with(prefix))
    return Status::error("query.bad_param",
                         "cursor is not from this query; start again without one");
  auto entries = index.scan(app, prefix, cursor, limit);
  if (!entries) return entries.status();
  QueryPage page;
  page.keys.reserve(entries->size());
  for (const auto& e : *entries) page.keys.push_back(to_key ? to_key(e) : e.key);
  if (limit > 0 && entries->size() == limit) page.next = entries->back().key;
  return page;
}

AppState::AppState(const StateReader& base, std::string app)
    : base_(base), app_(std::move(app)), events_(rapidjson::kArrayType) {}

Result<std::optional<std::string>> AppState::get(std::string_view app, std::string_view key) const {
  auto it = writes_.find({std::string(app), std::string(key)});
  if (it != writes_.end()) return it->second;
  return base_.get(app, key);
}

Status AppState::schedule(std::string_view key, uint64_t time_ms) {
  if (!is_valid_deadline_key(key) || time_ms > kDeadlineTimeMax)
    return Status::error("state.bad_deadline", "app " + app_ + " scheduled a malformed deadline");
  IMI_RETURN_IF_ERROR(cancel(key));
  DeadlineKeys k = deadline_keys(app_, key, time_ms);
  writes_[{std::string(kDeadlineNamespace), k.at}] = deadline_at_value(app_, key, time_ms);
  writes_[{std::string(kDeadlineNamespace), k.by}] = deadline_by_value(time_ms);
  return Status::ok();
}

Status AppState::cancel(std::string_view key) {
  auto t = deadline_of(key);
  if (!t) return t.status();
  if (!t->has_value()) return Status::ok();
  DeadlineKeys k = deadline_keys(app_, key, **t);
  writes_[{std::string(kDeadlineNamespace), k.at}] = std::nullopt;
  writes_[{std::string(kDeadlineNamespace), k.by}] = std::nullopt;
  return Status::ok();
}

Result<std::optional<uint64_t>> AppState::deadline_of(std::string_view key) const {
  return pending_deadline(*this, app_, key);
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
