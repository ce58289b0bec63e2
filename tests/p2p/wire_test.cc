// A transport against a hand-driven peer that completes a real handshake and
// then misbehaves: tampered and oversized frames, garbage, reflection, bad
// signatures, never reading. Also checks the bytes on the wire: identical
// plaintexts never give identical ciphertexts.
#include <doctest/doctest.h>

#include "tests/p2p/p2p_test_support.h"

using namespace imi;
using namespace imi::p2p;
using namespace imi::p2p::testing;

namespace {

// Node 0 of a one-node cluster admitting itself and the raw peer's key.
struct Fixture {
  Cluster c{1};
  identity::KeyPair raw_key = test_key(100);
  RawPeer raw{c.io, raw_key, "imi-test"};

  // `tweak` adjusts the transport's options before it starts.
  explicit Fixture(const std::function<void(Options&)>& tweak = {}) {
    Options o = test_options(lines());
    if (tweak) tweak(o);
    c.start(0, o, std::vector<PublicKey>{c.key(0), raw_key.public_key()});
    raw.connect(c.nodes[0].port);
  }
  std::shared_ptr<std::vector<std::string>> lines() { return c.nodes[0].lines; }
  Transport& t() { return *c.nodes[0].t; }
  const PublicKey& raw_pub() const { return raw_key.public_key(); }
  bool refused_with(const std::string& code) {
    return run_until(c.io, [&] { return any_line_has(*lines(), code); });
  }
};

}  // namespace

TEST_CASE("a hand-made peer completes the handshake and exchanges frames") {
  Fixture f;
  REQUIRE(f.raw.handshake());
  REQUIRE(run_until(f.c.io, [&] { return f.t().connected(f.raw_pub()); }));
  Bytes hi = {'h', 'i'};
  REQUIRE(f.raw.write(*f.raw.sealer->seal(FrameType::kData, hi)));
  REQUIRE(run_until(f.c.io, [&] { return f.c.nodes[0].received.size() == 1; }));
  CHECK(f.c.nodes[0].received[0].first == f.raw_pub());
  CHECK(f.c.nodes[0].received[0].second == hi);
  // Keepalives are not delivered.
  REQUIRE(f.raw.write(*f.raw.sealer->seal(FrameType::kKeepalive, {})));
  REQUIRE(f.raw.write(*f.raw.sealer->seal(FrameType::kData, hi)));
  REQUIRE(run_until(f.c.io, [&] { return f.c.nodes[0].received.size() == 2; }));
}

TEST_CASE("identical plaintexts leave as different ciphertexts: nonces never repeat") {
  Fixture f;
  REQUIRE(f.raw.handshake());
  REQUIRE(run_until(f.c.io, [&] { return f.t().connected(f.raw_pub()); }));
  Bytes same(100, 0x42);
  std::vector<Bytes> wires;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(f.t().send(f.raw_pub(), same));
    auto p = f.raw.read_sealed();
    REQUIRE(p);  // opens under the next counter, so the counter rose by one
    CHECK(Bytes(p->begin() + 1, p->end()) == same);
    wires.push_back(f.raw.last_wire);
  }
  for (size_t i = 0; i < wires.size(); ++i) {
    for (size_t j = i + 1; j < wires.size(); ++j) CHECK(wires[i] != wires[j]);
  }
}

TEST_CASE("a tampered ciphertext byte closes the connection") {
  Fixture f;
  REQUIRE(f.raw.handshake());
  REQUIRE(run_until(f.c.io, [&] { return f.t().connected(f.raw_pub()); }));
  Bytes w = *f.raw.sealer->seal(FrameType::kData, Bytes(32, 1));
  w[kFrameHeaderBytes + 5] ^= 0x01;
  REQUIRE(f.raw.write(w));
  CHECK(f.raw.wait_closed());
  CHECK(f.refused_with("p2p.decrypt_failed"));
  CHECK(f.c.nodes[0].downs[f.raw_pub()] == 1);
  CHECK(f.c.nodes[0].received.empty());
}

TEST_CASE("a replayed frame closes the connection") {
  Fixture f;
  REQUIRE(f.raw.handshake());
  Bytes w = *f.raw.sealer->seal(FrameType::kData, Bytes{9});
  REQUIRE(f.raw.write(w));
  REQUIRE(f.raw.write(w));
  CHECK(f.raw.wait_closed());
  CHECK(f.refused_with("p2p.decrypt_failed"));
  CHECK(f.c.nodes[0].received.size() == 1);
}

TEST_CASE("an oversized frame closes the connection before it is read") {
  Fixture g([](Options& o) { o.frame_bytes_max = 4096; });
  REQUIRE(g.raw.handshake());
  REQUIRE(run_until(g.c.io, [&] { return g.t().connected(g.raw_pub()); }));
  // At the limit: fine.
  REQUIRE(g.raw.write(*g.raw.sealer->seal(FrameType::kData, Bytes(4096, 1))));
  REQUIRE(run_until(g.c.io, [&] { return g.c.nodes[0].received.size() == 1; }));
  // One byte over: only the length prefix is needed to refuse it.
  Bytes head(4);
  write_be32(head.data(), 4096 + kFrameOverheadBytes + 1);
  REQUIRE(g.raw.write(head));
  CHECK(g.raw.wait_closed());
  CHECK(g.refused_with("p2p.frame_too_large"));
}

TEST_CASE("garbage before the handshake closes the connection") {
  SUBCASE("an HTTP request") {
    Fixture f;
    std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(f.raw.write(as_bytes(http)));
    CHECK(f.raw.wait_closed());
    CHECK(f.refused_with("refused connection"));
  }
  SUBCASE("a small frame that is not a hello") {
    Fixture f;
    Bytes junk = {0, 0, 0, 8, 'n', 'o', 't', ' ', 'h', 'e', 'l', 'o'};
    REQUIRE(f.raw.write(junk));
    CHECK(f.raw.wait_closed());
    CHECK(f.refused_with("p2p.bad_hello"));
  }
  SUBCASE("a data frame instead of the signature") {
    Fixture f;
    Handshake hs(f.raw_key, "imi-test", Role::kInitiator);
    REQUIRE(f.raw.send_hello(hs.own_hello()));
    auto theirs = f.raw.read_frame();
    REQUIRE(theirs);
    REQUIRE(hs.accept_peer_hello(ByteView(*theirs).subspan(kFrameHeaderBytes)));
    FrameSealer s(hs.send_key());
    REQUIRE(f.raw.write(*s.seal(FrameType::kData, Bytes{1, 2, 3})));
    CHECK(f.raw.wait_closed());
    CHECK(f.refused_with("p2p.protocol"));
    CHECK(f.c.nodes[0].received.empty());
  }
}

TEST_CASE("a reflected hello (the transport's own ephemeral key echoed) is refused") {
  Fixture f;
  auto theirs = f.raw.read_frame();  // the transport speaks first, as responder
  REQUIRE(theirs);
  REQUIRE(f.raw.write(*theirs));
  CHECK(f.raw.wait_closed());
  CHECK(f.refused_with("p2p.reflected"));
}

TEST_CASE("a handshake signature that does not verify is refused") {
  Fixture f;
  Handshake hs(f.raw_key, "imi-test", Role::kInitiator);
  REQUIRE(f.raw.send_hello(hs.own_hello()));
  auto theirs = f.raw.read_frame();
  REQUIRE(theirs);
  REQUIRE(hs.accept_peer_hello(ByteView(*theirs).subspan(kFrameHeaderBytes)));
  FrameSealer s(hs.send_key());
  // Signed as the wrong role: a valid signature over the wrong transcript.
  auto sig = f.raw_key.sign(identity::Domain::kHandshake, hs.signed_transcript(Role::kResponder));
  REQUIRE(f.raw.write(*s.seal(FrameType::kAuth, ByteView(sig.data(), sig.size()))));
  CHECK(f.raw.wait_closed());
  CHECK(f.refused_with("p2p.bad_signature"));
  CHECK(f.c.nodes[0].ups.empty());
}

TEST_CASE("a peer that never finishes the handshake is closed after handshake_timeout_ms") {
  auto lines = std::make_shared<std::vector<std::string>>();
  Options o = test_options(lines);
  o.handshake_timeout_ms = 100;
  Cluster c(1);
  c.nodes[0].lines = lines;
  c.start(0, o);
  RawPeer raw(c.io, test_key(100), "imi-test");
  raw.connect(c.nodes[0].port);
  CHECK(raw.wait_closed());
  CHECK(any_line_has(*lines, "p2p.handshake_timeout"));
  CHECK(c.nodes[0].t->stats().handshakes_pending == 0);
}

TEST_CASE("a peer that never reads: its queue stays bounded, drops are counted, others flow") {
  Cluster c(2);
  identity::KeyPair raw_key = test_key(100);
  std::vector<PublicKey> admitted = {c.key(0), c.key(1), raw_key.public_key()};
  Options o = test_options(c.nodes[0].lines);
  o.queue_messages_max = 64;
  o.queue_bytes_max = 256 * 1024;
  c.start(0, o, admitted);
  c.start(1, test_options(c.nodes[1].lines), admitted);
  c.add_all_addresses();
  REQUIRE(run_until(c.io, [&] { return c.fully_connected(); }));
  RawPeer raw(c.io, raw_key, "imi-test");
  raw.connect(c.nodes[0].port);
  REQUIRE(raw.handshake());
  REQUIRE(run_until(c.io, [&] { return c.nodes[0].t->connected(raw_key.public_key()); }));

  // The raw peer stops reading. Keep sending until the kernel buffers and
  // then the queue are full.
  Bytes frame(16 * 1024, 0x33);
  uint64_t accepted = 0, refused = 0;
  bool bounded = true;
  REQUIRE(run_until(
      c.io,
      [&] {
        for (int i = 0; i < 64; ++i) {
          (c.nodes[0].t->send(raw_key.public_key(), frame) ? accepted : refused)++;
        }
        for (const auto& p : c.nodes[0].t->stats().peers) {
          if (p.key != raw_key.public_key()) continue;
          bounded = bounded && p.queue_bytes <= o.queue_bytes_max &&
                    p.queue_messages <= o.queue_messages_max;
        }
        return refused >= 1000;
      },
      20000));
  CHECK(bounded);
  auto st = c.nodes[0].t->stats();
  CHECK(st.dropped_queue_full == refused);
  for (const auto& p : st.peers) {
    if (p.key == raw_key.public_key()) CHECK(p.dropped_queue_full == refused);
  }
  CHECK(accepted > 0);
  // The stalled peer does not hold up another peer.
  for (int i = 0; i < 10; ++i) CHECK(c.nodes[0].t->send(c.key(1), frame));
  REQUIRE(run_until(c.io, [&] { return c.nodes[1].received.size() == 10; }));
  CHECK(c.nodes[0].t->connected(raw_key.public_key()));
}

TEST_CASE("a peer that stops reading for idle_timeout_ms is disconnected") {
  Cluster c(1);
  identity::KeyPair raw_key = test_key(100);
  Options o = test_options(c.nodes[0].lines);
  o.keepalive_interval_ms = 50;
  o.idle_timeout_ms = 300;
  c.start(0, o, std::vector<PublicKey>{c.key(0), raw_key.public_key()});
  RawPeer raw(c.io, raw_key, "imi-test");
  raw.connect(c.nodes[0].port);
  REQUIRE(raw.handshake());
  // The raw peer sends nothing: the transport gives up on it.
  REQUIRE(run_until(c.io, [&] { return c.nodes[0].downs[raw_key.public_key()] == 1; }));
  CHECK(any_line_has(*c.nodes[0].lines, "p2p.idle_timeout"));
}

TEST_CASE("an idle authenticated connection sends keepalives") {
  Cluster c(1);
  identity::KeyPair raw_key = test_key(100);
  Options o = test_options(c.nodes[0].lines);
  o.keepalive_interval_ms = 30;
  c.start(0, o, std::vector<PublicKey>{c.key(0), raw_key.public_key()});
  RawPeer raw(c.io, raw_key, "imi-test");
  raw.connect(c.nodes[0].port);
  REQUIRE(raw.handshake());
  auto p = raw.read_sealed(2000);
  REQUIRE(p);
  CHECK((*p)[0] == static_cast<uint8_t>(FrameType::kKeepalive));
  CHECK(p->size() == 1);
}

namespace {

// A raw peer key that sorts above `than`, so `than`'s outbound connection to
// it is the one a simultaneous dial keeps.
identity::KeyPair key_above(const PublicKey& than) {
  for (uint8_t n = 100;; ++n) {
    identity::KeyPair k = test_key(n);
    if (than < k.public_key()) return k;
  }
}

}  // namespace

TEST_CASE("duplicate connections: a simultaneous dial keeps the lower key's; a late one replaces") {
  for (bool simultaneous : {true, false}) {
    CAPTURE(simultaneous);
    Cluster c(1);
    identity::KeyPair raw_key = key_above(c.key(0));
    Options o = test_options(c.nodes[0].lines);
    o.handshake_timeout_ms = simultaneous ? 1500 : 50;  // also the retire grace
    c.start(0, o, std::vector<PublicKey>{c.key(0), raw_key.public_key()});
    asio::ip::tcp::acceptor listener(c.io, {asio::ip::make_address("127.0.0.1"), 0});
    c.nodes[0].t->add_peer_address(raw_key.public_key(), "127.0.0.1",
                                   listener.local_endpoint().port());
    RawPeer dialed(c.io, raw_key, "imi-test");
    REQUIRE(dialed.accept_from(listener));
    REQUIRE(dialed.handshake(Role::kResponder));
    REQUIRE(run_until(c.io, [&] { return c.nodes[0].t->connected(raw_key.public_key()); }));
    if (!simultaneous) run_for(c.io, 100);  // the first connection is now old

    RawPeer dialing(c.io, raw_key, "imi-test");
    dialing.connect(c.nodes[0].port);
    REQUIRE(dialing.handshake(Role::kInitiator));
    if (simultaneous) {
      CHECK(dialing.wait_closed());
      CHECK(any_line_has(*c.nodes[0].lines, "p2p.duplicate", "keeping the connection initiated"));
      REQUIRE(c.nodes[0].t->send(raw_key.public_key(), Bytes{1}));
      auto p = dialed.read_sealed();
      REQUIRE(p);
      CHECK(*p == Bytes{static_cast<uint8_t>(FrameType::kData), 1});
    } else {
      CHECK(dialed.wait_closed());
      CHECK(any_line_has(*c.nodes[0].lines, "p2p.duplicate", "replaced by a newer"));
      REQUIRE(c.nodes[0].t->send(raw_key.public_key(), Bytes{2}));
      Result<Bytes> p = Status::error("none", "");
      // Keepalives may come first.
      do {
        p = dialing.read_sealed();
        REQUIRE(p);
      } while ((*p)[0] == static_cast<uint8_t>(FrameType::kKeepalive));
      CHECK(*p == Bytes{static_cast<uint8_t>(FrameType::kData), 2});
    }
    CHECK(c.nodes[0].t->connected(raw_key.public_key()));
    CHECK(c.nodes[0].ups[raw_key.public_key()] == 1);
    CHECK(c.nodes[0].downs[raw_key.public_key()] == 0);
  }
}
