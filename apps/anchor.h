// The anchor app (DESIGN "Applications"): anyone records the SHA-256 of a
// document; the chain answers who anchored it, at which height and when.
// It is also the simplest transaction, used by benchmarks.
//
// op "anchor", args {"hash": hex64, "note"?: string of at most
// kAnchorNoteBytesMax bytes}. Stores under app "anchor", key = the hash hex:
//   {"by": did, "height": h, "time": block time ms, "tx": tx id hex, "note"?: ...}
// and emits {"type":"anchored","hash":hex64}.
//
// Result codes: kCodeUnknownOp (2), kCodeBadArgs (3, message names the
// member), kAnchorCodeDuplicate (100: that hash is already anchored, by anyone;
// the first anchor stands).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kAnchorApp = "anchor";
constexpr int64_t kAnchorCodeDuplicate = 100;
constexpr size_t kAnchorNoteBytesMax = 256;

struct AnchorRecord {
  std::string by;  // did of the sender
  uint64_t height = 0;
  uint64_t time_ms = 0;
  Hash32 tx{};
  std::optional<std::string> note;
};

class AnchorApp : public ledger::App {
 public:
  std::string_view name() const override { return kAnchorApp; }
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
};

// Who anchored `hash` and when; nullopt if nobody has. state.corrupt_value if
// the stored record is malformed, state.* if storage failed.
Result<std::optional<AnchorRecord>> anchor_lookup(const ledger::StateReader& state,
                                                  const Hash32& hash);

}  // namespace imi::apps
