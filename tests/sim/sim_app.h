// The simulator's application: a toy ledger whose blocks carry transaction
// numbers, a block time, the deadlines the block fires and optionally a
// validator-set change. Blocks are opaque to the engine: block id =
// SHA-256(payload).
//
// Deadlines mirror the ledger's rules (ledger/app.h "Deadlines"): some
// transactions schedule one (key = the transaction number) at a block time
// derived from their own, so the schedule is a pure function of the committed
// chain. At the start of each block, before its transactions, every deadline
// due at or before the block's time fires, in (time, key) order, at most
// kDeadlinesPerBlockMax per block (the rest fire in the next block). A block
// names the keys it fires; the application rejects any other list.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"

namespace imi::sim {

inline constexpr uint64_t kGenesisTimeMs = 1000;
inline constexpr uint64_t kDeadlinesPerBlockMax = 3;
inline constexpr uint64_t kDeadlineSpreadMs = 1200;  // a deadline is up to this far after its block

// The transactions every node sees: a burst of `burst` transactions every
// `interval_ms` of block time (the default: one every 15 ms). The same for
// every node, so "published by the block's time" is checkable by all. One
// transaction in `deadline_every` schedules a deadline.
struct Workload {
  uint64_t interval_ms = 15;
  uint64_t burst = 1;
  uint64_t deadline_every = 4;
  uint64_t published_at(uint64_t t_ms) const {
    return t_ms <= kGenesisTimeMs ? 0 : (t_ms - kGenesisTimeMs) / interval_ms * burst;
  }
  // The deadline transaction `tx` schedules when it is included in a block of
  // time `block_time_ms` (nullopt: none), at one of a few times in the
  // kDeadlineSpreadMs after the block, so that deadlines from one block
  // share times and the per-block bound comes into play.
  std::optional<uint64_t> deadline_of(uint64_t tx, uint64_t block_time_ms) const {
    if (tx % deadline_every != 0) return std::nullopt;
    return block_time_ms + tx * 389 % kDeadlineSpreadMs / 200 * 200;
  }
};

struct BlockBody {
  uint64_t height = 0;
  Hash32 parent{};
  uint64_t time_ms = 0;
  uint32_t proposer = 0;
  std::vector<uint64_t> txs;                        // strictly increasing
  std::vector<uint64_t> fired;                      // deadline keys, in (time, key) order
  std::optional<std::vector<uint32_t>> set_change;  // node indices, strictly increasing
  bool bad = false;                                 // a block the application must reject
  std::string salt;  // lets a Byzantine primary make a second, different valid block
};

Bytes encode_body(const BlockBody& b);
std::optional<BlockBody> parse_body(ByteView payload);
Hash32 block_id(ByteView payload);

// Pending deadlines as (time_ms, key): ordered as they fire.
using Deadlines = std::set<std::pair<uint64_t, uint64_t>>;

// The keys a block of time `time_ms` fires on top of `pending`.
std::vector<uint64_t> due_deadlines(const Deadlines& pending, uint64_t time_ms);
// Applies a block to the schedule: its fired keys leave, then its
// transactions' deadlines join. The block must have passed app_valid.
void apply_deadlines(Deadlines& pending, const BlockBody& b, const Workload& w);

// The application's state on top of which a block is checked.
struct LedgerView {
  const std::set<uint64_t>& included;  // transactions already in the chain
  const Deadlines& deadlines;          // pending deadlines
  uint64_t published = 0;              // transactions published by the block's time
};

// The application's check of a block on top of (height - 1, parent):
// well-formed, linked, not marked bad, transactions new and published, and
// exactly the due deadlines fired.
bool app_valid(const BlockBody& b, uint64_t height, const Hash32& parent, const LedgerView& view);

}  // namespace imi::sim
