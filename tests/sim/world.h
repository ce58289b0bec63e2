// Internal to the simulator: the world of nodes, network and events.
#pragma once

#include "tests/sim/checker.h"
#include "tests/sim/simulator.h"

namespace imi::sim {

using consensus::Engine;
using consensus::Ready;

struct StoredBlock {
  Hash32 block{};
  Bytes payload;
  uint64_t time_ms = 0;
  consensus::CommitCertificate cert;
};

struct Node {
  uint32_t idx = 0;
  SimKey key;
  Behavior behavior = Behavior::kHonest;
  std::unique_ptr<consensus::Signer> signer;
  std::unique_ptr<Engine> engine;
  bool up = true;
  uint64_t epoch = 0;  // bumped by each crash: stale local events are ignored
  uint64_t tick_ms = 10;
  int64_t skew_ms = 0;
  // Survives crashes (the node's disk): the ledger and the consensus state.
  std::vector<StoredBlock> chain;  // chain[i] is height i + 1
  std::optional<Bytes> durable;
  bool sync_pending = false;  // one block sync at a time, like a real node
  // Derived from the chain.
  std::set<uint64_t> included;
  uint64_t next_unincluded = 0;
  Deadlines deadlines;  // pending
  // Byzantine bookkeeping.
  std::vector<Bytes> recorded;
  std::set<std::tuple<uint64_t, uint64_t, Hash32, int>> voted_all;  // (height, view, block, phase)
  std::map<std::pair<uint64_t, uint64_t>, std::pair<Hash32, Hash32>> alt_blocks;  // equivocation
  bool honest() const { return behavior == Behavior::kHonest; }
};

enum class EventType {
  kDeliver,
  kTick,
  kRestart,
  kPropose,
  kVerdict,
  kSync,
  kPartition,
  kHeal,
  kCrash
};

struct Event {
  uint64_t time = 0;
  uint64_t seq = 0;
  EventType type = EventType::kTick;
  uint32_t node = 0;
  uint32_t from = 0;
  uint64_t epoch = 0;
  uint64_t a = 0, b = 0;
  bool flag = false;
  Hash32 hash{};
  Bytes bytes;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

class World {
 public:
  explicit World(const Scenario& s);
  RunResult run();

  // Used by byzantine.cc.
  const Scenario& scenario() const { return s_; }
  Rng& rng() { return rng_; }
  std::vector<Node>& nodes() { return nodes_; }
  const std::string& chain_id() const { return chain_id_; }
  void transmit(uint32_t from, uint32_t to, Bytes bytes);
  void broadcast(uint32_t from, const Bytes& bytes);
  uint64_t node_now(const Node& n) const;

 private:
  void schedule(Event e);
  void feed(Node& n, Ready r);
  void route(Node& n, const consensus::Outbound& out);
  void store_block(Node& n, uint64_t height, const Hash32& block, const Bytes& payload,
                   uint64_t time_ms, const consensus::CommitCertificate& cert);
  std::vector<Hash32> pending_refs(const Node& n) const;
  std::vector<uint64_t> pending_txs(const Node& n, size_t max) const;
  LedgerView ledger_view(const Node& n, uint64_t time_ms) const;
  bool valid_next(const Node& n, uint64_t height, const BlockBody& body) const;
  void on_deliver(Node& n, const Event& e);
  void on_tick(Node& n);
  void on_propose(Node& n, const Event& e);
  void on_verdict(Node& n, const Event& e);
  void on_sync(Node& n, const Event& e);
  void crash(Node& n, bool restart);
  void restart(Node& n);
  void start_engine(Node& n);
  consensus::ValidatorSet set_of(const std::vector<uint32_t>& members) const;
  consensus::ValidatorSchedule schedule_for(const Node& n) const;
  std::optional<std::vector<uint32_t>> due_set_change(const Node& n) const;
  bool reachable(uint32_t a, uint32_t b) const;
  bool faulty_phase() const { return now_ < s_.fault_ms; }

  // byzantine.cc
  void byzantine_route(Node& n, const consensus::Outbound& out);
  void byzantine_receive(Node& n, const Bytes& bytes);
  void byzantine_tick(Node& n);
  void byzantine_deadlines(const Node& n, BlockBody& b);

  Scenario s_;
  Rng rng_;
  KeyRing ring_;
  std::string chain_id_ = "imi-sim";
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::vector<int> side_;  // partition side per node
  Checker checker_;
  RunStats stats_;
  consensus::Options options_;
  Hash32 genesis_{};
  std::optional<uint64_t> crash_height_;  // figures: decided height when the primary crashed
};

inline constexpr size_t kBatchMax = 40;

}  // namespace imi::sim
