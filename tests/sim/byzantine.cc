// Byzantine validators (at most f per run): each runs a real engine and
// distorts what it sends or adds messages of its own, signed with its own key
// (a Byzantine node cannot forge honest signatures).
#include <algorithm>

#include "base/sha256.h"
#include "tests/sim/world.h"

namespace imi::sim {

using consensus::Message;

namespace {

void send_to(World& w, uint32_t from, const std::vector<uint32_t>& to, const Message& m) {
  Bytes b = consensus::encode(m);
  for (uint32_t t : to) w.transmit(from, t, b);
}

}  // namespace

void World::byzantine_route(Node& n, const consensus::Outbound& out) {
  auto plain = [&] {
    if (out.to) {
      for (const Node& o : nodes_)
        if (o.key.did == *out.to) transmit(n.idx, o.idx, out.wire);
    } else {
      broadcast(n.idx, out.wire);
    }
  };
  switch (n.behavior) {
    case Behavior::kSilent:
      return;
    case Behavior::kVoteAll:
    case Behavior::kReplay:
    case Behavior::kHonest:
    case Behavior::kCensor:
    case Behavior::kBadDeadlines:
      return plain();
    case Behavior::kGarbage: {
      for (int k = 0; k < 3; ++k) {
        uint32_t to = static_cast<uint32_t>(rng_.range(0, nodes_.size() - 1));
        if (to == n.idx) continue;
        Bytes b = out.wire;
        switch (rng_.range(0, 5)) {
          case 0:  // random bytes
            b.resize(rng_.range(0, 300));
            for (auto& c : b) c = static_cast<uint8_t>(rng_.next());
            break;
          case 1:  // one bit flipped
            if (!b.empty())
              b[rng_.range(0, b.size() - 1)] ^= static_cast<uint8_t>(1u << rng_.range(0, 7));
            break;
          case 2:  // truncated
            b.resize(rng_.range(0, b.size()));
            break;
          case 3: {  // claims to be another validator
            auto m = consensus::decode(b);
            const auto& other = nodes_[rng_.range(0, nodes_.size() - 1)].key.did;
            if (m) {
              if (auto* v = std::get_if<consensus::Vote>(&*m)) v->validator = other;
              if (auto* p = std::get_if<consensus::Proposal>(&*m)) p->proposer = other;
              if (auto* vc = std::get_if<consensus::ViewChange>(&*m)) vc->validator = other;
              b = consensus::encode(*m);
            }
            break;
          }
          case 4: {  // well-formed vote, absurd height and view, bad signature
            consensus::Vote v{rng_.range(1, consensus::kMaxSafeInteger),
                              rng_.next() >> 11,
                              sha256(std::to_string(rng_.next())),
                              consensus::Phase::kCommit,
                              n.key.did,
                              {}};
            b = consensus::encode(v);
            break;
          }
          default: {  // a certificate with too few or forged signatures
            consensus::CommitCertificate c{
                rng_.range(1, 50), rng_.range(0, 5), sha256(std::to_string(rng_.next())), {}};
            c.sigs.push_back({n.key.did, {}});
            b = consensus::encode(consensus::Decided{c});
          }
        }
        transmit(n.idx, to, std::move(b));
      }
      return;
    }
    case Behavior::kEquivocate:
      break;
  }
  // Equivocation: a second block for half of the peers, and votes for both.
  auto m = consensus::decode(out.wire);
  if (!m || out.to) return plain();
  std::vector<uint32_t> a, b;
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (i != n.idx) ((a.size() <= b.size()) ? a : b).push_back(i);
  auto make_alt = [&](const consensus::Proposal& p) {
    auto body = parse_body(p.payload);
    if (!body) return p;
    body->salt = "equivocation";
    if (!body->txs.empty()) body->txs.pop_back();
    consensus::Proposal alt = p;
    alt.payload = encode_body(*body);
    alt.block = block_id(alt.payload);
    alt.sig = n.signer->sign(
        consensus::SigKind::kProposal,
        consensus::proposal_canonical(chain_id_, p.height, p.view, alt.block, sha256(alt.payload)));
    n.alt_blocks[{p.height, p.view}] = {p.block, alt.block};
    return alt;
  };
  if (auto* p = std::get_if<consensus::Proposal>(&*m); p && p->proposer == n.key.did) {
    send_to(*this, n.idx, a, *p);
    send_to(*this, n.idx, b, make_alt(*p));
    return;
  }
  if (auto* nv = std::get_if<consensus::NewView>(&*m);
      nv && consensus::highest_prepared(nv->view_changes) == nullptr) {
    consensus::NewView alt = *nv;
    alt.proposal = make_alt(nv->proposal);
    send_to(*this, n.idx, a, *nv);
    send_to(*this, n.idx, b, alt);
    return;
  }
  if (auto* v = std::get_if<consensus::Vote>(&*m)) {
    auto it = n.alt_blocks.find({v->height, v->view});
    if (it != n.alt_blocks.end() && it->second.first == v->block) {
      consensus::Vote alt = *v;
      alt.block = it->second.second;
      alt.sig = n.signer->sign(
          consensus::SigKind::kVote,
          consensus::vote_canonical(chain_id_, v->height, v->view, alt.block, v->phase));
      send_to(*this, n.idx, a, *v);
      send_to(*this, n.idx, b, alt);
      return;
    }
  }
  plain();
}

void World::byzantine_receive(Node& n, const Bytes& bytes) {
  if (n.behavior == Behavior::kReplay) {
    if (n.recorded.size() < 400) {
      n.recorded.push_back(bytes);
    } else {
      n.recorded[rng_.range(0, n.recorded.size() - 1)] = bytes;
    }
  }
  if (n.behavior != Behavior::kVoteAll && n.behavior != Behavior::kEquivocate) return;
  // Vote prepare and commit for every block anyone proposes or votes for.
  auto m = consensus::decode(bytes);
  if (!m) return;
  uint64_t h = 0, v = 0;
  Hash32 block{};
  if (auto* p = std::get_if<consensus::Proposal>(&*m)) {
    h = p->height, v = p->view, block = p->block;
  } else if (auto* nv = std::get_if<consensus::NewView>(&*m)) {
    h = nv->height, v = nv->view, block = nv->proposal.block;
  } else if (auto* vote = std::get_if<consensus::Vote>(&*m)) {
    h = vote->height, v = vote->view, block = vote->block;
  } else {
    return;
  }
  if (h > consensus::kMaxSafeInteger || v > consensus::kMaxSafeInteger) return;
  for (auto phase : {consensus::Phase::kPrepare, consensus::Phase::kCommit}) {
    if (!n.voted_all.insert({h, v, block, static_cast<int>(phase)}).second) continue;
    consensus::Vote out{h, v, block, phase, n.key.did, {}};
    out.sig = n.signer->sign(consensus::SigKind::kVote,
                             consensus::vote_canonical(chain_id_, h, v, block, phase));
    broadcast(n.idx, consensus::encode(out));
  }
  if (n.voted_all.size() > 20000) n.voted_all.clear();
}

void World::byzantine_tick(Node& n) {
  if (n.behavior != Behavior::kReplay || n.recorded.empty() || !rng_.chance(0.5)) return;
  uint32_t to = static_cast<uint32_t>(rng_.range(0, nodes_.size() - 1));
  if (to != n.idx) transmit(n.idx, to, n.recorded[rng_.range(0, n.recorded.size() - 1)]);
}

void World::byzantine_deadlines(const Node& n, BlockBody& b) {
  // Whatever is due, fire a wrong list: omit a due deadline, or add one that
  // is not due, was never scheduled, or already fired. Honest validators
  // must refuse every such block.
  if (!b.fired.empty() && rng_.chance(0.5)) {
    b.fired.erase(b.fired.begin() + static_cast<ptrdiff_t>(rng_.range(0, b.fired.size() - 1)));
    return;
  }
  std::vector<uint64_t> candidates;
  for (const auto& [at, key] : n.deadlines)
    if (at > b.time_ms) {
      candidates.push_back(key);  // early
      break;
    }
  for (uint64_t tx : n.included)
    if (s_.workload.deadline_of(tx, 0) &&
        std::none_of(n.deadlines.begin(), n.deadlines.end(),
                     [&](const auto& d) { return d.second == tx; })) {
      candidates.push_back(tx);  // fired already
      break;
    }
  candidates.push_back(1000000000 + rng_.range(0, 1000));  // never scheduled
  b.fired.push_back(candidates[rng_.range(0, candidates.size() - 1)]);
}

}  // namespace imi::sim
