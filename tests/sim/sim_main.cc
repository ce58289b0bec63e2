// imi_sim: runs the consensus simulator.
//   imi_sim --scenario NAME|all [--seed S] [--seeds N] [--ed25519] [--verbose]
//   imi_sim --scenario NAME --seeds N --expect-violation   (broken-quorum self-test)
//   imi_sim --figures                                       (numbers for the report)
// A failing seed prints the exact command that replays it.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "tests/sim/simulator.h"

using namespace imi::sim;

namespace {

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

int figures() {
  // Messages per block and blocks per CPU second: n = 4, no faults.
  uint64_t msgs = 0, blocks = 0;
  double cpu = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Scenario s = *make_scenario("normal", seed, false);
    s.validators = 4;
    s.loss = s.duplicate = 0;
    s.tick_speeds = false;
    s.delay_min_ms = 1;
    s.delay_max_ms = 20;
    s.fault_ms = 0;
    s.liveness_ms = 10000;
    double t0 = cpu_seconds();
    RunResult r = run_scenario(s);
    cpu += cpu_seconds() - t0;
    if (!r.ok()) {
      std::printf("figures run failed (seed %llu)\n", static_cast<unsigned long long>(seed));
      return 1;
    }
    msgs += r.stats.messages;
    blocks += r.stats.committed_height;
  }
  std::printf("n=4, no faults, 5 seeds x 10 s simulated: %llu blocks, %llu messages\n",
              static_cast<unsigned long long>(blocks), static_cast<unsigned long long>(msgs));
  std::printf("messages per committed block (n=4): %.1f\n", double(msgs) / double(blocks));
  std::printf("simulated committed blocks per CPU second (n=4, stand-in signer): %.0f\n",
              double(blocks) / cpu);
  // Ticks (10 ms each) from the primary's crash to the first commit of a
  // block proposed after it.
  uint64_t min_t = ~0ull, max_t = 0, sum = 0, runs = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Scenario s = *make_scenario("normal", seed, false);
    s.validators = 4;
    s.loss = s.duplicate = 0;
    s.tick_speeds = false;
    s.fault_ms = 0;
    s.liveness_ms = 8000;
    s.liveness_blocks = 0;
    s.crash_primary_at_ms = 3000;
    RunResult r = run_scenario(s);
    if (!r.ok() || r.stats.first_commit_after_crash_ms == 0) {
      std::printf("primary-crash run failed (seed %llu)\n", static_cast<unsigned long long>(seed));
      return 1;
    }
    uint64_t ticks = (r.stats.first_commit_after_crash_ms - s.crash_primary_at_ms) / 10;
    min_t = std::min(min_t, ticks);
    max_t = std::max(max_t, ticks);
    sum += ticks;
    ++runs;
  }
  std::printf(
      "ticks to resume commits after the primary crashes (n=4, timeout 12 ticks, 20 seeds): "
      "min %llu, mean %.1f, max %llu\n",
      static_cast<unsigned long long>(min_t), double(sum) / double(runs),
      static_cast<unsigned long long>(max_t));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario = "all";
  uint64_t seed = 1, seeds = 1;
  bool ed25519 = false, expect_violation = false, verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--scenario") {
      scenario = next();
    } else if (a == "--seed") {
      seed = std::stoull(next());
    } else if (a == "--seeds") {
      seeds = std::stoull(next());
    } else if (a == "--ed25519") {
      ed25519 = true;
    } else if (a == "--expect-violation") {
      expect_violation = true;
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--figures") {
      return figures();
    } else {
      std::fprintf(stderr,
                   "usage: %s [--scenario NAME|all] [--seed S] [--seeds N] [--ed25519] "
                   "[--expect-violation] [--verbose] | --figures\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<std::string> names =
      scenario == "all" ? scenario_names() : std::vector<std::string>{scenario};
  int failures = 0;
  uint64_t agreement_violations = 0;
  for (const std::string& name : names) {
    uint64_t ok = 0, heights = 0, view_changes = 0, evidence = 0, drops = 0;
    uint64_t fired = 0, deadline_only = 0, capped = 0, late_max = 0;
    double t0 = cpu_seconds();
    for (uint64_t s = seed; s < seed + seeds; ++s) {
      auto sc = make_scenario(name, s, ed25519);
      if (!sc) {
        std::fprintf(stderr, "unknown scenario '%s'\n", name.c_str());
        return 2;
      }
      sc->stop_at_first_violation = !expect_violation;
      RunResult r = run_scenario(*sc);
      heights += r.stats.committed_height;
      view_changes += r.stats.view_changes;
      evidence += r.stats.evidence;
      drops += r.stats.drops;
      fired += r.stats.deadlines_fired;
      deadline_only += r.stats.deadline_only_blocks;
      capped += r.stats.deadline_capped_blocks;
      late_max = std::max(late_max, r.stats.deadline_late_max_ms);
      for (const auto& v : r.violations)
        if (v.rfind("agreement", 0) == 0) ++agreement_violations;
      if (verbose) {
        std::printf(
            "  seed %llu n=%u: height %llu, %llu messages, %llu view changes, %llu deadlines "
            "fired (%llu blocks only for them), latest %llu ms after due\n",
            static_cast<unsigned long long>(s), sc->validators,
            static_cast<unsigned long long>(r.stats.committed_height),
            static_cast<unsigned long long>(r.stats.messages),
            static_cast<unsigned long long>(r.stats.view_changes),
            static_cast<unsigned long long>(r.stats.deadlines_fired),
            static_cast<unsigned long long>(r.stats.deadline_only_blocks),
            static_cast<unsigned long long>(r.stats.deadline_late_max_ms));
      }
      if (r.ok()) {
        ++ok;
        continue;
      }
      if (!expect_violation) ++failures;
      std::string behaviors;
      for (size_t i = 0; i < sc->behavior.size(); ++i)
        if (sc->behavior[i] != Behavior::kHonest)
          behaviors += " " + std::to_string(i) + ":" + behavior_name(sc->behavior[i]);
      std::printf("%s scenario=%s seed=%llu n=%u byzantine=[%s ]\n",
                  expect_violation ? "VIOLATION (expected)" : "FAIL", name.c_str(),
                  static_cast<unsigned long long>(s), sc->validators, behaviors.c_str());
      for (const auto& v : r.violations) std::printf("  %s\n", v.c_str());
      if (!r.liveness_failure.empty()) std::printf("  %s\n", r.liveness_failure.c_str());
      std::printf("  replay: %s --scenario %s --seed %llu%s\n", argv[0], name.c_str(),
                  static_cast<unsigned long long>(s), ed25519 ? " --ed25519" : "");
    }
    std::printf(
        "scenario %-10s %s: %llu/%llu seeds ok, mean height %.1f, %llu view changes, "
        "%llu evidence, %llu drops, %llu deadlines fired (%llu blocks only for them, %llu at the "
        "bound, latest %llu ms after due), %.1f s CPU\n",
        name.c_str(), ed25519 ? "ed25519" : "fast", static_cast<unsigned long long>(ok),
        static_cast<unsigned long long>(seeds), double(heights) / double(seeds),
        static_cast<unsigned long long>(view_changes), static_cast<unsigned long long>(evidence),
        static_cast<unsigned long long>(drops), static_cast<unsigned long long>(fired),
        static_cast<unsigned long long>(deadline_only), static_cast<unsigned long long>(capped),
        static_cast<unsigned long long>(late_max), cpu_seconds() - t0);
  }
  if (expect_violation) {
    std::printf("agreement violations found: %llu\n",
                static_cast<unsigned long long>(agreement_violations));
    return agreement_violations > 0 ? 0 : 1;
  }
  return failures == 0 ? 0 : 1;
}
