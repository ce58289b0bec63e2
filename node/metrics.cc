#include "node/metrics.h"

#include <cstdio>
#include <sstream>

namespace imi::node {

void NodeMetrics::rejected(std::string_view code) {
  std::lock_guard lock(mu_);
  // Codes are a fixed vocabulary ("tx.bad_signature"), so the label set stays small.
  ++rejected_[std::string(code.substr(0, 64))];
}

void NodeMetrics::peer_dropped(std::string_view code) {
  std::lock_guard lock(mu_);
  ++peer_dropped_[std::string(code.substr(0, 64))];
}

std::string slow_block_line(const BlockPhases& p, uint64_t threshold_ms) {
  auto ms = [](double s) { return std::to_string(static_cast<uint64_t>(s * 1000 + 0.5)); };
  return "slow block " + std::to_string(p.height) + " (" + std::to_string(p.txs) + " txs, view " +
         std::to_string(p.view) + "): " + ms(p.total_s()) + " ms from " +
         (p.cut_here ? "cutting it" : "receiving it") + " to its durable commit: execute " +
         ms(p.execute_s) + " ms, votes and queueing " + ms(p.votes_s) + " ms, write " +
         ms(p.write_s) + " ms (over [consensus] slow_block_ms = " + std::to_string(threshold_ms) +
         ")";
}

void NodeMetrics::block_committed(const BlockPhases& p) {
  const double seconds = p.total_s();
  std::lock_guard lock(mu_);
  size_t i = 0;
  while (i < kCommitBucketsS.size() && seconds > kCommitBucketsS[i]) ++i;
  ++commit_counts_[i];
  commit_sum_s_ += seconds;
  execute_sum_s_ += p.execute_s;
  votes_sum_s_ += p.votes_s;
  write_sum_s_ += p.write_s;
  ++blocks_;
  committed_txs_ += p.txs;
}

std::string NodeMetrics::render(const Gauges& g) const {
  std::ostringstream o;
  auto gauge = [&](const char* name, const char* help, uint64_t v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
      << name << " " << v << "\n";
  };
  gauge("imi_height", "Height of the last committed block.", g.height);
  gauge("imi_view", "Current consensus view.", g.view);
  gauge("imi_mempool_txs", "Transactions waiting in the mempool.", g.mempool_txs);
  gauge("imi_mempool_bytes", "Bytes of transactions waiting in the mempool.", g.mempool_bytes);
  gauge("imi_sig_cache_entries", "Transaction ids whose signature was verified.", g.sig_cache_size);
  o << "# HELP imi_consensus_sigs_prechecked_total Consensus signatures the engine found already "
       "checked on the verify pool (not checked again on the loop thread).\n"
       "# TYPE imi_consensus_sigs_prechecked_total counter\nimi_consensus_sigs_prechecked_total "
    << g.consensus_sigs_prechecked << "\n";
  o << "# HELP imi_view_changes_total View changes since start.\n"
       "# TYPE imi_view_changes_total counter\nimi_view_changes_total "
    << view_changes_.load() << "\n";
  o << "# HELP imi_txs_admitted_total Transactions admitted to the mempool.\n"
       "# TYPE imi_txs_admitted_total counter\nimi_txs_admitted_total "
    << admitted_.load() << "\n";
  std::lock_guard lock(mu_);
  o << "# HELP imi_txs_rejected_total Transactions rejected, by reason code.\n"
       "# TYPE imi_txs_rejected_total counter\n";
  for (const auto& [code, n] : rejected_)
    o << "imi_txs_rejected_total{reason=\"" << code << "\"} " << n << "\n";
  o << "# HELP imi_peer_messages_dropped_total Frames and requests from peers dropped or refused, "
       "by reason code (p2p.*: a frame that does not decode; sync.serve_busy: a block request "
       "refused while others are being served; sync.bad_block: a synced block that fails its "
       "checks).\n"
       "# TYPE imi_peer_messages_dropped_total counter\n";
  for (const auto& [code, n] : peer_dropped_)
    o << "imi_peer_messages_dropped_total{reason=\"" << code << "\"} " << n << "\n";
  o << "# HELP imi_txs_committed_total Transactions committed.\n"
       "# TYPE imi_txs_committed_total counter\nimi_txs_committed_total "
    << committed_txs_ << "\n";
  o << "# HELP imi_block_commit_seconds Time from cutting a block (a backup: receiving it) to "
       "its synced write.\n"
       "# TYPE imi_block_commit_seconds histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < kCommitBucketsS.size(); ++i) {
    cum += commit_counts_[i];
    char le[32];
    std::snprintf(le, sizeof le, "%g", kCommitBucketsS[i]);
    o << "imi_block_commit_seconds_bucket{le=\"" << le << "\"} " << cum << "\n";
  }
  cum += commit_counts_.back();
  o << "imi_block_commit_seconds_bucket{le=\"+Inf\"} " << cum << "\n";
  o << "imi_block_commit_seconds_sum " << commit_sum_s_ << "\n";
  o << "imi_block_commit_seconds_count " << blocks_ << "\n";
  o << "# HELP imi_block_phase_seconds_total Time blocks spent in each phase: execute (decode, "
       "check, execute), votes (waiting for the quorum and the loop), write (the synced write).\n"
       "# TYPE imi_block_phase_seconds_total counter\n";
  o << "imi_block_phase_seconds_total{phase=\"execute\"} " << execute_sum_s_ << "\n";
  o << "imi_block_phase_seconds_total{phase=\"votes\"} " << votes_sum_s_ << "\n";
  o << "imi_block_phase_seconds_total{phase=\"write\"} " << write_sum_s_ << "\n";
  return o.str();
}

}  // namespace imi::node
