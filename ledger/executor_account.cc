#include "ledger/executor_account.h"

#include <algorithm>

#include "ledger/json.h"

namespace imi::ledger {

bool Account::has_key(const identity::PublicKey& key) const {
  return std::binary_search(keys.begin(), keys.end(), key);
}

Result<std::optional<Account>> read_account(const StateReader& state, std::string_view did) {
  auto doc = state.get_json(kAccountApp, did);
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<Account>();
  const rapidjson::Value& v = **doc;
  auto corrupt = [&] {
    return Status::error("state.corrupt_value", "account " + std::string(did) + " is malformed");
  };
  if (!expect_members(v, {"keys", "nonce"}).is_ok()) return corrupt();
  auto nonce = get_uint(v, "nonce");
  auto keys = get_array(v, "keys");
  if (!nonce || !keys) return corrupt();
  Account a;
  a.next_nonce = *nonce;
  for (const auto& k : (*keys)->GetArray()) {
    if (!k.IsString()) return corrupt();
    auto key = from_hex_fixed<32>(std::string_view(k.GetString(), k.GetStringLength()));
    if (!key) return corrupt();
    a.keys.push_back(*key);
  }
  std::sort(a.keys.begin(), a.keys.end());
  return std::optional<Account>(std::move(a));
}

rapidjson::Document account_to_json(Account account) {
  std::sort(account.keys.begin(), account.keys.end());
  account.keys.erase(std::unique(account.keys.begin(), account.keys.end()), account.keys.end());
  rapidjson::Document d(rapidjson::kObjectType);
  auto& alloc = d.GetAllocator();
  rapidjson::Value keys(rapidjson::kArrayType);
  for (const auto& k : account.keys) {
    std::string hex = to_hex(k);
    keys.PushBack(
        rapidjson::Value(hex.c_str(), static_cast<rapidjson::SizeType>(hex.size()), alloc), alloc);
  }
  d.AddMember("keys", keys, alloc);
  d.AddMember("nonce", rapidjson::Value(static_cast<int64_t>(account.next_nonce)), alloc);
  return d;
}

Result<Account> apply_sender_rule(const Transaction& tx, const StateReader& state) {
  auto existing = read_account(state, tx.from());
  if (!existing) return existing.status();
  if (!existing->has_value()) {
    if (tx.nonce() != 0) {
      return Status::error("exec.bad_nonce", "account " + tx.from() +
                                                 " does not exist yet: its first transaction "
                                                 "must have nonce 0, not " +
                                                 std::to_string(tx.nonce()));
    }
    IMI_RETURN_IF_ERROR(tx.check_first_sender());
    Account a;
    a.next_nonce = 1;
    a.keys.push_back(tx.key());
    return a;
  }
  Account a = std::move(**existing);
  if (!a.has_key(tx.key())) {
    return Status::error("exec.key_not_current",
                         "key " + to_hex(tx.key()) + " is not a current key of " + tx.from());
  }
  if (tx.nonce() != a.next_nonce) {
    return Status::error("exec.bad_nonce", "account " + tx.from() + " expects nonce " +
                                               std::to_string(a.next_nonce) + ", not " +
                                               std::to_string(tx.nonce()));
  }
  ++a.next_nonce;
  return a;
}

}  // namespace imi::ledger
