// The validator P2P transport (DESIGN "Edges: P2P"): moves opaque frames
// between admitted keys over TCP. Knows nothing of consensus.
//
//   Transport t(io, options, key_pair, chain_id);
//   t.set_admitted(validator_and_observer_keys);
//   t.add_peer_address(peer_key, "10.0.0.2", 26656);
//   t.on_message([](const PublicKey& from, Bytes frame) { ... });
//   t.on_peer_state([](const PublicKey& peer, bool connected) { ... });
//   if (Status s = t.start(); !s) ...;
//   t.send(peer_key, frame);   // false: dropped (not connected, queue full, too large)
//   t.broadcast(frame);
//
// Security: every connection runs the handshake of handshake.h (ephemeral
// X25519, a transcript signed with the validator key under the "handshake"
// domain tag, chain id and protocol version checked), then every frame is
// sealed with ChaCha20-Poly1305 under a per-direction key and a counter nonce
// (cipher.h). A peer whose key is not admitted, on another chain, with a bad
// signature, a reflected handshake, an oversized frame, garbage or a frame
// that fails authentication is disconnected, and the reason is logged.
//
// Connections: one per peer. When both sides dial each other at once (two
// connections authenticated within handshake_timeout_ms of each other), both
// ends keep the one initiated by the lower key (bytewise); otherwise a new
// connection replaces the old one, which the peer evidently lost (restart,
// broken route). Replacing a connection fires no on_peer_state.
// Configured addresses are redialed with capped, jittered exponential back-off
// (Options). Frames to one peer keep their order on one connection (a
// duplicate being retired may still deliver a few earlier frames after the
// new connection started); frames are delivered at most once; a frame sent
// just before a connection drops may be lost (consensus retransmits on its
// timeouts).
//
// Threading: NOT thread-safe. Call every method on the thread that runs the
// io_context (asio::post from elsewhere); all callbacks (on_message,
// on_peer_state, Options::log) run on that thread. Callbacks may call any
// method except destroying the Transport. No callback fires after stop().
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"
#include "node/p2p/options.h"

namespace imi::p2p {

class TransportImpl;

class Transport {
 public:
  using MessageFn = std::function<void(const PublicKey& from, Bytes frame)>;
  using PeerStateFn = std::function<void(const PublicKey& peer, bool connected)>;

  // `chain` is the chain id every peer must present (1..255 bytes).
  Transport(boost::asio::io_context& io, Options options, identity::KeyPair self,
            std::string chain);
  // Calls stop().
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Starts listening (unless listen_host is empty) and dialing admitted peers
  // with known addresses. "p2p.bad_listen_address" / "p2p.listen_failed"
  // when the address cannot be bound, "p2p.bad_chain" for an empty or too long
  // chain id. Call once.
  Status start();
  // Closes the listener and every connection, cancels redials. Idempotent.
  // A stopped transport cannot be started again; make a new one.
  void stop();

  // Replaces the set of keys allowed to connect (validators plus configured
  // observers). Connections to keys no longer in it are closed at once;
  // peers newly in it with a known address are dialed.
  void set_admitted(std::vector<PublicKey> keys);
  // Remembers where `key` listens and dials it while it is admitted and not
  // connected. A later call replaces the address.
  void add_peer_address(const PublicKey& key, std::string host, uint16_t port);

  // Queues `frame` for `to`. False (and counted in Stats) when `to` has no
  // authenticated connection, its queue is at a limit, or the frame is over
  // frame_bytes_max.
  bool send(const PublicKey& to, ByteView frame);
  // send() to every connected peer; returns how many accepted the frame.
  size_t broadcast(ByteView frame);

  void on_message(MessageFn fn);
  void on_peer_state(PeerStateFn fn);

  // The bound port (useful with listen_port 0); 0 before start() or when not listening.
  uint16_t listen_port() const;
  bool connected(const PublicKey& key) const;
  std::vector<PublicKey> connected_peers() const;
  Stats stats() const;

 private:
  std::shared_ptr<TransportImpl> impl_;
};

}  // namespace imi::p2p
