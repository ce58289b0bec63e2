// The governance app: the chain's own rules as state — validators, roles,
// validity limits, block-time bounds — starting from genesis
// (ledger/genesis.h) and changed only by proposals that a quorum
// q = ⌊2n/3⌋+1 of the validators in force has approved.
//
// Ops (app "governance"; the sender must be a validator in force at the
// block's height, signing with that validator's current key):
//   propose {"action": A}      opens a proposal whose id is the tx id (hex);
//                              counts as the proposer's approval
//   approve {"proposal": id}   one approval per validator, each its own tx
// Actions A:
//   {"type":"grant_role",       "role": name, "did": did}
//   {"type":"revoke_role",      "role": name, "did": did}
//   {"type":"add_validator",    "id": did, "key": hex64}
//   {"type":"remove_validator", "id": did}
//   {"type":"rekey_validator",  "id": did, "key": hex64}
//   {"type":"set_limit",        "name": limit name, "value": int, "at": height}
// When approvals from members of the set in force reach its q, the action
// runs in that same block (height H):
//   roles change at once;
//   validator changes take effect from height H+2 (the header of block H+1
//   already names the new set as the one signing H+2);
//   a limit applies to blocks from height max(at, H+1).
// If the state no longer allows the action then (say the validator was
// already removed), the proposal is closed as "failed" with an event, and the
// approving transaction still succeeds.
//
// State (app "governance"):
//   "genesis"            {"hash","rules_version","delta_ms","empty_block_period_ms"}
//   "validators"         {"sets":[{"from":h,"validators":[{"id","key"}...]}...]}
//                        sets no longer in force at the latest height are pruned
//   "limits"             {"base":{...},"changes":[{"at":h,"name","value"}...]}
//   "role/<role>/<did>"  {"since":h}
//   "proposal/<id>"      {"action":A,"approvals":[did...],"by":did,"height":h,
//                         "status":"open"|"done"|"failed","closed_at"?:h}
// Events: {"type":"proposed","id"}, {"type":"approved","id","approvals","quorum"},
//   {"type":"enacted","id","effective":h}, {"type":"failed","id","reason"}.
//
// Result codes: kCodeUnknownOp (2), kCodeBadArgs (3), kCodeForbidden (4, the
// sender is not a validator in force or signs with another key),
// kCodeNotFound (5, no such proposal), kGovCodeAlreadyApproved (100),
// kGovCodeClosed (101, the proposal is no longer open),
// kGovCodeNotApplicable (102, the action cannot apply to the current state:
// granting a held role, revoking one not held, adding a member, removing or
// re-keying a non-member, removing the last validator, a key in use, or a
// limit height not above the current one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/app.h"
#include "ledger/genesis.h"
#include "ledger/limits.h"
#include "ledger/validators.h"

namespace imi::apps {

constexpr std::string_view kGovernanceApp = "governance";
constexpr int64_t kGovCodeAlreadyApproved = 100;
constexpr int64_t kGovCodeClosed = 101;
constexpr int64_t kGovCodeNotApplicable = 102;
// Heights between the block that enacts a validator change and the first
// block the new set signs.
constexpr uint64_t kValidatorChangeDelay = 2;

class GovernanceApp : public ledger::App {
 public:
  std::string_view name() const override { return kGovernanceApp; }
  Status init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const override;
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
};

// The validator set in force at `height` (the set that signs block `height`),
// as recorded in `state`. Answers for the heights from the set in force when
// `state` was written onwards. state.* errors if storage failed or the record
// is malformed; gov.no_validators if no set covers the height.
Result<ledger::ValidatorSet> validator_set_at(const ledger::StateReader& state, uint64_t height);

// The validity limits that apply to the block at `height`.
Result<ledger::ValidityLimits> limits_at(const ledger::StateReader& state, uint64_t height);

// Whether `did` holds `role` now.
Result<bool> has_role(const ledger::StateReader& state, std::string_view did,
                      std::string_view role);

// The status of proposal `id_hex` ("open", "done", "failed"), nullopt if none.
Result<std::optional<std::string>> proposal_status(const ledger::StateReader& state,
                                                   std::string_view id_hex);

}  // namespace imi::apps
