// Internal to the governance app: reading and writing its state records
// (layout in apps/governance.h).
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "apps/governance.h"

namespace imi::apps::gov {

struct ScheduledSet {
  uint64_t from = 0;  // first height this set signs
  ledger::ValidatorSet set;
};

struct LimitChange {
  uint64_t at = 0;
  std::string name;
  int64_t value = 0;
};

struct LimitsRecord {
  ledger::ValidityLimits base;
  std::vector<LimitChange> changes;  // sorted by at, then by enactment
};

Status corrupt(std::string_view what);
rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a);
std::string role_key(std::string_view role, std::string_view did);

Result<std::vector<ScheduledSet>> read_schedule(const ledger::StateReader& state);
rapidjson::Document schedule_to_json(const std::vector<ScheduledSet>& schedule);
// Records `set` as the one signing from height `from` (replacing a set
// scheduled for that same height) and prunes sets not in force at `now` or later.
Status schedule_set(ledger::AppState& state, ledger::ValidatorSet set, uint64_t from, uint64_t now);

Result<LimitsRecord> read_limits(const ledger::StateReader& state);
Status write_limits(ledger::AppState& state, const LimitsRecord& record);
Result<ledger::ValidityLimits> fold_limits(const LimitsRecord& record, uint64_t height);

}  // namespace imi::apps::gov
