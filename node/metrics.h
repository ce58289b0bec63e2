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

struct Gauges {
  uint64_t height = 0;
  uint64_t view = 0;
  uint64_t mempool_txs = 0;
  uint64_t mempool_bytes = 0;
  uint64_t sig_cache_size = 0;
};

class NodeMetrics {
 public:
  static constexpr std::array<double, 12> kCommitBucketsS = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  void admitted() { admitted_.fetch_add(1, std::memory_order_relaxed); }
  void rejected(std::string_view code);
  void view_changed() { view_changes_.fetch_add(1, std::memory_order_relaxed); }
  void block_committed(double seconds, uint64_t txs);

  std::string render(const Gauges& g) const;

 private:
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> view_changes_{0};
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::map<std::string, uint64_t> rejected_;
  std::array<uint64_t, kCommitBucketsS.size() + 1> commit_counts_{};
  double commit_sum_s_ = 0;
  uint64_t blocks_ = 0;
  uint64_t committed_txs_ = 0;
};

}  // namespace imi::node
