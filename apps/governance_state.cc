// Governance state records: validator schedule, limits, roles (see
// apps/governance.h for the layout).
#include "apps/governance_state.h"

#include <algorithm>

#include "ledger/json.h"

namespace imi::apps {
namespace gov {

using ledger::StateReader;

Status corrupt(std::string_view what) {
  return Status::error("state.corrupt_value",
                       "governance record " + std::string(what) + " is malformed");
}

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string role_key(std::string_view role, std::string_view did) {
  return "role/" + std::string(role) + "/" + std::string(did);
}

Result<std::vector<ScheduledSet>> read_schedule(const StateReader& state) {
  auto doc = state.get_json(kGovernanceApp, "validators");
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::vector<ScheduledSet>();
  const rapidjson::Value& v = **doc;
  auto sets = ledger::get_array(v, "sets");
  if (!sets) return corrupt("validators");
  std::vector<ScheduledSet> out;
  for (const auto& e : (*sets)->GetArray()) {
    auto from = ledger::get_uint(e, "from");
    auto vals = ledger::get_array(e, "validators");
    if (!from || !vals) return corrupt("validators");
    auto set = ledger::ValidatorSet::from_json(**vals);
    if (!set) return corrupt("validators");
    out.push_back({*from, std::move(set).value()});
  }
  return out;
}

rapidjson::Document schedule_to_json(const std::vector<ScheduledSet>& schedule) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value sets(rapidjson::kArrayType);
  for (const auto& s : schedule) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("from", rapidjson::Value(static_cast<int64_t>(s.from)), a);
    rapidjson::Value vals(rapidjson::kArrayType);
    for (const auto& v : s.set.validators()) {
      rapidjson::Value o(rapidjson::kObjectType);
      o.AddMember("id", str(v.id, a), a);
      o.AddMember("key", str(to_hex(v.key), a), a);
      vals.PushBack(o, a);
    }
    e.AddMember("validators", vals, a);
    sets.PushBack(e, a);
  }
  d.AddMember("sets", sets, a);
  return d;
}

Status schedule_set(ledger::AppState& state, ledger::ValidatorSet set, uint64_t from,
                    uint64_t now) {
  auto schedule = read_schedule(state);
  if (!schedule) return schedule.status();
  auto& s = *schedule;
  if (!s.empty() && s.back().from == from) {
    s.back().set = std::move(set);
  } else {
    s.push_back({from, std::move(set)});
  }
  // Drop sets that no longer apply at `now` or later.
  while (s.size() > 1 && s[1].from <= now) s.erase(s.begin());
  return state.put(kGovernanceApp, "validators", schedule_to_json(s));
}

Result<LimitsRecord> read_limits(const StateReader& state) {
  auto doc = state.get_json(kGovernanceApp, "limits");
  if (!doc) return doc.status();
  LimitsRecord r;
  if (!doc->has_value()) return r;
  const rapidjson::Value& v = **doc;
  auto base = ledger::get_object(v, "base");
  auto changes = ledger::get_array(v, "changes");
  if (!base || !changes) return corrupt("limits");
  auto limits = ledger::limits_from_json(**base);
  if (!limits) return corrupt("limits");
  r.base = *limits;
  for (const auto& c : (*changes)->GetArray()) {
    auto at = ledger::get_uint(c, "at");
    auto name = ledger::get_string(c, "name");
    auto value = ledger::get_int(c, "value");
    if (!at || !name || !value) return corrupt("limits");
    r.changes.push_back({*at, std::string(*name), *value});
  }
  return r;
}

Status write_limits(ledger::AppState& state, const LimitsRecord& r) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Document base = ledger::limits_to_json(r.base);
  rapidjson::Value b;
  b.CopyFrom(base, a);
  d.AddMember("base", b, a);
  rapidjson::Value changes(rapidjson::kArrayType);
  for (const auto& c : r.changes) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("at", rapidjson::Value(static_cast<int64_t>(c.at)), a);
    e.AddMember("name", str(c.name, a), a);
    e.AddMember("value", rapidjson::Value(c.value), a);
    changes.PushBack(e, a);
  }
  d.AddMember("changes", changes, a);
  return state.put(kGovernanceApp, "limits", d);
}

Result<ledger::ValidityLimits> fold_limits(const LimitsRecord& r, uint64_t height) {
  ledger::ValidityLimits l = r.base;
  for (const auto& c : r.changes) {
    if (c.at > height) break;  // sorted by at
    if (!ledger::set_limit(l, c.name, c.value).is_ok()) return corrupt("limits");
  }
  return l;
}

}  // namespace gov

Result<ledger::ValidatorSet> validator_set_at(const ledger::StateReader& state, uint64_t height) {
  auto schedule = gov::read_schedule(state);
  if (!schedule) return schedule.status();
  const gov::ScheduledSet* found = nullptr;
  for (const auto& s : *schedule) {
    if (s.from <= height) found = &s;
  }
  if (found == nullptr) {
    return Status::error("gov.no_validators",
                         "no validator set is recorded for height " + std::to_string(height));
  }
  return found->set;
}

Result<ledger::ValidityLimits> limits_at(const ledger::StateReader& state, uint64_t height) {
  auto r = gov::read_limits(state);
  if (!r) return r.status();
  return gov::fold_limits(*r, height);
}

Result<bool> has_role(const ledger::StateReader& state, std::string_view did,
                      std::string_view role) {
  auto v = state.get(kGovernanceApp, gov::role_key(role, did));
  if (!v) return v.status();
  return v->has_value();
}

Result<std::optional<std::string>> proposal_status(const ledger::StateReader& state,
                                                   std::string_view id_hex) {
  auto doc = state.get_json(kGovernanceApp, "proposal/" + std::string(id_hex));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<std::string>();
  auto status = ledger::get_string(**doc, "status");
  if (!status) return gov::corrupt("proposal");
  return std::optional<std::string>(std::string(*status));
}

}  // namespace imi::apps
