// The genesis file: what a chain starts from. Every node of a chain must load
// the same file; its hash is the state value "governance"/"genesis".
//
// Schema (strict JSON, an object with exactly these members; optional ones
// marked "?"):
//   {
//     "v": 1,
//     "chain": "imi-main",                 chain id (ledger/transaction.h rules)
//     "time": 1767225600000,               genesis block time, ms since the epoch
//     "validators": [{"id": did, "key": hex64}, ...],   1..kGenesisValidatorsMax
//     "roles"?: [{"role": name, "did": did}, ...],      roles granted at start
//     "limits"?: {"tx_bytes_max": int, "block_bytes_max": int,
//                 "block_txs_max": int, "json_depth_max": int,
//                 "json_string_bytes_max": int, "json_members_max": int},
//                                          any subset; the rest take the
//                                          ValidityLimits defaults
//     "block_time"?: {"delta_ms": int,     Δ: a replica votes only if
//                                          time ≤ its clock + Δ (default 2000)
//                     "empty_block_period_ms": int}
//                                          T: empty block at least every T while
//                                          a deadline is pending (default 1000)
//                     "deadlines_per_block_max": int}
//                                          deadlines fired per block at most
//                                          (default 256, 1..kDeadlinesPerBlockLimit)
//     "rules_version"?: int                version of the block rules (default 1)
//     "apps"?: {"<app>": {...}, ...}       each app's parameters (its limits),
//                                          read by that app's init_genesis(),
//                                          which checks them and writes them to
//                                          state (the share app's "params")
//   }
// A role name follows the app/op name rule ([a-z][a-z0-9_]{0,31}).
//
// Error codes: json.* (not strict JSON), genesis.bad_field (a member is
// missing, unknown or malformed; the message names it), validators.* (the
// validator list, see ledger/validators.h), genesis.duplicate_role (one
// (role, did) pair twice), genesis.bad_limit (a limit outside its range).
// An immutable value; thread-safe for concurrent reads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "ledger/limits.h"
#include "ledger/validators.h"

namespace imi::ledger {

constexpr size_t kGenesisValidatorsMax = 256;
constexpr size_t kGenesisRolesMax = 4096;
constexpr size_t kGenesisBytesMax = 1 << 20;

struct RoleGrant {
  std::string role;
  std::string did;
  bool operator==(const RoleGrant&) const = default;
};

// Block-time bounds (DESIGN "Consensus").
struct BlockTimeRules {
  uint64_t delta_ms = 2000;               // Δ
  uint64_t empty_block_period_ms = 1000;  // T
  uint64_t deadlines_per_block_max = 256;
};
constexpr uint64_t kDeadlinesPerBlockLimit = 10000;

class Genesis {
 public:
  static Result<Genesis> parse(std::string_view text);

  const std::string& chain() const { return chain_; }
  uint64_t time_ms() const { return time_ms_; }
  const ValidatorSet& validators() const { return validators_; }
  const std::vector<RoleGrant>& roles() const { return roles_; }
  const ValidityLimits& limits() const { return limits_; }
  const BlockTimeRules& block_time() const { return block_time_; }
  uint64_t rules_version() const { return rules_version_; }
  // The parameters object genesis gives `app` ("apps"), nullopt if none.
  Result<std::optional<rapidjson::Document>> app_params(std::string_view app) const;
  // JCS of the file as parsed, and its SHA-256.
  const std::string& canonical() const { return canonical_; }
  Hash32 hash() const;

 private:
  explicit Genesis(ValidatorSet validators) : validators_(std::move(validators)) {}

  std::string chain_;
  uint64_t time_ms_ = 0;
  ValidatorSet validators_;
  std::vector<RoleGrant> roles_;
  ValidityLimits limits_;
  BlockTimeRules block_time_;
  uint64_t rules_version_ = 1;
  std::map<std::string, std::string> app_params_;  // app -> JCS of its object
  std::string canonical_;
};

// ValidityLimits <-> {"tx_bytes_max":..., ...}. Reading starts from `base`
// and replaces the members present (genesis.bad_field for unknown names,
// genesis.bad_limit for values outside limit_range()).
Result<ValidityLimits> limits_from_json(const rapidjson::Value& object, ValidityLimits base = {});
rapidjson::Document limits_to_json(const ValidityLimits& limits);
// Sets limit `name` to `value`; genesis.bad_field for an unknown name,
// genesis.bad_limit for a value outside its range.
Status set_limit(ValidityLimits& limits, std::string_view name, int64_t value);
// The names of all limits, in JSON member order.
const std::vector<std::string_view>& limit_names();

}  // namespace imi::ledger
