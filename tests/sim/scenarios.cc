// The scenarios the simulator runs; each seed draws n and the fault details.
#include "base/sha256.h"
#include "consensus/types.h"
#include "tests/sim/simulator.h"

namespace imi::sim {

std::vector<std::string> scenario_names() {
  return {"normal",     "partition", "crash", "byzantine",
          "equivocate", "valset",    "mixed", "deadlines"};
}

namespace {

void make_byzantine(Scenario& s, Rng& r, bool equivocate_only) {
  const Behavior kinds[] = {Behavior::kSilent,      Behavior::kEquivocate, Behavior::kVoteAll,
                            Behavior::kGarbage,     Behavior::kReplay,     Behavior::kCensor,
                            Behavior::kBadDeadlines};
  s.behavior.assign(s.validators, Behavior::kHonest);
  uint64_t f = consensus::max_faulty(s.validators);
  for (uint64_t k = 0; k < f;) {
    uint32_t i = static_cast<uint32_t>(r.range(0, s.validators - 1));
    if (s.behavior[i] != Behavior::kHonest) continue;
    s.behavior[i] = equivocate_only ? Behavior::kEquivocate : kinds[r.range(0, 6)];
    ++k;
  }
}

}  // namespace

std::optional<Scenario> make_scenario(const std::string& name, uint64_t seed, bool ed25519) {
  Hash32 h = sha256(name);
  Rng r(seed ^ (uint64_t{h[0]} << 56 | uint64_t{h[1]} << 48 | uint64_t{h[2]} << 40 | h[3]));
  Scenario s;
  s.name = name;
  s.seed = seed;
  s.ed25519 = ed25519;
  const uint32_t sizes[] = {4, 5, 6, 7, 10};
  // Real Ed25519 costs ~50 us per verification: keep those runs small.
  s.validators = ed25519 ? sizes[r.range(0, 1)] : sizes[r.range(0, 4)];
  s.tick_speeds = r.chance(0.5);
  s.delay_min_ms = r.range(1, 3);
  s.delay_max_ms = r.range(5, 40);
  s.loss = 0.02;
  s.duplicate = 0.05;
  if (name == "normal") {
  } else if (name == "partition") {
    s.partitions = true;
    s.loss = 0.05;
  } else if (name == "crash") {
    s.crashes = true;
    s.crash_between_persist_and_send = 0.02;
  } else if (name == "byzantine") {
    make_byzantine(s, r, false);
    s.primary_byzantine = r.chance(0.5);
  } else if (name == "equivocate") {
    make_byzantine(s, r, true);
    s.primary_byzantine = true;
  } else if (name == "valset") {
    s.validators = 4;
    s.observers = 1;
    s.crashes = r.chance(0.5);
    s.crash_between_persist_and_send = 0.01;
    s.set_changes = {{6, {0, 1, 2, 3, 4}}, {16, {1, 2, 3, 4}}};
  } else if (name == "mixed") {
    make_byzantine(s, r, false);
    s.partitions = true;
    s.crashes = true;
    s.crash_between_persist_and_send = 0.01;
  } else if (name == "deadlines") {
    // An idle chain: a few transactions every second or few, so most blocks
    // are cut only because a deadline is due. Any of the faults may join.
    s.workload = Workload{r.range(1000, 3000), r.range(1, 8), 1};
    bool byzantine = r.chance(0.5);
    if (byzantine) make_byzantine(s, r, false);
    s.partitions = r.chance(0.3);
    s.crashes = r.chance(0.4);
    s.crash_between_persist_and_send = 0.01;
    // Once faults heal and blocks commit again, a deadline fires within about
    // a tick and a block. But replicas time out only on waiting transactions,
    // not on a due deadline (as in the engine and node): a silent primary
    // holds deadlines back until the next burst of transactions forces a
    // view change.
    s.deadline_bound_ms = byzantine ? s.workload.interval_ms + 2000 : 1000;
  } else {
    return std::nullopt;
  }
  return s;
}

}  // namespace imi::sim
