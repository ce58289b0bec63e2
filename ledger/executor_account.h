// Accounts and the stateful half of the sender rule (DESIGN "sender rule").
//
// State: app "account", key = the DID, value
//   {"keys":[hex64, ...], "nonce": n}
// where keys are the account's current public keys (sorted, distinct) and
// nonce is the next nonce the account must use.
//
// Sender rule, checked for every transaction before its app runs:
//   - no account yet: the transaction must have nonce 0 and from = did(key);
//     it creates the account with keys [key] (exec.bad_nonce, tx.key_mismatch)
//   - account exists: key must be one of its current keys
//     (exec.key_not_current) and nonce must equal its next nonce
//     (exec.bad_nonce)
// A transaction that breaks the rule never enters a block: a proposer must
// leave it out, and a block holding one is invalid (the proposer's fault).
// This is what lets the mempool and the censorship timer reason about "the
// next nonce" (DESIGN "Consensus"), and it makes every included
// transaction's nonce used exactly once, whatever its result code.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "identity/keys.h"
#include "ledger/app.h"
#include "ledger/transaction.h"

namespace imi::ledger {

constexpr std::string_view kAccountApp = "account";
// An account holds at most this many current keys.
constexpr size_t kAccountKeysMax = 16;

struct Account {
  uint64_t next_nonce = 0;
  std::vector<identity::PublicKey> keys;  // sorted, distinct
  bool has_key(const identity::PublicKey& key) const;
};

// The account `did`, nullopt if it has none yet. A stored value that is not a
// well-formed account is state.corrupt_value.
Result<std::optional<Account>> read_account(const StateReader& state, std::string_view did);
// {"keys":[...],"nonce":n}; keys are sorted and deduplicated here.
rapidjson::Document account_to_json(Account account);

// Checks the sender rule for `tx` against `state` and returns the account as
// it is after the transaction (nonce used; created if new). Errors: the codes
// above, or state.* when storage failed.
Result<Account> apply_sender_rule(const Transaction& tx, const StateReader& state);

}  // namespace imi::ledger
