#include "node/block_sync.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

namespace imi::node {
namespace {

PublicKey peer(uint8_t n) {
  PublicKey k{};
  k[0] = n;
  return k;
}

std::vector<SyncedBlock> blocks(uint64_t from, uint64_t count) {
  std::vector<SyncedBlock> out;
  for (uint64_t h = from; h < from + count; ++h)
    out.push_back(SyncedBlock{"block" + std::to_string(h), "cert" + std::to_string(h)});
  return out;
}

BlockSyncOptions opts() {
  BlockSyncOptions o;
  o.blocks_per_request = 10;
  o.requests_per_peer = 2;
  o.request_timeout_ms = 1000;
  o.ban_ms = 5000;
  o.window_blocks = 100;
  o.lag_grace_ms = 300;
  return o;
}

TEST_CASE("one block behind waits for consensus a moment; two behind syncs at once") {
  BlockSync s(opts());
  s.on_tip(peer(1), 11, 0);
  CHECK(!s.wants_sync(10, 0, false));
  CHECK(!s.wants_sync(10, 299, false));
  CHECK(s.wants_sync(10, 300, false));
  CHECK(s.wants_sync(10, 0, true));  // an observer does not wait
  CHECK(!s.wants_sync(11, 400, false));
  s.on_tip(peer(2), 13, 500);
  CHECK(s.wants_sync(11, 500, false));
}

TEST_CASE("requests spread over peers in windows, never overlapping") {
  BlockSync s(opts());
  s.on_tip(peer(1), 1000, 0);
  s.on_tip(peer(2), 1000, 0);
  auto reqs = s.poll(0, 0);
  // Window of 100 blocks, 10 per request, 2 per peer, 2 peers: 4 requests.
  REQUIRE(reqs.size() == 4);
  std::set<uint64_t> starts;
  std::map<PublicKey, int> per_peer;
  for (const auto& r : reqs) {
    CHECK(r.count == 10);
    starts.insert(r.from);
    ++per_peer[r.peer];
  }
  CHECK(starts == std::set<uint64_t>{1, 11, 21, 31});
  CHECK(per_peer[peer(1)] == 2);
  CHECK(per_peer[peer(2)] == 2);
  CHECK(s.poll(0, 10).empty());  // every slot busy
}

TEST_CASE("blocks are handed out in height order; a short answer frees the rest") {
  BlockSync s(opts());
  s.on_tip(peer(1), 25, 0);
  auto reqs = s.poll(0, 0);
  REQUIRE(reqs.size() == 2);  // 1..10 and 11..20 (2 requests per peer)
  CHECK(reqs[0].from == 1);
  CHECK(reqs[1].from == 11);
  s.on_blocks(peer(1), 11, blocks(11, 10), 5);
  CHECK(!s.take(1));                         // 1..10 not here yet
  s.on_blocks(peer(1), 1, blocks(1, 4), 6);  // short: 1..4 only
  for (uint64_t h = 1; h <= 4; ++h) {
    auto b = s.take(h);
    REQUIRE(b);
    CHECK(b->block.block_json == "block" + std::to_string(h));
    CHECK(b->peer == peer(1));
  }
  CHECK(!s.take(5));
  // 5..10 and 21..25 are asked again.
  auto again = s.poll(4, 7);
  REQUIRE(again.size() == 2);
  CHECK(again[0].from == 5);
  CHECK(again[0].count == 6);
  CHECK(again[1].from == 21);
  CHECK(again[1].count == 5);
}

TEST_CASE("unsolicited answers are ignored; timeouts re-ask another peer") {
  BlockSync s(opts());
  s.on_tip(peer(1), 5, 0);
  auto reqs = s.poll(0, 0);
  REQUIRE(reqs.size() == 1);
  s.on_blocks(peer(2), 1, blocks(1, 5), 1);  // peer 2 was not asked
  CHECK(!s.take(1));
  s.on_tip(peer(2), 5, 2);
  CHECK(s.poll(0, 500).empty());  // still in flight to peer 1
  auto retry = s.poll(0, 1000);   // timed out
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].from == 1);
  s.on_blocks(peer(1), 1, blocks(1, 5), 1001);  // late: no longer asked of peer 1
  CHECK(!s.take(1));
}

TEST_CASE("a peer that served a bad block is banned and its blocks dropped") {
  BlockSync s(opts());
  s.on_tip(peer(1), 20, 0);
  s.on_tip(peer(2), 20, 0);
  auto reqs = s.poll(0, 0);
  for (const auto& r : reqs) s.on_blocks(r.peer, r.from, blocks(r.from, r.count), 1);
  auto first = s.take(1);
  REQUIRE(first);
  const PublicKey bad = first->peer;
  s.punish(bad, 2);
  CHECK(s.banned(bad, 2));
  CHECK(!s.banned(bad, 5002));
  // Nothing from the bad peer is handed out; what it served is asked of the other.
  for (uint64_t h = 2; h <= 20; ++h) {
    auto b = s.take(h);
    if (b) CHECK(b->peer != bad);
  }
  for (const auto& r : s.poll(1, 3)) CHECK(r.peer != bad);
}

TEST_CASE("a peer answering nothing lowers its tip; a disconnect forgets its requests") {
  BlockSync s(opts());
  s.on_tip(peer(1), 50, 0);
  auto reqs = s.poll(0, 0);
  REQUIRE(!reqs.empty());
  s.on_blocks(peer(1), reqs[0].from, {}, 1);
  CHECK(s.best_tip() == reqs[0].from - 1);
  s.on_tip(peer(2), 30, 2);
  CHECK(!s.poll(0, 3).empty());
  CHECK(s.in_flight() > 0);
  s.on_disconnect(peer(2));
  s.on_disconnect(peer(1));
  CHECK(s.in_flight() == 0);
  CHECK(s.best_tip() == 0);
}

}  // namespace
}  // namespace imi::node
