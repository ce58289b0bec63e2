#include "ledger/genesis.h"

#include <algorithm>
#include <set>

#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/json.h"
#include "ledger/transaction.h"

namespace imi::ledger {
namespace {

struct LimitSpec {
  std::string_view name;
  int64_t min;
  int64_t max;
};

// Ranges keep every node able to hold a block in memory and keep the
// records decodable; governance changes stay inside them too.
constexpr LimitSpec kLimitSpecs[] = {
    {"block_bytes_max", 1024, 256ll << 20},
    {"block_txs_max", 1, 100000},
    {"json_depth_max", 2, 64},
    {"json_members_max", 4, 65536},
    {"json_string_bytes_max", 16, 1 << 20},
    {"tx_bytes_max", 256, 16 << 20},
};

Status bad_field(std::string_view field, std::string_view what) {
  return Status::error("genesis.bad_field",
                       "genesis member \"" + std::string(field) + "\" " + std::string(what));
}

Status rename(const Status& s, std::string_view field) {
  if (s.code().starts_with("json.")) return bad_field(field, ": " + s.message());
  return s;
}

}  // namespace

const std::vector<std::string_view>& limit_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const auto& s : kLimitSpecs) v.push_back(s.name);
    return v;
  }();
  return names;
}

Status set_limit(ValidityLimits& limits, std::string_view name, int64_t value) {
  const LimitSpec* spec = nullptr;
  for (const auto& s : kLimitSpecs) {
    if (s.name == name) spec = &s;
  }
  if (spec == nullptr) {
    return Status::error("genesis.bad_field", "unknown limit \"" + std::string(name) + "\"");
  }
  if (value < spec->min || value > spec->max) {
    return Status::error("genesis.bad_limit", std::string(name) + " must be in [" +
                                                  std::to_string(spec->min) + ", " +
                                                  std::to_string(spec->max) + "]");
  }
  if (name == "tx_bytes_max") limits.tx_bytes_max = static_cast<size_t>(value);
  if (name == "block_bytes_max") limits.block_bytes_max = static_cast<size_t>(value);
  if (name == "block_txs_max") limits.block_txs_max = static_cast<size_t>(value);
  if (name == "json_depth_max") limits.json_depth_max = static_cast<int>(value);
  if (name == "json_string_bytes_max") limits.json_string_bytes_max = static_cast<size_t>(value);
  if (name == "json_members_max") limits.json_members_max = static_cast<size_t>(value);
  return Status::ok();
}

Result<ValidityLimits> limits_from_json(const rapidjson::Value& object, ValidityLimits base) {
  if (!object.IsObject()) return bad_field("limits", "must be an object");
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (!it->value.IsInt64()) return bad_field("limits." + std::string(name), "must be an integer");
    IMI_RETURN_IF_ERROR(set_limit(base, name, it->value.GetInt64()));
  }
  return base;
}

rapidjson::Document limits_to_json(const ValidityLimits& l) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("block_bytes_max", static_cast<int64_t>(l.block_bytes_max), a);
  d.AddMember("block_txs_max", static_cast<int64_t>(l.block_txs_max), a);
  d.AddMember("json_depth_max", static_cast<int64_t>(l.json_depth_max), a);
  d.AddMember("json_members_max", static_cast<int64_t>(l.json_members_max), a);
  d.AddMember("json_string_bytes_max", static_cast<int64_t>(l.json_string_bytes_max), a);
  d.AddMember("tx_bytes_max", static_cast<int64_t>(l.tx_bytes_max), a);
  return d;
}

Hash32 Genesis::hash() const { return sha256(canonical_); }

Result<Genesis> Genesis::parse(std::string_view text) {
  JsonLimits jl;
  jl.max_bytes = kGenesisBytesMax;
  jl.max_members = kGenesisRolesMax;
  auto parsed = parse_strict(text, jl);
  if (!parsed) return parsed.status();
  const rapidjson::Document& doc = *parsed;
  if (!doc.IsObject()) return bad_field("(top level)", "must be an object");
  if (Status s = expect_members(doc, {"v", "chain", "time", "validators"},
                                {"roles", "limits", "block_time", "rules_version", "apps"});
      !s.is_ok()) {
    return Status::error("genesis.bad_field", s.message());
  }
  auto v = get_int(doc, "v");
  if (!v || *v != 1) return bad_field("v", "must be the integer 1");
  auto chain = get_string(doc, "chain");
  if (!chain) return rename(chain.status(), "chain");
  if (!is_valid_chain_id(*chain))
    return bad_field("chain", "is not a chain id ([a-z0-9._-], 1..64)");
  auto time = get_uint(doc, "time");
  if (!time) return rename(time.status(), "time");

  auto vals = get_array(doc, "validators");
  if (!vals) return rename(vals.status(), "validators");
  if ((*vals)->Size() == 0 || (*vals)->Size() > kGenesisValidatorsMax) {
    return bad_field("validators", "must list 1.." + std::to_string(kGenesisValidatorsMax));
  }
  auto set = ValidatorSet::from_json(**vals);
  if (!set) return set.status();

  Genesis g(std::move(set).value());
  g.chain_ = std::string(*chain);
  g.time_ms_ = *time;

  if (has_field(doc, "roles")) {
    auto roles = get_array(doc, "roles");
    if (!roles) return rename(roles.status(), "roles");
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& r : (*roles)->GetArray()) {
      if (!expect_members(r, {"role", "did"}).is_ok()) {
        return bad_field("roles", "entries must be {\"role\",\"did\"}");
      }
      auto role = get_string(r, "role");
      auto did = get_string(r, "did");
      if (!role || !is_valid_name(*role)) return bad_field("roles", "has a malformed role name");
      if (!did || !identity::is_valid_did(*did)) return bad_field("roles", "has a malformed did");
      if (!seen.emplace(std::string(*role), std::string(*did)).second) {
        return Status::error(
            "genesis.duplicate_role",
            "role " + std::string(*role) + " is granted to " + std::string(*did) + " twice");
      }
      g.roles_.push_back({std::string(*role), std::string(*did)});
    }
  }
  if (has_field(doc, "limits")) {
    auto limits = limits_from_json(doc["limits"]);
    if (!limits) return limits.status();
    g.limits_ = *limits;
  }
  if (has_field(doc, "block_time")) {
    const rapidjson::Value& bt = doc["block_time"];
    if (!expect_members(bt, {}, {"delta_ms", "empty_block_period_ms", "deadlines_per_block_max"})
             .is_ok()) {
      return bad_field("block_time",
                       "may hold only delta_ms, empty_block_period_ms and deadlines_per_block_max");
    }
    if (has_field(bt, "deadlines_per_block_max")) {
      auto n = get_uint(bt, "deadlines_per_block_max");
      if (!n || *n == 0 || *n > kDeadlinesPerBlockLimit)
        return bad_field("block_time.deadlines_per_block_max",
                         "must be an integer in 1.." + std::to_string(kDeadlinesPerBlockLimit));
      g.block_time_.deadlines_per_block_max = *n;
    }
    if (has_field(bt, "delta_ms")) {
      auto d = get_uint(bt, "delta_ms");
      if (!d || *d == 0) return bad_field("block_time.delta_ms", "must be a positive integer");
      g.block_time_.delta_ms = *d;
    }
    if (has_field(bt, "empty_block_period_ms")) {
      auto t = get_uint(bt, "empty_block_period_ms");
      if (!t || *t == 0) {
        return bad_field("block_time.empty_block_period_ms", "must be a positive integer");
      }
      g.block_time_.empty_block_period_ms = *t;
    }
  }
  if (has_field(doc, "rules_version")) {
    auto rv = get_uint(doc, "rules_version");
    if (!rv || *rv == 0) return bad_field("rules_version", "must be a positive integer");
    g.rules_version_ = *rv;
  }
  if (has_field(doc, "apps")) {
    auto apps = get_object(doc, "apps");
    if (!apps) return bad_field("apps", "must be an object of app name -> parameters object");
    for (const auto& m : (*apps)->GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (!is_valid_name(name) || !m.value.IsObject())
        return bad_field("apps", "must map app names to parameter objects");
      g.app_params_[std::string(name)] = jcs(m.value);
    }
  }
  g.canonical_ = jcs(doc);
  return g;
}

Result<std::optional<rapidjson::Document>> Genesis::app_params(std::string_view app) const {
  auto it = app_params_.find(std::string(app));
  if (it == app_params_.end()) return std::optional<rapidjson::Document>();
  auto doc = parse_strict(it->second);
  if (!doc) return doc.status();
  return std::optional<rapidjson::Document>(std::move(doc).value());
}

}  // namespace imi::ledger
