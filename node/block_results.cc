#include "node/block_results.h"

#include "api/json_text.h"
#include "ledger/json.h"

namespace imi::node {
namespace {

bool string_is(const rapidjson::Value& v, std::string_view s) {
  return v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) == s;
}

bool event_matches(const rapidjson::Value& e, std::string_view skill, std::string_view cell) {
  if (!e.IsObject()) return false;
  if (!skill.empty()) {
    auto it = e.FindMember("skill");
    if (it == e.MemberEnd() || !string_is(it->value, skill)) return false;
  }
  if (!cell.empty()) {
    bool found = false;
    if (auto it = e.FindMember("cell"); it != e.MemberEnd()) found = string_is(it->value, cell);
    if (auto it = e.FindMember("cells"); !found && it != e.MemberEnd() && it->value.IsArray()) {
      for (const auto& c : it->value.GetArray()) {
        if (string_is(c, cell)) {
          found = true;
          break;
        }
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<DeadlineResult>> read_deadline_results(const ledger::Store& store,
                                                          uint64_t height, uint64_t tx_count,
                                                          size_t max) {
  std::vector<DeadlineResult> out;
  for (uint64_t pos = tx_count; out.size() < max && pos <= UINT32_MAX; ++pos) {
    auto text = store.result_json(height, static_cast<uint32_t>(pos));
    if (!text) {
      if (text.status().code() == "store.not_found") break;
      return text.status();
    }
    auto r = ledger::TxResult::decode(*text);
    if (!r) return r.status();
    if (!r->deadline())
      return Status::error("result.bad_deadline", "the result at position " + std::to_string(pos) +
                                                      " of block " + std::to_string(height) +
                                                      " is not a deadline's");
    out.push_back(DeadlineResult{static_cast<uint32_t>(pos), std::move(*r)});
  }
  return out;
}

std::string deadline_result_json(const DeadlineResult& d) {
  const ledger::FiredDeadline& fd = *d.result.deadline();
  return "{\"app\":" + api::json_quote(fd.app) + ",\"code\":" + std::to_string(d.result.code()) +
         ",\"events\":" + ledger::jcs(d.result.events()) + ",\"key\":" + api::json_quote(fd.key) +
         ",\"position\":" + std::to_string(d.position) + ",\"time\":" + std::to_string(fd.time_ms) +
         "}";
}

bool events_match(const rapidjson::Value& events, std::string_view skill, std::string_view cell) {
  if (skill.empty() && cell.empty()) return true;
  if (!events.IsArray()) return false;
  for (const auto& e : events.GetArray()) {
    if (event_matches(e, skill, cell)) return true;
  }
  return false;
}

}  // namespace imi::node
