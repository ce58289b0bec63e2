// The simulated world: nodes running the real engine, a seeded network with
// faults, the application model, and the run loop with its safety and
// liveness checks.
#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "base/sha256.h"
#include "tests/sim/world.h"

namespace imi::sim {

using consensus::Committed;
using consensus::Outbound;

const char* behavior_name(Behavior b) {
  switch (b) {
    case Behavior::kHonest:
      return "honest";
    case Behavior::kSilent:
      return "silent";
    case Behavior::kEquivocate:
      return "equivocate";
    case Behavior::kVoteAll:
      return "vote-all";
    case Behavior::kGarbage:
      return "garbage";
    case Behavior::kReplay:
      return "replay";
    case Behavior::kCensor:
      return "censor";
    case Behavior::kBadDeadlines:
      return "bad-deadlines";
  }
  return "?";
}

namespace {

Hash32 tx_ref(uint64_t tx) { return sha256("tx/" + std::to_string(tx)); }

}  // namespace

World::World(const Scenario& s)
    : s_(s), rng_(s.seed * 0x2545f4914f6cdd1dull + 7), ring_(s.ed25519) {
  genesis_ = sha256(std::string_view("imi-sim genesis"));
  uint32_t total = s_.validators + s_.observers;
  nodes_.resize(total);
  std::vector<consensus::Validator> all;
  for (uint32_t i = 0; i < total; ++i) {
    Node& n = nodes_[i];
    n.idx = i;
    n.key = ring_.make(s_.seed, i);
    n.signer = ring_.signer(n.key);
    n.behavior = i < s_.behavior.size() ? s_.behavior[i] : Behavior::kHonest;
    n.tick_ms = s_.tick_speeds ? rng_.range(5, 25) : 10;
    n.skew_ms = static_cast<int64_t>(rng_.range(0, 100)) - 50;
    all.push_back(consensus::Validator{n.key.did, n.key.public_key});
  }
  side_.assign(total, 0);
  if (s_.primary_byzantine) {
    // Make the primary of view 0 (first DID in sort order) one of the Byzantine nodes.
    uint32_t primary = 0;
    for (uint32_t i = 1; i < s_.validators; ++i)
      if (nodes_[i].key.did < nodes_[primary].key.did) primary = i;
    for (uint32_t i = 0; i < s_.validators; ++i)
      if (!nodes_[i].honest() && nodes_[primary].honest())
        std::swap(nodes_[i].behavior, nodes_[primary].behavior);
  }
  std::vector<uint32_t> genesis_members;
  for (uint32_t i = 0; i < s_.validators; ++i) genesis_members.push_back(i);
  std::vector<bool> honest;
  for (const Node& n : nodes_) honest.push_back(n.honest());
  checker_.init(chain_id_, &ring_.verifier(), genesis_, all, genesis_members, s_.workload,
                std::move(honest));
  options_.chain_id = chain_id_;
  options_.checkpoint_interval = 5;
  options_.view_timeout_ticks = 12;
  options_.view_timeout_max_ticks = 100;
  options_.rebroadcast_ticks = 6;
  options_.censorship_blocks_max = 3;
  options_.block_time_future_max_ms = 500;
}

uint64_t World::node_now(const Node& n) const {
  return static_cast<uint64_t>(static_cast<int64_t>(now_ + kGenesisTimeMs) + n.skew_ms);
}

void World::schedule(Event e) {
  e.seq = seq_++;
  queue_.push(std::move(e));
}

consensus::ValidatorSet World::set_of(const std::vector<uint32_t>& members) const {
  std::vector<consensus::Validator> v;
  for (uint32_t m : members) v.push_back({nodes_[m].key.did, nodes_[m].key.public_key});
  auto set = consensus::ValidatorSet::create(std::move(v));
  assert(set.is_ok());
  return std::move(set).value();
}

consensus::ValidatorSchedule World::schedule_for(const Node& n) const {
  std::vector<uint32_t> genesis;
  for (uint32_t i = 0; i < s_.validators; ++i) genesis.push_back(i);
  consensus::ValidatorSchedule sched(set_of(genesis));
  for (size_t i = 0; i < n.chain.size(); ++i) {
    auto body = parse_body(n.chain[i].payload);
    if (body && body->set_change)
      sched.add(i + 1 + consensus::kValidatorSetDelay, set_of(*body->set_change));
  }
  return sched;
}

void World::start_engine(Node& n) {
  consensus::Options o = options_;
  o.self = n.key.did;
  consensus::ChainTip tip;
  tip.block = genesis_;
  tip.time_ms = kGenesisTimeMs;
  if (!n.chain.empty()) {
    const StoredBlock& b = n.chain.back();
    tip = consensus::ChainTip{n.chain.size(), b.block, b.time_ms, b.cert.view, b.cert};
  }
  std::optional<consensus::DurableState> durable;
  if (n.durable) {
    auto d = consensus::decode_durable(*n.durable);
    if (!d)
      return checker_.violation("restart: node " + std::to_string(n.idx) +
                                " cannot read its durable state: " + d.status().to_string());
    durable = std::move(*d);
  }
  auto e = Engine::create(o, *n.signer, ring_.verifier(), tip, schedule_for(n), durable);
  if (!e)
    return checker_.violation("restart: node " + std::to_string(n.idx) + ": " +
                              e.status().to_string());
  n.engine = std::move(*e);
  n.up = true;
  feed(n, n.engine->start());
}

std::vector<uint64_t> World::pending_txs(const Node& n, size_t max) const {
  std::vector<uint64_t> out;
  uint64_t published = s_.workload.published_at(node_now(n));
  for (uint64_t tx = n.next_unincluded; tx < published && out.size() < max; ++tx)
    if (n.included.count(tx) == 0) out.push_back(tx);
  return out;
}

LedgerView World::ledger_view(const Node& n, uint64_t time_ms) const {
  return LedgerView{n.included, n.deadlines, s_.workload.published_at(time_ms)};
}

bool World::valid_next(const Node& n, uint64_t height, const BlockBody& body) const {
  Hash32 parent = n.chain.empty() ? genesis_ : n.chain.back().block;
  return n.chain.size() + 1 == height &&
         app_valid(body, height, parent, ledger_view(n, body.time_ms));
}

std::vector<Hash32> World::pending_refs(const Node& n) const {
  std::vector<Hash32> refs;
  for (uint64_t tx : pending_txs(n, kBatchMax)) refs.push_back(tx_ref(tx));
  return refs;
}

std::optional<std::vector<uint32_t>> World::due_set_change(const Node& n) const {
  uint64_t height = n.chain.size() + 1;
  size_t done = 0;
  for (const auto& b : n.chain) {
    auto body = parse_body(b.payload);
    if (body && body->set_change) ++done;
  }
  // One change at a time, each after its height and after the previous took effect.
  if (done < s_.set_changes.size() && height >= s_.set_changes[done].first) {
    for (size_t i = n.chain.size(); i > 0 && i + consensus::kValidatorSetDelay > height; --i) {
      auto body = parse_body(n.chain[i - 1].payload);
      if (body && body->set_change) return std::nullopt;
    }
    return s_.set_changes[done].second;
  }
  return std::nullopt;
}

void World::store_block(Node& n, uint64_t height, const Hash32& block, const Bytes& payload,
                        uint64_t time_ms, const consensus::CommitCertificate& cert) {
  if (height != n.chain.size() + 1)
    return checker_.violation("node " + std::to_string(n.idx) + " committed height " +
                              std::to_string(height) + " out of order");
  n.chain.push_back(StoredBlock{block, payload, time_ms, cert});
  if (n.honest()) checker_.on_commit(n.idx, height, block, payload, cert, now_);
  stats_.committed_height = std::max(stats_.committed_height, n.honest() ? height : 0);
  // Figures: the first block proposed after the crash (height + 2: the block
  // in flight at the crash may still complete in the old view).
  if (crash_height_ && n.honest() && height >= *crash_height_ + 2 &&
      stats_.first_commit_after_crash_ms == 0)
    stats_.first_commit_after_crash_ms = now_;
  auto body = parse_body(payload);
  if (!body) return;
  apply_deadlines(n.deadlines, *body, s_.workload);
  for (uint64_t tx : body->txs) n.included.insert(tx);
  while (n.included.count(n.next_unincluded)) ++n.next_unincluded;
  if (body->set_change && n.engine) {
    Status st = n.engine->add_validator_set(height + consensus::kValidatorSetDelay,
                                            set_of(*body->set_change));
    if (!st) checker_.violation("node " + std::to_string(n.idx) + ": " + st.to_string());
  }
}

void World::feed(Node& n, Ready r) {
  // The persistence rule: store committed blocks, then the durable state, then send.
  for (const Committed& c : r.committed)
    store_block(n, c.height, c.block, c.payload, c.block_time_ms, c.cert);
  if (r.to_persist) {
    n.durable = consensus::encode_durable(*r.to_persist);
    if (rng_.chance(0.01)) {
      auto back = consensus::decode_durable(*n.durable);
      if (!back || !(*back == *r.to_persist))
        checker_.violation("durable state does not survive encode/decode");
    }
  }
  stats_.drops += r.dropped.total();
  if (n.honest() && faulty_phase() && rng_.chance(s_.crash_between_persist_and_send)) {
    crash(n, true);  // persisted, never sent
    return;
  }
  for (const Outbound& m : r.messages) route(n, m);
  if (r.propose)
    schedule(Event{now_ + 1,
                   0,
                   EventType::kPropose,
                   n.idx,
                   0,
                   n.epoch,
                   r.propose->height,
                   r.propose->view,
                   r.propose->must_propose,
                   {},
                   {}});
  for (const auto& v : r.validate)
    schedule(Event{now_ + 1, 0, EventType::kVerdict, n.idx, 0, n.epoch, v.height, 0, false, v.block,
                   v.payload});
  for (const auto& e : r.evidence) {
    ++stats_.evidence;
    if (n.honest()) {
      std::set<consensus::ValidatorId> byz;
      for (const Node& o : nodes_)
        if (!o.honest()) byz.insert(o.key.did);
      checker_.on_evidence(n.idx, e.validator, byz);
    }
  }
  if (r.sync && std::getenv("IMI_SIM_TRACE"))
    std::fprintf(stderr, "t=%llu node %u sync hint %s h=%llu\n", (unsigned long long)now_, n.idx,
                 r.sync->peer.c_str(), (unsigned long long)r.sync->height);
  if (r.sync && !n.sync_pending) {
    n.sync_pending = true;
    for (const Node& o : nodes_)
      if (o.key.did == r.sync->peer)
        schedule(Event{now_ + rng_.range(s_.delay_min_ms, s_.delay_max_ms),
                       0,
                       EventType::kSync,
                       n.idx,
                       o.idx,
                       n.epoch,
                       0,
                       0,
                       false,
                       {},
                       {}});
  }
  if (!r.committed.empty() && n.engine && n.up) feed(n, n.engine->on_pending(pending_refs(n)));
}

void World::route(Node& n, const Outbound& out) {
  if (!n.honest() && n.behavior != Behavior::kCensor && n.behavior != Behavior::kBadDeadlines)
    return byzantine_route(n, out);
  if (out.to) {
    for (const Node& o : nodes_)
      if (o.key.did == *out.to) transmit(n.idx, o.idx, out.wire);
  } else {
    broadcast(n.idx, out.wire);
  }
}

bool World::reachable(uint32_t a, uint32_t b) const { return side_[a] == side_[b]; }

void World::broadcast(uint32_t from, const Bytes& bytes) {
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (i != from) transmit(from, i, bytes);
}

void World::transmit(uint32_t from, uint32_t to, Bytes bytes) {
  ++stats_.messages;
  if (faulty_phase() && (!reachable(from, to) || rng_.chance(s_.loss))) return;
  uint64_t delay = rng_.range(s_.delay_min_ms, s_.delay_max_ms);
  if (faulty_phase() && rng_.chance(s_.duplicate))
    schedule(Event{now_ + rng_.range(s_.delay_min_ms, s_.delay_max_ms * 3),
                   0,
                   EventType::kDeliver,
                   to,
                   from,
                   0,
                   0,
                   0,
                   false,
                   {},
                   bytes});
  schedule(
      Event{now_ + delay, 0, EventType::kDeliver, to, from, 0, 0, 0, false, {}, std::move(bytes)});
}

void World::on_deliver(Node& n, const Event& e) {
  if (!n.up || !n.engine) return;
  if (!n.honest()) byzantine_receive(n, e.bytes);
  feed(n, n.engine->on_message(e.bytes));
}

void World::on_tick(Node& n) {
  schedule(Event{now_ + n.tick_ms, 0, EventType::kTick, n.idx, 0, 0, 0, 0, false, {}, {}});
  if (!n.up || !n.engine) return;
  uint64_t before_view = n.engine->view();
  feed(n, n.engine->on_pending(pending_refs(n)));
  if (n.up && n.engine) feed(n, n.engine->on_tick(node_now(n)));
  if (n.up && n.engine && n.engine->view() > before_view && n.honest()) ++stats_.view_changes;
  if (n.up && n.engine && std::getenv("IMI_SIM_TRACE") && n.engine->view() != before_view)
    std::fprintf(stderr, "t=%llu node %u height %llu view %llu -> %llu changing=%d\n",
                 (unsigned long long)now_, n.idx, (unsigned long long)n.engine->height(),
                 (unsigned long long)before_view, (unsigned long long)n.engine->view(),
                 n.engine->view_changing());
  if (n.up && !n.honest()) byzantine_tick(n);
}

void World::on_propose(Node& n, const Event& e) {
  if (!n.up || e.epoch != n.epoch || !n.engine) return;
  if (n.engine->height() != e.a || n.engine->view() != e.b) return;
  BlockBody b;
  b.height = e.a;
  b.parent = n.chain.empty() ? genesis_ : n.chain.back().block;
  uint64_t parent_time = n.chain.empty() ? kGenesisTimeMs : n.chain.back().time_ms;
  b.time_ms = std::max(node_now(n), parent_time + 1);
  b.proposer = n.idx;
  for (uint64_t tx : pending_txs(n, kBatchMax))
    if (!(n.behavior == Behavior::kCensor && tx % 4 == 0)) b.txs.push_back(tx);
  // Published by the block's time, so the check is the same on every node.
  while (!b.txs.empty() && b.txs.back() >= s_.workload.published_at(b.time_ms)) b.txs.pop_back();
  b.set_change = due_set_change(n);
  // The deadlines due by the block's time (its proposer's clock): a primary
  // with a due deadline proposes even with nothing else to, so deadlines
  // fire on an idle chain within about a tick (the empty-block period).
  b.fired = due_deadlines(n.deadlines, b.time_ms);
  if (n.behavior == Behavior::kBadDeadlines) {
    byzantine_deadlines(n, b);
  } else if (b.txs.empty() && !b.set_change && b.fired.empty() && !e.flag) {
    // Nothing to propose yet: ask again next tick.
    schedule(Event{
        now_ + n.tick_ms, 0, EventType::kPropose, n.idx, 0, n.epoch, e.a, e.b, false, {}, {}});
    return;
  }
  Bytes payload = encode_body(b);
  if (e.flag && n.honest()) checker_.on_new_view_block(block_id(payload));
  feed(n, n.engine->propose(e.a, e.b, block_id(payload), payload, b.time_ms));
}

void World::on_verdict(Node& n, const Event& e) {
  if (!n.up || e.epoch != n.epoch || !n.engine) return;
  auto body = parse_body(e.bytes);
  bool valid = body && block_id(e.bytes) == e.hash && valid_next(n, e.a, *body);
  feed(n, n.engine->on_verdict(e.a, e.hash, valid, body ? body->time_ms : 0));
}

void World::on_sync(Node& n, const Event& e) {
  n.sync_pending = false;
  if (!n.up || e.epoch != n.epoch || !n.engine) return;
  // Like a node's block sync: ask the hinted peer, else any reachable peer
  // that is ahead. Blocks are checked against their certificates, so any
  // peer will do (every node serves the chain it has committed).
  auto usable = [&](const Node& p) {
    return p.idx != n.idx && p.up && p.chain.size() > n.chain.size() &&
           (!faulty_phase() || reachable(n.idx, p.idx));
  };
  const Node* chosen = usable(nodes_[e.from]) ? &nodes_[e.from] : nullptr;
  for (uint64_t k = 0, start = rng_.next(); k < nodes_.size() && !chosen; ++k) {
    const Node& p = nodes_[(start + k) % nodes_.size()];
    if (usable(p)) chosen = &p;
  }
  if (chosen == nullptr) return;
  const Node& peer = *chosen;
  ++stats_.syncs;
  for (int i = 0; i < 64 && n.chain.size() < peer.chain.size() && n.up; ++i) {
    uint64_t h = n.chain.size() + 1;
    StoredBlock b = peer.chain[h - 1];
    auto body = parse_body(b.payload);
    Hash32 parent = n.chain.empty() ? genesis_ : n.chain.back().block;
    if (!body || block_id(b.payload) != b.block || body->parent != parent) break;
    auto r = n.engine->on_synced_block(b.cert, b.time_ms);
    if (std::getenv("IMI_SIM_TRACE"))
      std::fprintf(stderr, "t=%llu node %u sync h=%llu from %u: %s\n", (unsigned long long)now_,
                   n.idx, (unsigned long long)h, peer.idx,
                   r ? "ok" : r.status().to_string().c_str());
    if (!r) break;  // the engine moved on by itself, or the certificate does not verify here
    store_block(n, h, b.block, b.payload, b.time_ms, b.cert);
    feed(n, std::move(*r));
  }
  if (n.up && n.engine) feed(n, n.engine->on_pending(pending_refs(n)));
}

void World::crash(Node& n, bool restart) {
  if (!n.up) return;
  ++stats_.crashes;
  n.up = false;
  n.engine.reset();
  ++n.epoch;
  if (restart) {
    uint64_t at = std::min(now_ + rng_.range(50, 1500), std::max(now_ + 1, s_.fault_ms));
    schedule(Event{at, 0, EventType::kRestart, n.idx, 0, n.epoch, 0, 0, false, {}, {}});
  }
}

void World::restart(Node& n) {
  if (n.up) return;
  start_engine(n);
}

RunResult World::run() {
  for (Node& n : nodes_) start_engine(n);
  for (Node& n : nodes_)
    schedule(
        Event{rng_.range(1, n.tick_ms), 0, EventType::kTick, n.idx, 0, 0, 0, 0, false, {}, {}});
  if (s_.partitions)
    schedule(Event{rng_.range(200, 800), 0, EventType::kPartition, 0, 0, 0, 0, 0, false, {}, {}});
  if (s_.crashes)
    schedule(Event{rng_.range(100, 600), 0, EventType::kCrash, 0, 0, 0, 0, 0, false, {}, {}});
  if (s_.crash_primary_at_ms)
    schedule(Event{s_.crash_primary_at_ms, 0, EventType::kCrash, 0, 0, 1, 0, 0, true, {}, {}});
  schedule(Event{s_.fault_ms, 0, EventType::kHeal, 0, 0, 0, 0, 0, false, {}, {}});

  uint64_t end = s_.fault_ms + s_.liveness_ms;
  uint64_t heal_target = 0;
  auto keep_going = [&] {
    const auto& v = checker_.violations();
    if (v.empty()) return true;
    if (s_.stop_at_first_violation) return false;
    // Collecting: run until the forks show up as an agreement violation.
    return std::none_of(v.begin(), v.end(),
                        [](const std::string& x) { return x.rfind("agreement", 0) == 0; });
  };
  uint64_t events = 0;
  std::string budget_failure;
  while (!queue_.empty() && keep_going()) {
    // A message storm is a bug too; it must not hang CTest.
    if (++events > 4000000) {
      budget_failure = "event budget exceeded at t=" + std::to_string(now_) + " ms";
      break;
    }
    Event e = queue_.top();
    queue_.pop();
    if (e.time > end) break;
    now_ = e.time;
    Node& n = nodes_[e.node];
    switch (e.type) {
      case EventType::kDeliver:
        on_deliver(n, e);
        break;
      case EventType::kTick:
        on_tick(n);
        break;
      case EventType::kPropose:
        on_propose(n, e);
        break;
      case EventType::kVerdict:
        on_verdict(n, e);
        break;
      case EventType::kSync:
        on_sync(n, e);
        break;
      case EventType::kRestart:
        if (e.epoch == n.epoch) restart(n);
        break;
      case EventType::kPartition:
        if (!faulty_phase()) break;
        if (std::all_of(side_.begin(), side_.end(), [](int x) { return x == 0; })) {
          for (auto& s : side_) s = static_cast<int>(rng_.range(0, 1));
        } else {
          side_.assign(side_.size(), 0);
        }
        schedule(Event{
            now_ + rng_.range(200, 1200), 0, EventType::kPartition, 0, 0, 0, 0, 0, false, {}, {}});
        break;
      case EventType::kCrash:
        if (e.flag) {
          // Figures: crash whichever node an honest node considers its primary.
          crash_height_ = checker_.decided_height();
          for (Node& o : nodes_) {
            if (!o.honest() || !o.engine) continue;
            const auto* set = o.engine->schedule().at(o.engine->height());
            consensus::ValidatorId primary = set->primary(o.engine->view());
            for (Node& p : nodes_)
              if (p.key.did == primary) crash(p, false);
            break;
          }
          break;
        }
        if (!faulty_phase()) break;
        {
          Node& victim = nodes_[rng_.range(0, nodes_.size() - 1)];
          if (victim.honest()) crash(victim, true);
        }
        schedule(
            Event{now_ + rng_.range(200, 900), 0, EventType::kCrash, 0, 0, 0, 0, 0, false, {}, {}});
        break;
      case EventType::kHeal:
        side_.assign(side_.size(), 0);
        for (Node& o : nodes_)
          if (!o.up && s_.crash_primary_at_ms == 0) restart(o);
        heal_target = checker_.decided_height() + s_.liveness_blocks;
        break;
    }
  }
  RunResult r;
  r.violations = checker_.violations();
  r.stats = stats_;
  r.liveness_failure = budget_failure;
  r.stats.deadlines_fired = checker_.deadlines_fired();
  r.stats.deadline_only_blocks = checker_.deadline_only_blocks();
  r.stats.deadline_capped_blocks = checker_.deadline_capped_blocks();
  if (r.violations.empty() && budget_failure.empty() && s_.crash_primary_at_ms == 0)
    r.liveness_failure = checker_.deadline_liveness(
        s_.fault_ms, std::min(now_, end), s_.deadline_bound_ms, &r.stats.deadline_late_max_ms);
  if (r.liveness_failure.empty() && r.violations.empty() && s_.liveness_blocks > 0) {
    for (const Node& n : nodes_) {
      if (!n.honest() || (s_.crash_primary_at_ms && !n.up)) continue;
      if (n.chain.size() < heal_target) {
        r.liveness_failure = "liveness: node " + std::to_string(n.idx) + " reached height " +
                             std::to_string(n.chain.size()) + ", expected at least " +
                             std::to_string(heal_target) + " within " +
                             std::to_string(s_.liveness_ms) + " ms after faults healed";
        break;
      }
    }
  }
  if (!r.ok() && std::getenv("IMI_SIM_DUMP")) {
    for (const Node& n : nodes_) {
      std::fprintf(stderr, "node %u %s up=%d chain=%zu", n.idx, behavior_name(n.behavior), n.up,
                   n.chain.size());
      if (n.engine) {
        std::fprintf(stderr, " height=%llu view=%llu changing=%d drops:",
                     (unsigned long long)n.engine->height(), (unsigned long long)n.engine->view(),
                     n.engine->view_changing());
        for (size_t i = 0; i < n.engine->total_dropped().by_reason.size(); ++i)
          if (n.engine->total_dropped().by_reason[i])
            std::fprintf(stderr, " %s=%llu",
                         consensus::drop_reason_name(static_cast<consensus::DropReason>(i)).data(),
                         (unsigned long long)n.engine->total_dropped().by_reason[i]);
      }
      std::fprintf(stderr, "\n");
    }
  }
  return r;
}

RunResult run_scenario(const Scenario& s) {
  World w(s);
  return w.run();
}

}  // namespace imi::sim
