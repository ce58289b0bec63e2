// Delegation (DESIGN "What every workflow app shares"): a resident (the
// principal) grants another DID (the delegate) the right to send
// transactions on the principal's behalf, within a scope and until an
// expiry; e.g. a daughter handling her elderly mother's affairs from her
// own phone. The delegate signs with her own key and nonce, and names the
// principal in the transaction's "on_behalf_of"; the record keeps both.
//
// App "delegation" (built into every chain; the executor reads its state):
//   grant  {"delegate": did, "scope": [s, ...], "expires": ms,
//           "matters"?: [id, ...]}                      sent by the principal
//     scope entries are "<app>" (every op of the app) or "<app>/<op>",
//     1..kDelegationScopeMax distinct; "delegation" itself is never in scope
//     (only a principal grants or revokes). matters (optional, up to
//     kDelegationScopeMax ids of 1..64 [A-Za-z0-9._:-]) narrow the grant for
//     apps that act on matters (approval); other apps ignore them.
//     expires: a block time after the current one, at most
//     kDelegationLifetimeMaxMs ahead. Granting again replaces the grant.
//   revoke {"delegate": did}                            sent by the principal
//     takes effect at once: the next transaction of the delegate in the same
//     block already fails.
// State:
//   "<principal>/<delegate>" -> {"delegate","expires","granted_at","matters"?,
//                                "principal","scope":[...]}
//   "to/<delegate>/<principal>" -> {"expires"}         (the delegate's view)
// Events: {"type":"delegation_granted"|"delegation_revoked","principal","delegate"}
// Codes: 2 unknown op, 3 bad args (the message names the field), 5 revoke of
// a grant that does not exist, 6 a principal delegating to itself.
// Queries: "granted" ?principal=did (the principal's grants) and "held"
// ?delegate=did (grants the delegate holds).
//
// A transaction with on_behalf_of runs only if check_delegation() accepts
// it; otherwise its result is code 4 (kCodeForbidden) with the reason, and
// the delegate's nonce is used as for any failed transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/app.h"

namespace imi::ledger {

constexpr std::string_view kDelegationApp = "delegation";
constexpr size_t kDelegationScopeMax = 32;
constexpr uint64_t kDelegationLifetimeMaxMs = 5ull * 366 * 24 * 3600 * 1000;  // ~5 years

struct Delegation {
  std::string principal, delegate;
  std::vector<std::string> scope;    // "<app>" or "<app>/<op>"
  std::vector<std::string> matters;  // empty: any
  uint64_t expires_ms = 0;
  uint64_t granted_at_ms = 0;
  // Whether the scope covers `app`'s `op`.
  bool covers(std::string_view app, std::string_view op) const;
  // Whether `matter` is within the grant (no matters listed: every matter).
  bool covers_matter(std::string_view matter) const;
};

// The grant from `principal` to `delegate`, nullopt if none (expired grants
// are returned as they are: the caller compares expires_ms with block time).
Result<std::optional<Delegation>> find_delegation(const StateReader& state,
                                                  std::string_view principal,
                                                  std::string_view delegate);

// Whether `tx` (which names on_behalf_of) may run for its principal at
// `ctx`: success, or code kCodeForbidden with the reason (no grant, expired,
// out of scope, or the app does not take delegated transactions:
// `app_accepts` false).
Result<TxOutcome> check_delegation(const Transaction& tx, const BlockContext& ctx,
                                   const StateReader& state, bool app_accepts);

class DelegationApp : public App {
 public:
  std::string_view name() const override { return kDelegationApp; }
  Result<TxOutcome> check(const Transaction& tx, const BlockContext& ctx,
                          const StateReader& state) const override;
  Result<TxOutcome> apply(const Transaction& tx, const BlockContext& ctx,
                          AppState& state) const override;
  bool indexed() const override { return true; }
  Result<QueryPage> query(std::string_view name, const QueryParams& params, std::string_view cursor,
                          size_t limit, const IndexReader& index) const override;
  std::vector<std::string> query_names() const override { return {"granted", "held"}; }
};

}  // namespace imi::ledger
