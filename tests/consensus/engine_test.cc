// Engine behaviour through its public inputs: normal case, persistence rule,
// restart without equivocation, view change re-proposing the prepared block,
// evidence, and dropping bad input.
#include <doctest/doctest.h>

#include <deque>
#include <functional>

#include "consensus/engine.h"
#include "tests/consensus/test_util.h"

using namespace imi;
using namespace imi::consensus;
using testing::Committee;

namespace {

Options options_for(const Committee& c, size_t i) {
  Options o;
  o.chain_id = c.chain;
  o.self = c.members[i].id;
  o.checkpoint_interval = 2;
  o.view_timeout_ticks = 5;
  o.view_timeout_max_ticks = 40;
  o.rebroadcast_ticks = 3;
  return o;
}

// n engines with direct, lossless delivery (a filter can drop messages).
struct Cluster {
  explicit Cluster(size_t n, std::function<void(Options&)> tune = nullptr) : c(n) {
    for (size_t i = 0; i < n; ++i) {
      Options o = options_for(c, i);
      if (tune) tune(o);
      engines.push_back(Engine::create(o, *c.members[i].signer, c.verifier,
                                       ChainTip{0, genesis, 1000, 0, std::nullopt},
                                       ValidatorSchedule(c.set), std::nullopt)
                            .value());
      durable.emplace_back();
      committed.emplace_back();
    }
    for (size_t i = 0; i < n; ++i) process(i, engines[i]->start());
  }
  void process(size_t i, Ready r) {
    for (auto& cm : r.committed) committed[i].push_back(cm);
    if (r.to_persist) durable[i] = *r.to_persist;
    // The rule: every message sent is covered by what was persisted.
    if (!r.messages.empty() && durable[i]) {
      for (const auto& m : r.messages) {
        auto msg = decode(m.wire).value();
        if (auto* v = std::get_if<Vote>(&msg); v && v->validator == c.members[i].id) {
          bool covered = false;
          for (const auto& s : durable[i]->spoken) covered |= (s == msg);
          covered |= v->height < durable[i]->height;
          CHECK(covered);
        }
      }
    }
    for (auto& m : r.messages)
      for (size_t j = 0; j < engines.size(); ++j)
        if (j != i && (!m.to || *m.to == c.members[j].id) && (!drop || !drop(i, j, m.wire)))
          queue.push_back({j, m.wire});
    if (r.propose) {
      Bytes payload = {'h', static_cast<uint8_t>(r.propose->height), 'v',
                       static_cast<uint8_t>(r.propose->view)};
      pending_proposals.push_back({i, *r.propose, payload});
    }
    for (auto& v : r.validate) verdicts.push_back({i, v});
    for (auto& e : r.evidence) evidence.push_back(e);
  }
  void run(int steps = 10000) {
    for (int s = 0; s < steps; ++s) {
      if (!queue.empty()) {
        auto [to, wire] = queue.front();
        queue.pop_front();
        if (engines[to]) process(to, engines[to]->on_message(wire));
      } else if (!verdicts.empty()) {
        auto [i, v] = verdicts.front();
        verdicts.pop_front();
        if (engines[i])
          process(i, engines[i]->on_verdict(v.height, v.block, true, 2000 + v.height));
      } else if (!pending_proposals.empty()) {
        auto p = pending_proposals.front();
        pending_proposals.pop_front();
        Bytes payload = p.payload;
        if (engines[p.who])
          process(p.who, engines[p.who]->propose(p.req.height, p.req.view, sha256(payload), payload,
                                                 2000 + p.req.height));
      } else {
        return;
      }
    }
  }
  void tick_all(int n) {
    for (int k = 0; k < n; ++k) {
      for (size_t i = 0; i < engines.size(); ++i)
        if (engines[i]) process(i, engines[i]->on_tick(5000));
      run();
    }
  }
  struct PendingProposal {
    size_t who;
    ProposeRequest req;
    Bytes payload;
  };
  Committee c;
  Hash32 genesis = sha256(std::string_view("genesis"));
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::optional<DurableState>> durable;
  std::vector<std::vector<Committed>> committed;
  std::deque<std::pair<size_t, Bytes>> queue;
  std::deque<std::pair<size_t, ValidateRequest>> verdicts;
  std::deque<PendingProposal> pending_proposals;
  std::vector<Evidence> evidence;
  std::function<bool(size_t, size_t, const Bytes&)> drop;
};

}  // namespace

TEST_CASE("normal case: four validators commit heights in order with verifiable certificates") {
  Cluster cl(4);
  cl.run();
  for (int k = 0; k < 6; ++k) cl.tick_all(1);
  for (size_t i = 0; i < 4; ++i) {
    REQUIRE(cl.committed[i].size() >= 3);
    for (size_t h = 0; h < cl.committed[i].size(); ++h) {
      const Committed& cm = cl.committed[i][h];
      CHECK(cm.height == h + 1);
      CHECK(cm.block == cl.committed[0][h].block);
      CHECK(verify_commit_certificate(cm.cert, cl.c.chain, cl.c.set, cl.c.verifier).is_ok());
      CHECK(cm.payload == Bytes({'h', static_cast<uint8_t>(h + 1), 'v', 0}));
    }
  }
  // Checkpoints every 2 heights become stable.
  CHECK(cl.engines[0]->stable_checkpoint() >= 2);
  CHECK(cl.evidence.empty());
}

TEST_CASE("a crashed primary is replaced by a view change and progress resumes") {
  Cluster cl(4);
  cl.run();
  uint64_t before = cl.committed[1].size();
  // Crash the primary of the current view.
  size_t primary = cl.engines[1]->view() % 4;
  cl.engines[primary].reset();
  for (int k = 0; k < 200 && cl.committed[(primary + 1) % 4].size() < before + 2; ++k) {
    // Keep work pending so timers run.
    for (size_t i = 0; i < 4; ++i)
      if (cl.engines[i]) cl.process(i, cl.engines[i]->on_pending({sha256(std::string_view("tx"))}));
    cl.tick_all(1);
  }
  for (size_t i = 0; i < 4; ++i) {
    if (i == primary) continue;
    CHECK(cl.committed[i].size() >= before + 2);
    CHECK(cl.engines[i]->view() >= 1);
  }
}

TEST_CASE("a primary passing over a waiting transaction is replaced, after blocks and ticks") {
  // Every validator reports a transaction waiting; the primary's blocks never
  // include it. With no time floor, more than censorship_blocks_max blocks
  // without it start a view change. With censorship_ticks_min, blocks alone
  // (however many) do not, until that many ticks have passed too.
  const Hash32 tx = sha256(std::string_view("waiting tx"));
  auto report = [&tx](Cluster& cl) {
    for (size_t i = 0; i < cl.engines.size(); ++i) cl.process(i, cl.engines[i]->on_pending({tx}));
  };
  auto max_view = [](Cluster& cl) {
    uint64_t v = 0;
    for (auto& e : cl.engines) v = std::max(v, e->view());
    return v;
  };
  {
    Cluster cl(4);
    cl.tick_all(1);  // the engines' clocks start (block times are checked against them)
    report(cl);
    cl.run();
    CHECK(cl.committed[0].size() > 4);
    CHECK(max_view(cl) >= 1);
  }
  {
    Cluster cl(4, [](Options& o) { o.censorship_ticks_min = 4; });
    cl.tick_all(1);
    const size_t before = cl.committed[0].size();
    report(cl);
    cl.run();
    CHECK(cl.committed[0].size() > before + 4);  // blocks went on without it...
    CHECK(max_view(cl) == 0);                    // ...and no view change yet
    for (int k = 0; k < 6; ++k) {
      report(cl);  // still waiting (the node reports after every commit and tick)
      cl.tick_all(1);
    }
    CHECK(max_view(cl) >= 1);
  }
}

TEST_CASE("the longest-waiting transaction decides; one no longer reported no longer counts") {
  const Hash32 a = sha256(std::string_view("waiting since long"));
  const Hash32 b = sha256(std::string_view("waiting since now"));
  auto report = [](Cluster& cl, const std::vector<Hash32>& ids) {
    for (size_t i = 0; i < cl.engines.size(); ++i) cl.process(i, cl.engines[i]->on_pending(ids));
  };
  auto max_view = [](Cluster& cl) {
    uint64_t v = 0;
    for (auto& e : cl.engines) v = std::max(v, e->view());
    return v;
  };
  auto options = [](Options& o) { o.censorship_ticks_min = 4; };
  SUBCASE("a newer waiting transaction does not hide an older one") {
    Cluster cl(4, options);
    cl.tick_all(1);
    report(cl, {a});
    cl.run();  // blocks pass over a
    for (int k = 0; k < 2; ++k) {
      report(cl, {a});
      cl.tick_all(1);
    }
    CHECK(max_view(cl) == 0);
    for (int k = 0; k < 4; ++k) {
      report(cl, {b, a});  // b is new; a keeps its first-seen height and tick
      cl.tick_all(1);
    }
    CHECK(max_view(cl) >= 1);
  }
  SUBCASE("a transaction committed (not reported any more) stops counting") {
    Cluster cl(4, options);
    cl.tick_all(1);
    report(cl, {a});
    cl.run();
    for (int k = 0; k < 2; ++k) {
      report(cl, {a});
      cl.tick_all(1);
    }
    // a committed; b arrives. By now a would have waited long enough, b has not.
    for (int k = 0; k < 3; ++k) {
      report(cl, {b});
      cl.tick_all(1);
    }
    CHECK(max_view(cl) == 0);
  }
}

TEST_CASE("restart from durable state never votes differently at a height and view") {
  Committee c(4);
  Hash32 genesis{};
  Options o = options_for(c, 1);
  auto e = Engine::create(o, *c.members[1].signer, c.verifier, ChainTip{0, genesis, 1000, 0, {}},
                          ValidatorSchedule(c.set), std::nullopt)
               .value();
  (void)e->start();
  (void)e->on_tick(5000);
  Proposal p = c.proposal(0, 1, 0, Bytes{1});
  Ready r = e->on_message(encode(p));
  REQUIRE(r.validate.size() == 1);
  r = e->on_verdict(1, p.block, true, 2000);
  REQUIRE(r.to_persist.has_value());
  REQUIRE(r.messages.size() == 1);
  Vote mine = std::get<Vote>(decode(r.messages[0].wire).value());
  CHECK(mine.block == p.block);
  // The node persisted, then crashed before sending. Restart:
  Bytes stored = encode_durable(*r.to_persist);
  e.reset();
  auto e2 = Engine::create(o, *c.members[1].signer, c.verifier, ChainTip{0, genesis, 1000, 0, {}},
                           ValidatorSchedule(c.set), decode_durable(stored).value())
                .value();
  Ready s = e2->start();
  bool resent = false;
  for (const auto& m : s.messages) resent |= decode(m.wire).value() == Message(mine);
  CHECK(resent);
  // A conflicting proposal for the same height and view (equivocating
  // primary) gets no prepare vote from the restarted node, only evidence.
  Proposal other = c.proposal(0, 1, 0, Bytes{2});
  Ready t = e2->on_message(encode(other));
  CHECK(t.evidence.size() == 1);
  CHECK(t.evidence[0].validator == c.members[0].id);
  for (const auto& v : t.validate) (void)e2->on_verdict(1, v.block, true, 2000);
  Ready u = e2->on_verdict(1, other.block, true, 2000);
  for (const auto& m : u.messages) {
    auto msg = decode(m.wire).value();
    if (auto* v = std::get_if<Vote>(&msg)) CHECK(v->block == p.block);
  }
  // The durable state of a decided height is not reused at the next one.
  auto stale =
      Engine::create(o, *c.members[1].signer, c.verifier, ChainTip{3, genesis, 1000, 0, {}},
                     ValidatorSchedule(c.set), decode_durable(stored).value());
  CHECK(stale.is_ok());
  // A durable state ahead of the ledger is refused rather than guessed at.
  DurableState ahead = decode_durable(stored).value();
  ahead.height = 5;
  auto refused = Engine::create(o, *c.members[1].signer, c.verifier,
                                ChainTip{0, genesis, 1000, 0, {}}, ValidatorSchedule(c.set), ahead);
  CHECK(refused.status().code() == "consensus.state_ahead_of_ledger");
}

TEST_CASE("bad input is dropped and counted by reason, never fatal") {
  Committee c(4);
  Committee outsiders(1, "out");
  auto e =
      Engine::create(options_for(c, 1), *c.members[1].signer, c.verifier,
                     ChainTip{0, Hash32{}, 1000, 0, {}}, ValidatorSchedule(c.set), std::nullopt)
          .value();
  (void)e->start();
  CHECK(e->on_message(Bytes{1, 2, 3}).dropped[DropReason::kMalformed] == 1);
  Vote stranger = outsiders.vote(0, 1, 0, Hash32{}, Phase::kPrepare);
  CHECK(e->on_message(encode(stranger)).dropped[DropReason::kNotValidator] == 1);
  Vote forged = c.vote(2, 1, 0, Hash32{}, Phase::kPrepare);
  forged.sig[0] ^= 1;
  CHECK(e->on_message(encode(forged)).dropped[DropReason::kBadSignature] == 1);
  Proposal wrong = c.proposal(2, 1, 0, Bytes{1});
  CHECK(e->on_message(encode(wrong)).dropped[DropReason::kWrongPrimary] == 1);
  Vote v = c.vote(2, 1, 0, Hash32{}, Phase::kPrepare);
  CHECK(e->on_message(encode(v)).dropped.total() == 0);
  CHECK(e->on_message(encode(v)).dropped[DropReason::kDuplicate] == 1);
  Vote far = c.vote(2, 1, 1000, Hash32{}, Phase::kPrepare);
  CHECK(e->on_message(encode(far)).dropped[DropReason::kFutureView] == 1);
  Vote future = c.vote(2, 9, 0, Hash32{}, Phase::kPrepare);
  Ready r = e->on_message(encode(future));
  CHECK(r.dropped[DropReason::kFutureHeight] == 1);
  CHECK(r.sync.has_value());
  CommitCertificate weak = c.cert({0, 2}, 1, 0, Hash32{});
  CHECK(e->on_message(encode(Decided{weak})).dropped[DropReason::kBadNewView] == 1);
  CHECK(e->total_dropped().total() == 8);
  // Conflicting votes from one validator are evidence.
  Vote conflict = c.vote(2, 1, 0, sha256(std::string_view("x")), Phase::kPrepare);
  Ready ev = e->on_message(encode(conflict));
  REQUIRE(ev.evidence.size() == 1);
  CHECK(ev.evidence[0].kind == Evidence::Kind::kConflictingVote);
  CHECK(decode(ev.evidence[0].first).value() == Message(v));
  CHECK(decode(ev.evidence[0].second).value() == Message(conflict));
}

TEST_CASE(
    "a block certified by others but refused here is fetched, never committed from its bad bytes") {
  // A Byzantine primary sends this replica other bytes under the block id it
  // sends the rest; the rest prepare and commit it.
  Committee c(4);
  auto e =
      Engine::create(options_for(c, 1), *c.members[1].signer, c.verifier,
                     ChainTip{0, Hash32{}, 1000, 0, {}}, ValidatorSchedule(c.set), std::nullopt)
          .value();
  (void)e->start();
  const Hash32 block = sha256(std::string_view("the block the others were sent"));
  const Bytes bad = {'b', 'a', 'd'};
  Proposal p{1, 0, block, bad, c.members[0].id, {}};
  p.sig = c.members[0].signer->sign(SigKind::kProposal,
                                    proposal_canonical(c.chain, 1, 0, block, sha256(bad)));
  Ready r = e->on_message(encode(p));
  REQUIRE(r.validate.size() == 1);
  r = e->on_verdict(1, block, false, 0);
  for (const auto& m : r.messages) CHECK(!std::holds_alternative<Vote>(decode(m.wire).value()));
  Ready last;
  for (size_t i : {0, 2, 3}) last = e->on_message(encode(c.vote(i, 1, 0, block, Phase::kCommit)));
  CHECK(last.committed.empty());
  REQUIRE(last.sync.has_value());
  CHECK(last.sync->height == 1);
  CHECK(e->height() == 1);
}

TEST_CASE("validator-set changes apply only after the height in progress") {
  Committee c(4), d(5, "d");
  auto e =
      Engine::create(options_for(c, 1), *c.members[1].signer, c.verifier,
                     ChainTip{0, Hash32{}, 1000, 0, {}}, ValidatorSchedule(c.set), std::nullopt)
          .value();
  CHECK(e->add_validator_set(1, d.set).code() == "consensus.bad_validator_set");
  CHECK(e->add_validator_set(3, d.set).is_ok());
  CHECK(*e->schedule().at(3) == d.set);
  CHECK(*e->schedule().at(2) == c.set);
}
