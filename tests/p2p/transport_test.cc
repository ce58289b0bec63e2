// Transports talking to each other over 127.0.0.1: exchange, broadcast,
// one connection per pair, refusals, restart and reconnect, admission changes.
#include <doctest/doctest.h>

#include "tests/p2p/p2p_test_support.h"

using namespace imi;
using namespace imi::p2p;
using namespace imi::p2p::testing;

namespace {

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

size_t count_from(const Cluster::Node& n, const PublicKey& from, const Bytes& frame) {
  size_t c = 0;
  for (const auto& [k, f] : n.received) c += (k == from && f == frame);
  return c;
}

}  // namespace

TEST_CASE("four transports connect once per pair and exchange and broadcast frames") {
  Cluster c(4);
  c.start_all();
  c.add_all_addresses();  // everyone dials everyone: both directions race
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));

  for (size_t i = 0; i < 4; ++i) {
    auto st = c.nodes[i].t->stats();
    CHECK(st.peers_connected == 3);
    for (const auto& p : st.peers) {
      // Both ends kept the same connection: outbound at one end, inbound at the other.
      for (size_t j = 0; j < 4; ++j) {
        if (c.key(j) != p.key) continue;
        for (const auto& q : c.nodes[j].t->stats().peers) {
          if (q.key == c.key(i)) CHECK(q.outbound != p.outbound);
        }
      }
      // Duplicates were replaced without flapping the peer's state.
      CHECK(c.nodes[i].ups[p.key] == 1);
      CHECK(c.nodes[i].downs[p.key] == 0);
    }
  }

  // Point to point, in order.
  for (int k = 0; k < 50; ++k) {
    CHECK(c.nodes[0].t->send(c.key(1), bytes_of("m" + std::to_string(k))));
  }
  REQUIRE(run_until(c.io, [&] { return c.nodes[1].received.size() == 50; }));
  for (int k = 0; k < 50; ++k) {
    CHECK(c.nodes[1].received[k].first == c.key(0));
    CHECK(c.nodes[1].received[k].second == bytes_of("m" + std::to_string(k)));
  }

  // Broadcast reaches every other node once; an empty frame is a frame too.
  CHECK(c.nodes[2].t->broadcast(bytes_of("to all")) == 3);
  CHECK(c.nodes[3].t->broadcast(Bytes{}) == 3);
  REQUIRE(run_until(c.io, [&] {
    for (size_t i : {0, 1, 3}) {
      if (count_from(c.nodes[i], c.key(2), bytes_of("to all")) != 1) return false;
    }
    for (size_t i : {0, 1, 2}) {
      if (count_from(c.nodes[i], c.key(3), Bytes{}) != 1) return false;
    }
    return true;
  }));
  CHECK(count_from(c.nodes[2], c.key(2), bytes_of("to all")) == 0);
  auto st = c.nodes[0].t->stats();
  CHECK(st.frames_sent == 50);
  CHECK(st.bytes_sent == 140);  // "m0".."m9" are 2 bytes, "m10".."m49" 3 bytes
}

TEST_CASE("send refuses frames to unknown peers and over frame_bytes_max, and counts them") {
  Cluster c(2);
  Options o = test_options(c.nodes[0].lines);
  o.frame_bytes_max = 1000;
  c.start(0, o);
  c.start(1);
  c.add_all_addresses();
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));
  CHECK_FALSE(c.nodes[0].t->send(test_key(77).public_key(), Bytes{1}));
  CHECK_FALSE(c.nodes[0].t->send(c.key(1), Bytes(1001, 0)));
  CHECK(c.nodes[0].t->broadcast(Bytes(1001, 0)) == 0);
  CHECK(c.nodes[0].t->send(c.key(1), Bytes(1000, 7)));
  REQUIRE(run_until(c.io, [&] { return c.nodes[1].received.size() == 1; }));
  auto st = c.nodes[0].t->stats();
  CHECK(st.dropped_not_connected == 1);
  CHECK(st.dropped_too_large == 2);
  CHECK(any_line_has(*c.nodes[0].lines, "over frame_bytes_max"));
}

TEST_CASE("a key that is not admitted is refused, with the key and reason logged") {
  Cluster c(2);
  c.start(0, test_options(c.nodes[0].lines), std::vector<PublicKey>{c.key(0)});
  c.start(1);
  c.nodes[1].t->add_peer_address(c.key(0), "127.0.0.1", c.nodes[0].port);
  REQUIRE(run_until(
      c.io, [&] { return any_line_has(*c.nodes[0].lines, "p2p.not_admitted", to_hex(c.key(1))); }));
  run_for(c.io, 100);
  CHECK_FALSE(c.nodes[0].t->connected(c.key(1)));
  CHECK_FALSE(c.nodes[1].t->connected(c.key(0)));
  CHECK(c.nodes[0].ups.empty());
  CHECK(c.nodes[1].ups.empty());
  CHECK(c.nodes[0].t->stats().handshakes_refused >= 1);
  CHECK(c.nodes[1].t->stats().handshakes_refused >= 1);
}

TEST_CASE("a peer on another chain is refused") {
  Cluster c(2);
  c.start(0);
  c.start(1, test_options(c.nodes[1].lines), std::nullopt, "other-chain");
  c.nodes[1].t->add_peer_address(c.key(0), "127.0.0.1", c.nodes[0].port);
  REQUIRE(run_until(c.io, [&] {
    return any_line_has(*c.nodes[0].lines, "p2p.wrong_chain", "other-chain") &&
           any_line_has(*c.nodes[1].lines, "p2p.wrong_chain");
  }));
  CHECK_FALSE(c.nodes[0].t->connected(c.key(1)));
  CHECK(c.nodes[0].ups.empty());
}

TEST_CASE("dialing an address that answers with another key is refused") {
  Cluster c(3);
  c.start_all();
  // Node 0 believes node 1 listens where node 2 does.
  c.nodes[0].t->add_peer_address(c.key(1), "127.0.0.1", c.nodes[2].port);
  REQUIRE(run_until(c.io, [&] { return any_line_has(*c.nodes[0].lines, "p2p.unexpected_key"); }));
  CHECK_FALSE(c.nodes[0].t->connected(c.key(1)));
}

TEST_CASE("a restarted peer is redialed and reconnects") {
  Cluster c(2);
  c.start_all();
  c.add_all_addresses();
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));

  c.nodes[1].t.reset();  // crash: the transport and its sockets go away
  REQUIRE(run_until(c.io, [&] { return c.nodes[0].downs[c.key(1)] == 1; }));
  CHECK(any_line_has(*c.nodes[0].lines, "disconnected", identity::did_from_key(c.key(1))));
  run_for(c.io, 150);  // node 0 keeps redialing a closed port, backing off

  c.start(1);  // same port, no address for node 0: node 0 must dial
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));
  CHECK(c.nodes[0].ups[c.key(1)] == 2);
  CHECK(c.nodes[0].t->send(c.key(1), bytes_of("again")));
  REQUIRE(run_until(c.io, [&] { return c.nodes[1].received.size() == 1; }));
  CHECK(c.nodes[1].received[0].second == bytes_of("again"));
}

TEST_CASE("set_admitted removing a key drops its connection; re-admitting reconnects") {
  Cluster c(3);
  c.start_all();
  c.add_all_addresses();
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));

  c.nodes[0].t->set_admitted({c.key(0), c.key(1)});
  CHECK_FALSE(c.nodes[0].t->connected(c.key(2)));  // closed at once
  CHECK(c.nodes[0].downs[c.key(2)] == 1);
  CHECK(any_line_has(*c.nodes[0].lines, "p2p.removed", identity::did_from_key(c.key(2))));
  REQUIRE(run_until(c.io, [&] { return c.nodes[2].downs[c.key(0)] == 1; }));
  // Node 2 keeps redialing and is refused; node 0 does not dial it.
  REQUIRE(run_until(
      c.io, [&] { return any_line_has(*c.nodes[0].lines, "p2p.not_admitted", to_hex(c.key(2))); }));
  CHECK_FALSE(c.nodes[0].t->connected(c.key(2)));
  CHECK(c.nodes[0].t->connected(c.key(1)));
  CHECK_FALSE(c.nodes[0].t->send(c.key(2), bytes_of("x")));

  c.nodes[0].t->set_admitted(c.keys());
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));
}

TEST_CASE("stop closes every connection and fires no callback afterwards") {
  Cluster c(2);
  c.start_all();
  c.add_all_addresses();
  REQUIRE(run_until(c.io, [&] { return c.settled(); }));
  c.nodes[0].t->stop();
  CHECK(c.nodes[0].t->connected_peers().empty());
  CHECK(c.nodes[0].t->listen_port() == 0);
  CHECK(c.nodes[0].downs.empty());
  REQUIRE(run_until(c.io, [&] { return c.nodes[1].downs[c.key(0)] == 1; }));
  CHECK_FALSE(c.nodes[0].t->send(c.key(1), bytes_of("late")));
  CHECK_FALSE(c.nodes[0].t->start());
}
