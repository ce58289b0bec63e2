// The node's own metrics for GET /metrics (Prometheus text format 0.0.4):
// height, view, view changes, mempool size, transactions admitted and
// rejected by reason (the Status code), committed transactions, and a
// histogram of block commit time (from cutting a block to its synced write).
// Thread-safe: counters are atomics, the rest sits under one mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace imi::node {

// Where one block's time went on this node, from the moment it began on the
// block (cut it as primary, or received the proposal) to its durable write.
struct BlockPhases {
  uint64_t height = 0;
  uint64_t txs = 0;
  uint64_t view = 0;
  bool cut_here = false;  // this node proposed it
  double execute_s = 0;   // decode, check and execute (the primary: cut and execute)
  double votes_s = 0;     // waiting for the quorum's votes, and for the loop thread
  double write_s = 0;     // the synced write of the block and its state
  double total_s() const { return execute_s + votes_s + write_s; }
};

// The log line for a block slower than `threshold_ms`, e.g. "slow block 12
// (850 txs, view 0): 412 ms from receiving it to its durable commit: execute
// 120 ms, votes and queueing 250 ms, write 42 ms (over [consensus]
// slow_block_ms = 100)".
std::string slow_block_line(const BlockPhases& p, uint64_t threshold_ms);

struct Gauges {
  uint64_t height = 0;
  uint64_t view = 0;
  uint64_t mempool_txs = 0;
  uint64_t mempool_bytes = 0;
  uint64_t sig_cache_size = 0;
  // Consensus signatures the engine found checked already (on the verify pool).
  uint64_t consensus_sigs_prechecked = 0;
};

class NodeMetrics {
 public:
  static constexpr std::array<double, 12> kCommitBucketsS = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  void admitted() { admitted_.fetch_add(1, std::memory_order_relaxed); }
  void rejected(std::string_view code);
  // A peer's frame or request this node dropped or refused (p2p.* a frame
  // that does not decode, sync.* a block request refused or a synced block
  // that fails its checks): not transactions, so not in imi_txs_rejected_total.
  void peer_dropped(std::string_view code);
  void view_changed() { view_changes_.fetch_add(1, std::memory_order_relaxed); }
  void block_committed(const BlockPhases& phases);

  std::string render(const Gauges& g) const;

 private:
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> view_changes_{0};
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::map<std::string, uint64_t> rejected_;
  std::map<std::string, uint64_t> peer_dropped_;
  std::array<uint64_t, kCommitBucketsS.size() + 1> commit_counts_{};
  double commit_sum_s_ = 0;
  double execute_sum_s_ = 0;
  double votes_sum_s_ = 0;
  double write_sum_s_ = 0;
  uint64_t blocks_ = 0;
  uint64_t committed_txs_ = 0;
};

}  // namespace imi::node
