// A deterministic, single-threaded simulator that runs the real consensus
// engine for several nodes on a hostile network (STYLE: TigerBeetle's VOPR).
// Everything derives from one seed; the same seed replays the same run.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "consensus/engine.h"
#include "tests/sim/sim_app.h"
#include "tests/sim/sim_crypto.h"

namespace imi::sim {

// splitmix64: small, fast and fully determined by its seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }  // inclusive
  bool chance(double p) { return static_cast<double>(next() % 1000000) < p * 1000000.0; }

 private:
  uint64_t s_;
};

// kBadDeadlines: an honest engine whose proposals fire the wrong deadlines
// (one omitted, one invented, or one fired before its time).
enum class Behavior {
  kHonest,
  kSilent,
  kEquivocate,
  kVoteAll,
  kGarbage,
  kReplay,
  kCensor,
  kBadDeadlines
};
const char* behavior_name(Behavior b);

struct Scenario {
  std::string name;
  uint64_t seed = 0;
  bool ed25519 = false;
  uint32_t validators = 4;         // nodes 0..validators-1 form the genesis set
  uint32_t observers = 0;          // further nodes that start outside the set
  std::vector<Behavior> behavior;  // per node
  uint64_t delay_min_ms = 1, delay_max_ms = 25;
  double loss = 0, duplicate = 0;
  bool partitions = false;
  bool crashes = false;
  double crash_between_persist_and_send = 0;  // per Ready of an honest node
  bool tick_speeds = false;                   // nodes tick at 5..25 ms instead of 10
  uint64_t fault_ms = 4000;                   // faults happen in [0, fault_ms)
  uint64_t liveness_ms = 6000;                // then this long with every fault healed
  uint64_t liveness_blocks = 3;               // each honest node must commit this many more
  Workload workload;                          // the transactions every node sees
  // In the liveness phase, once blocks commit again, every deadline must fire
  // (commit) within this long after its time, or after the first commit for
  // one due earlier.
  uint64_t deadline_bound_ms = 3000;
  std::vector<std::pair<uint64_t, std::vector<uint32_t>>> set_changes;  // (from height, members)
  uint64_t crash_primary_at_ms = 0;     // figures: crash the primary once, never restart
  bool primary_byzantine = false;       // the primary of view 0 is one of the Byzantine nodes
  bool stop_at_first_violation = true;  // false: run on and collect every violation
};

// The scenarios CTest runs: normal, partition, crash, byzantine, equivocate,
// valset, mixed, deadlines. n is drawn from {4, 5, 6, 7, 10} by the seed.
std::optional<Scenario> make_scenario(const std::string& name, uint64_t seed, bool ed25519);
std::vector<std::string> scenario_names();

struct RunStats {
  uint64_t committed_height = 0;  // highest height an honest node committed
  uint64_t messages = 0;          // point-to-point transmissions
  uint64_t view_changes = 0;
  uint64_t evidence = 0;
  uint64_t drops = 0;
  uint64_t syncs = 0;
  uint64_t crashes = 0;
  uint64_t deadlines_fired = 0;         // in decided blocks
  uint64_t deadline_only_blocks = 0;    // decided blocks with no transaction that fire a deadline
  uint64_t deadline_capped_blocks = 0;  // decided blocks that left a due deadline to the next
  uint64_t deadline_late_max_ms = 0;    // liveness phase: worst commit time after a deadline's time
  // figures: first honest commit after crash_primary_at_ms (0: none)
  uint64_t first_commit_after_crash_ms = 0;
};

struct RunResult {
  std::vector<std::string> violations;  // safety: agreement, validity, certificates, evidence
  std::string liveness_failure;         // empty if every honest node made progress after heal
  RunStats stats;
  bool ok() const { return violations.empty() && liveness_failure.empty(); }
};

RunResult run_scenario(const Scenario& s);

}  // namespace imi::sim
