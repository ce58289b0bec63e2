#include "ledger/validators.h"

#include <algorithm>
#include <set>

#include "base/sha256.h"
#include "ledger/json.h"

namespace imi::ledger {

Result<ValidatorSet> ValidatorSet::make(std::vector<Validator> validators) {
  if (validators.empty())
    return Status::error("validators.empty", "a validator set needs at least one validator");
  std::sort(validators.begin(), validators.end(),
            [](const Validator& a, const Validator& b) { return a.id < b.id; });
  std::set<identity::PublicKey> keys;
  for (size_t i = 0; i < validators.size(); ++i) {
    const Validator& v = validators[i];
    if (!identity::is_valid_did(v.id))
      return Status::error("validators.bad_id", "validator id \"" + v.id + "\" is not a did:imi");
    if (!identity::is_valid_public_key(v.key))
      return Status::error("validators.invalid_key",
                           "validator " + v.id + " has an invalid Ed25519 key");
    if (i > 0 && validators[i - 1].id == v.id)
      return Status::error("validators.duplicate", "validator " + v.id + " is listed twice");
    if (!keys.insert(v.key).second)
      return Status::error("validators.duplicate_key",
                           "validator " + v.id + " shares its key with another validator");
  }
  ValidatorSet set;
  set.validators_ = std::move(validators);
  set.hash_ = sha256(set.canonical());
  return set;
}

Result<ValidatorSet> ValidatorSet::from_json(const rapidjson::Value& array) {
  if (!array.IsArray())
    return Status::error("validators.bad_json", "validators must be an array of {\"id\",\"key\"}");
  std::vector<Validator> out;
  out.reserve(array.Size());
  for (const auto& e : array.GetArray()) {
    Status members = expect_members(e, {"id", "key"});
    if (!members.is_ok()) return Status::error("validators.bad_json", members.message());
    auto id = get_string(e, "id");
    if (!id) return Status::error("validators.bad_json", id.status().message());
    auto key = get_hex32(e, "key");
    if (!key) return Status::error("validators.bad_json", key.status().message());
    out.push_back(Validator{std::string(*id), *key});
  }
  return make(std::move(out));
}

const Validator* ValidatorSet::find(std::string_view id) const {
  int64_t i = index_of(id);
  return i < 0 ? nullptr : &validators_[static_cast<size_t>(i)];
}

int64_t ValidatorSet::index_of(std::string_view id) const {
  auto it = std::lower_bound(validators_.begin(), validators_.end(), id,
                             [](const Validator& v, std::string_view x) { return v.id < x; });
  if (it == validators_.end() || it->id != id) return -1;
  return it - validators_.begin();
}

std::string ValidatorSet::canonical() const {
  // Ids are checked did:imi strings and keys lowercase hex, neither needs
  // escaping, and "id" sorts before "key": this text is the JCS.
  std::string out = "[";
  for (size_t i = 0; i < validators_.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"id\":\"" + validators_[i].id + "\",\"key\":\"" + to_hex(validators_[i].key) + "\"}";
  }
  out += ']';
  return out;
}

}  // namespace imi::ledger
