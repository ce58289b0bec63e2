#include "node/metrics.h"

#include <doctest/doctest.h>

namespace imi::node {
namespace {

BlockPhases phases(bool cut_here) {
  BlockPhases p;
  p.height = 12;
  p.txs = 850;
  p.view = 3;
  p.cut_here = cut_here;
  p.execute_s = 0.120;
  p.votes_s = 0.2504;
  p.write_s = 0.0416;
  return p;
}

TEST_CASE("the slow-block line names the block and each phase in whole milliseconds") {
  CHECK(slow_block_line(phases(false), 100) ==
        "slow block 12 (850 txs, view 3): 412 ms from receiving it to its durable commit: "
        "execute 120 ms, votes and queueing 250 ms, write 42 ms (over [consensus] "
        "slow_block_ms = 100)");
  CHECK(slow_block_line(phases(true), 250).find("from cutting it to its durable commit") !=
        std::string::npos);
}

TEST_CASE("committed blocks fill the commit histogram and the per-phase totals") {
  NodeMetrics m;
  m.block_committed(phases(false));  // 0.412 s: in the 0.5 bucket
  BlockPhases quick;
  quick.txs = 1;
  quick.execute_s = 0.001;
  quick.write_s = 0.002;  // 0.003 s: in the 0.005 bucket
  m.block_committed(quick);
  const std::string text = m.render(Gauges{});
  CHECK(text.find("imi_txs_committed_total 851\n") != std::string::npos);
  CHECK(text.find("imi_block_commit_seconds_count 2\n") != std::string::npos);
  CHECK(text.find("imi_block_commit_seconds_bucket{le=\"0.0025\"} 0\n") != std::string::npos);
  CHECK(text.find("imi_block_commit_seconds_bucket{le=\"0.005\"} 1\n") != std::string::npos);
  CHECK(text.find("imi_block_commit_seconds_bucket{le=\"0.25\"} 1\n") != std::string::npos);
  CHECK(text.find("imi_block_commit_seconds_bucket{le=\"0.5\"} 2\n") != std::string::npos);
  CHECK(text.find("imi_block_phase_seconds_total{phase=\"execute\"} 0.121\n") != std::string::npos);
  CHECK(text.find("imi_block_phase_seconds_total{phase=\"votes\"} 0.2504\n") != std::string::npos);
  CHECK(text.find("imi_block_phase_seconds_total{phase=\"write\"} 0.0436\n") != std::string::npos);
}

TEST_CASE("peers' dropped frames are counted apart from rejected transactions") {
  NodeMetrics m;
  m.rejected("tx.bad_signature");
  m.peer_dropped("sync.serve_busy");
  m.peer_dropped("sync.serve_busy");
  m.peer_dropped("p2p.bad_frame");
  const std::string text = m.render(Gauges{});
  CHECK(text.find("imi_txs_rejected_total{reason=\"tx.bad_signature\"} 1\n") != std::string::npos);
  CHECK(text.find("imi_peer_messages_dropped_total{reason=\"sync.serve_busy\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("imi_peer_messages_dropped_total{reason=\"p2p.bad_frame\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("imi_txs_rejected_total{reason=\"sync.") == std::string::npos);
  CHECK(text.find("# TYPE imi_peer_messages_dropped_total counter\n") != std::string::npos);
}

}  // namespace
}  // namespace imi::node
