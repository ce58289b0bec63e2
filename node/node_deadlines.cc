// Node: deadlines on an idle chain (DESIGN "Consensus": while any app has a
// pending deadline, the primary proposes an empty block so it fires).
//
// Blocks are otherwise cut only when transactions wait (node.cc). A primary
// holding a propose request with an empty mempool cuts an empty block once
// the earliest pending deadline is due by the wall clock: the block's time
// is at least the wall clock, so the executor fires the deadline in it.
// Until then a timer wakes the loop at the deadline, and at least every
// empty_block_period_ms (genesis) while one is pending, since the wall clock
// the deadline is due by and the steady clock the timer runs on may drift
// apart. With no deadline pending the chain stays idle: no empty blocks.
//
// A primary that is down or silent would leave a due deadline waiting until
// the next transaction forces a view change. So each validator also reports
// a deadline due by more than Δ + empty_block_period_ms by its own clock
// (clocks agree within Δ, so an honest primary has cut the block by then) to
// the engine as waiting work, like a transaction passed over: past the view
// timeout the replicas change view and the new primary fires it.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/sha256.h"
#include "node/node.h"

namespace imi::node {
namespace {

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

void Node::refresh_next_deadline() {
  // A chain whose genesis fires no deadline per block would cut empty
  // blocks forever for a deadline that never fires.
  if (home_.genesis.block_time().deadlines_per_block_max == 0) {
    next_deadline_ms_.reset();
    return;
  }
  auto next = executor_->next_deadline();
  if (!next) {
    // A failed index read: the next commit reads again; meanwhile blocks are
    // cut only for transactions (deadlines still fire in those).
    std::fprintf(stderr, "imid: cannot read the next deadline: %s\n",
                 next.status().to_string().c_str());
    next_deadline_ms_.reset();
    return;
  }
  next_deadline_ms_ = *next;
}

std::optional<Hash32> Node::overdue_deadline_ref() const {
  if (!next_deadline_ms_) return std::nullopt;
  const ledger::BlockTimeRules& rules = home_.genesis.block_time();
  if (wall_ms() < *next_deadline_ms_ + rules.delta_ms + rules.empty_block_period_ms)
    return std::nullopt;
  // Stable while that deadline waits; gone once it fires (the next one has
  // another time, or there is none).
  const std::string tag = "IMI/deadline\n" + std::to_string(*next_deadline_ms_);
  return sha256(std::string_view(tag));
}

bool Node::deadline_due() const { return next_deadline_ms_ && *next_deadline_ms_ <= wall_ms(); }

void Node::wake_for_deadline() {
  if (!next_deadline_ms_ || failed_ || loop_closing_) return;
  const uint64_t now = wall_ms();
  const uint64_t period = std::max<uint64_t>(1, home_.genesis.block_time().empty_block_period_ms);
  const uint64_t wait_ms =
      *next_deadline_ms_ > now ? std::min(*next_deadline_ms_ - now, period) : 0;
  const auto at = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  // Already armed for no later than that: keep it (every commit calls here).
  if (deadline_wake_at_ && *deadline_wake_at_ <= at) return;
  deadline_wake_at_ = at;
  const uint64_t gen = ++deadline_timer_gen_;
  deadline_timer_.expires_at(at);
  deadline_timer_.async_wait([this, gen](boost::system::error_code ec) {
    if (ec || gen != deadline_timer_gen_) return;  // cancelled or re-armed
    deadline_wake_at_.reset();
    if (failed_ || loop_closing_ || !propose_request_) return;
    if (deadline_due()) {
      schedule_cut();
    } else {
      wake_for_deadline();
    }
  });
}

}  // namespace imi::node
