// The handshake and frame sealing without sockets: transcript shape, key
// agreement, signature binding, every refusal, nonce handling and back-off.
#include <doctest/doctest.h>

#include <limits>

#include "node/p2p/cipher.h"
#include "node/p2p/handshake.h"
#include "node/p2p/transport_impl.h"

using namespace imi;
using namespace imi::p2p;

namespace {

identity::KeyPair key(uint8_t n) {
  identity::Seed s{};
  s.fill(n);
  return identity::KeyPair::from_seed(s);
}

Bytes hello_of(const Handshake& h) { return encode_hello(h.own_hello()); }

}  // namespace

TEST_CASE("the transcript is JCS with sorted keys, lowercase hex and the signer's role") {
  PublicKey ik{}, rk{};
  EphemeralKey ie{}, re{};
  ik.fill(0x01);
  ie.fill(0x02);
  rk.fill(0xab);
  re.fill(0xcd);
  auto hex = [](const std::array<uint8_t, 32>& a) { return to_hex(a); };
  CHECK(transcript_json("imi-test", ik, ie, rk, re, nullptr) ==
        "{\"chain\":\"imi-test\",\"initiator_eph\":\"" + hex(ie) + "\",\"initiator_key\":\"" +
            hex(ik) + "\",\"responder_eph\":\"" + hex(re) + "\",\"responder_key\":\"" + hex(rk) +
            "\",\"v\":1}");
  CHECK(transcript_json("a\"b\\c\n", ik, ie, rk, re, "initiator") ==
        "{\"chain\":\"a\\\"b\\\\c\\n\",\"initiator_eph\":\"" + hex(ie) + "\",\"initiator_key\":\"" +
            hex(ik) + "\",\"responder_eph\":\"" + hex(re) + "\",\"responder_key\":\"" + hex(rk) +
            "\",\"role\":\"initiator\",\"v\":1}");
  CHECK(to_hex(rk) == [] {
    std::string s;
    for (int i = 0; i < 32; ++i) s += "ab";
    return s;
  }());
}

TEST_CASE("both sides derive mirrored session keys and verify each other's signature") {
  auto a = key(1), b = key(2);
  Handshake ini(a, "chain", Role::kInitiator);
  Handshake res(b, "chain", Role::kResponder);
  REQUIRE(ini.accept_peer_hello(hello_of(res)));
  REQUIRE(res.accept_peer_hello(hello_of(ini)));
  CHECK(ini.peer_key() == b.public_key());
  CHECK(res.peer_key() == a.public_key());
  CHECK(ini.send_key() == res.receive_key());
  CHECK(ini.receive_key() == res.send_key());
  CHECK(ini.send_key() != ini.receive_key());

  auto sig_i = ini.own_signature();
  auto sig_r = res.own_signature();
  CHECK(res.verify_peer_signature(ByteView(sig_i.data(), 64)));
  CHECK(ini.verify_peer_signature(ByteView(sig_r.data(), 64)));
  // The signature covers the documented bytes.
  CHECK(identity::verify(identity::Domain::kHandshake, a.public_key(),
                         ini.signed_transcript(Role::kInitiator), sig_i));
  // A signature is bound to its role: the initiator's own signature reflected
  // back is not the responder's.
  CHECK(ini.verify_peer_signature(ByteView(sig_i.data(), 64)).code() == "p2p.bad_signature");
  auto bad = sig_r;
  bad[10] ^= 1;
  CHECK(ini.verify_peer_signature(ByteView(bad.data(), 64)).code() == "p2p.bad_signature");
  CHECK(ini.verify_peer_signature(ByteView(sig_r.data(), 63)).code() == "p2p.bad_signature");

  // Fresh ephemeral keys every time: a second handshake derives other keys.
  Handshake ini2(a, "chain", Role::kInitiator);
  Handshake res2(b, "chain", Role::kResponder);
  REQUIRE(ini2.accept_peer_hello(hello_of(res2)));
  CHECK(ini2.send_key() != ini.send_key());
  // A signature from an old session does not verify in a new one.
  CHECK(ini2.verify_peer_signature(ByteView(sig_r.data(), 64)).code() == "p2p.bad_signature");
}

TEST_CASE("a hello is refused for wrong chain, version, reflection, own key, garbage") {
  auto a = key(1), b = key(2);
  Handshake mine(a, "chain-a", Role::kInitiator);

  Handshake other_chain(b, "chain-b", Role::kResponder);
  CHECK(mine.accept_peer_hello(hello_of(other_chain)).code() == "p2p.wrong_chain");

  Handshake theirs(b, "chain-a", Role::kResponder);
  Hello v2 = theirs.own_hello();
  v2.version = 2;
  Handshake m2(a, "chain-a", Role::kInitiator);
  CHECK(m2.accept_peer_hello(encode_hello(v2)).code() == "p2p.version");

  Handshake m3(a, "chain-a", Role::kInitiator);
  CHECK(m3.accept_peer_hello(hello_of(m3)).code() == "p2p.reflected");

  Handshake m4(a, "chain-a", Role::kInitiator);
  Handshake same_key(a, "chain-a", Role::kResponder);
  CHECK(m4.accept_peer_hello(hello_of(same_key)).code() == "p2p.self");

  Handshake m5(a, "chain-a", Role::kInitiator);
  Hello low = theirs.own_hello();
  low.ephemeral.fill(0);  // a low-order point: the shared secret would be zero
  CHECK(m5.accept_peer_hello(encode_hello(low)).code() == "p2p.bad_key_exchange");

  Handshake m6(a, "chain-a", Role::kInitiator);
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(m6.accept_peer_hello(as_bytes(junk)).code() == "p2p.bad_hello");
  Bytes cut = hello_of(theirs);
  cut.pop_back();
  CHECK(m6.accept_peer_hello(cut).code() == "p2p.bad_hello");
  CHECK(m6.accept_peer_hello(ByteView()).code() == "p2p.bad_hello");
  // After those refusals a valid hello is still accepted exactly once.
  CHECK(m6.accept_peer_hello(hello_of(theirs)));
  CHECK(m6.accept_peer_hello(hello_of(theirs)).code() == "p2p.protocol");
}

TEST_CASE("hello encoding round-trips") {
  auto a = key(7);
  Handshake h(a, "imi-local", Role::kResponder);
  auto d = decode_hello(hello_of(h));
  REQUIRE(d);
  CHECK(d->identity == a.public_key());
  CHECK(d->ephemeral == h.own_hello().ephemeral);
  CHECK(d->chain == "imi-local");
  CHECK(d->version == kProtocolVersion);
}

TEST_CASE("sealed frames: round trip, fresh nonce per frame, tamper and replay fail") {
  SessionKey k{};
  k.fill(9);
  FrameSealer s(k);
  FrameOpener o(k);
  Bytes payload = {1, 2, 3, 4};
  auto w1 = s.seal(FrameType::kData, payload);
  auto w2 = s.seal(FrameType::kData, payload);
  REQUIRE(w1);
  REQUIRE(w2);
  CHECK(w1->size() == kFrameHeaderBytes + kFrameOverheadBytes + payload.size());
  CHECK(read_be32(w1->data()) == w1->size() - kFrameHeaderBytes);
  // Identical plaintexts, different ciphertexts: the counter moved.
  CHECK(*w1 != *w2);
  CHECK(s.next_counter() == 2);

  auto body = [](const Bytes& w) { return ByteView(w).subspan(kFrameHeaderBytes); };
  auto head = [](const Bytes& w) { return ByteView(w).first(kFrameHeaderBytes); };
  // Out of order: frame 2 first fails.
  FrameOpener o2(k);
  CHECK(o2.open(head(*w2), body(*w2)).status().code() == "p2p.decrypt_failed");

  auto p1 = o.open(head(*w1), body(*w1));
  REQUIRE(p1);
  CHECK((*p1)[0] == static_cast<uint8_t>(FrameType::kData));
  CHECK(Bytes(p1->begin() + 1, p1->end()) == payload);
  // Replay of frame 1 fails.
  CHECK(o.open(head(*w1), body(*w1)).status().code() == "p2p.decrypt_failed");
  Bytes t = *w2;
  t.back() ^= 0x80;
  CHECK(o.open(head(t), body(t)).status().code() == "p2p.decrypt_failed");
  // The length prefix is authenticated too.
  Bytes h2 = *w2;
  h2[3] ^= 1;
  CHECK(o.open(head(h2), body(*w2)).status().code() == "p2p.decrypt_failed");
  // A failed open does not advance the counter: the genuine frame still opens.
  CHECK(o.open(head(*w2), body(*w2)));
  CHECK(o.open(head(*w2), ByteView(w2->data(), 3)).status().code() == "p2p.decrypt_failed");
}

TEST_CASE("a sealer refuses to reuse a nonce when the counter is exhausted") {
  SessionKey k{};
  k.fill(3);
  constexpr uint64_t kLast = std::numeric_limits<uint64_t>::max();
  FrameSealer s(k, kLast - 1);
  FrameOpener o(k, kLast - 1);
  auto w = s.seal(FrameType::kKeepalive, {});
  REQUIRE(w);
  CHECK(o.open(ByteView(*w).first(4), ByteView(*w).subspan(4)));
  CHECK(s.seal(FrameType::kData, Bytes{1}).status().code() == "p2p.nonce_exhausted");
  CHECK(s.seal(FrameType::kData, Bytes{1}).status().code() == "p2p.nonce_exhausted");
  CHECK(o.open(ByteView(*w).first(4), ByteView(*w).subspan(4)).status().code() ==
        "p2p.nonce_exhausted");
}

TEST_CASE("back-off doubles from reconnect_min_ms, caps at reconnect_max_ms, with jitter") {
  Options o;
  o.reconnect_min_ms = 100;
  o.reconnect_max_ms = 1000;
  auto low = [](uint32_t) { return 0u; };
  auto high = [](uint32_t n) { return n - 1; };
  CHECK(backoff_ms(o, 0, high) == 0);
  CHECK(backoff_ms(o, 1, low) == 50);
  CHECK(backoff_ms(o, 1, high) == 100);
  CHECK(backoff_ms(o, 2, high) == 200);
  CHECK(backoff_ms(o, 4, high) == 800);
  CHECK(backoff_ms(o, 5, high) == 1000);
  CHECK(backoff_ms(o, 5, low) == 500);
  CHECK(backoff_ms(o, 1000000, high) == 1000);
}
