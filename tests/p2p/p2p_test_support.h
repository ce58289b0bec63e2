// Helpers for P2P tests over 127.0.0.1: a cluster of transports on one
// io_context, a bounded run loop, and a raw peer that speaks the wire
// protocol by hand (to misbehave on purpose). Everything runs on the test
// thread: the raw peer uses non-blocking sockets and polls the io_context
// while it waits, so no test needs a second thread or a sleep.
#pragma once

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/p2p/cipher.h"
#include "node/p2p/handshake.h"
#include "node/p2p/transport.h"

namespace imi::p2p::testing {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

inline identity::KeyPair test_key(uint8_t n) {
  identity::Seed s{};
  s.fill(n);
  s[0] = 0x5a;
  return identity::KeyPair::from_seed(s);
}

// Runs `io` until `done()` holds or `ms` passed; returns done().
inline bool run_until(asio::io_context& io, const std::function<bool()>& done, int ms = 5000) {
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Runs `io` for `ms` (to let things that must NOT happen have their chance).
inline void run_for(asio::io_context& io, int ms) {
  run_until(
      io, [] { return false; }, ms);
}

// Options for tests: fast timers, log lines captured into `lines`.
inline Options test_options(std::shared_ptr<std::vector<std::string>> lines) {
  Options o;
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 200;
  o.handshake_timeout_ms = 2000;
  o.log_level_min = LogLevel::kDebug;
  o.log = [lines](LogLevel, const std::string& line) { lines->push_back(line); };
  return o;
}

inline bool any_line_has(const std::vector<std::string>& lines, const std::string& a,
                         const std::string& b = "") {
  for (const auto& l : lines) {
    if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
  }
  return false;
}

// N transports on one io_context, all admitting each other.
struct Cluster {
  struct Node {
    std::unique_ptr<identity::KeyPair> key;
    std::unique_ptr<Transport> t;
    std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
    std::vector<std::pair<PublicKey, Bytes>> received;
    std::map<PublicKey, int> ups, downs;
    uint16_t port = 0;
  };
  asio::io_context io;
  std::vector<Node> nodes;
  std::string chain = "imi-test";

  explicit Cluster(size_t n) {
    nodes.resize(n);
    for (size_t i = 0; i < n; ++i) {
      nodes[i].key = std::make_unique<identity::KeyPair>(test_key(static_cast<uint8_t>(i + 1)));
    }
  }
  std::vector<PublicKey> keys() const {
    std::vector<PublicKey> k;
    for (const auto& n : nodes) k.push_back(n.key->public_key());
    return k;
  }
  const PublicKey& key(size_t i) const { return nodes[i].key->public_key(); }

  // (Re)creates node i's transport (on its old port, if it had one) and starts
  // it; `o` usually comes from test_options(nodes[i].lines).
  void start(size_t i, Options o, std::optional<std::vector<PublicKey>> admitted = std::nullopt,
             const std::string& chain_id = "") {
    Node& n = nodes[i];
    n.t.reset();
    o.listen_port = n.port;
    n.t = std::make_unique<Transport>(io, o, *n.key, chain_id.empty() ? chain : chain_id);
    n.t->set_admitted(admitted ? *admitted : keys());
    n.t->on_message([&n](const PublicKey& from, Bytes b) { n.received.emplace_back(from, b); });
    n.t->on_peer_state([&n](const PublicKey& k, bool up) { (up ? n.ups : n.downs)[k]++; });
    REQUIRE(n.t->start());
    n.port = n.t->listen_port();
    REQUIRE(n.port != 0);
  }
  void start(size_t i) { start(i, test_options(nodes[i].lines)); }
  void start_all() {
    for (size_t i = 0; i < nodes.size(); ++i) start(i);
  }

  // Every node dials every other node (both directions, to exercise dedupe).
  void add_all_addresses() {
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (size_t j = 0; j < nodes.size(); ++j) {
        if (i != j && nodes[i].t) nodes[i].t->add_peer_address(key(j), "127.0.0.1", nodes[j].port);
      }
    }
  }
  // Fully connected with no handshake in flight (so no duplicate is pending).
  bool settled() const {
    if (!fully_connected()) return false;
    for (const auto& n : nodes) {
      if (n.t->stats().handshakes_pending != 0) return false;
    }
    return true;
  }
  bool fully_connected() const {
    for (const auto& n : nodes) {
      if (!n.t || n.t->connected_peers().size() != nodes.size() - 1) return false;
    }
    return true;
  }
};

// A hand-driven peer on a non-blocking socket.
class RawPeer {
 public:
  RawPeer(asio::io_context& io, identity::KeyPair key, std::string chain)
      : io_(io), key_(std::move(key)), chain_(std::move(chain)), socket_(io) {}

  void connect(uint16_t port) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    socket_.non_blocking(true);
  }

  // Accepts one connection on `a` (a listener of the test), polling `io`.
  bool accept_from(asio::ip::tcp::acceptor& a, int ms = 5000) {
    a.non_blocking(true);
    return run_until(
        io_,
        [&] {
          boost::system::error_code ec;
          a.accept(socket_, ec);
          if (ec) return false;
          socket_.non_blocking(true);
          return true;
        },
        ms);
  }

  // Writes all of `bytes`, running the io_context while the socket is full.
  // False if the peer closed or `ms` passed.
  bool write(ByteView bytes, int ms = 5000) {
    size_t done = 0;
    return run_until(
               io_,
               [&] {
                 boost::system::error_code ec;
                 done +=
                     socket_.write_some(asio::buffer(bytes.data() + done, bytes.size() - done), ec);
                 if (ec && ec != asio::error::would_block) {
                   failed_ = true;
                   return true;
                 }
                 return done == bytes.size();
               },
               ms) &&
           !failed_;
  }

  // Reads one whole frame (length prefix included); nullopt when the peer
  // closed or `ms` passed.
  std::optional<Bytes> read_frame(int ms = 5000) {
    bool ok = run_until(
        io_,
        [&] {
          if (has_frame()) return true;
          fill();
          return has_frame() || eof_;
        },
        ms);
    if (!ok || !has_frame()) return std::nullopt;
    size_t n = kFrameHeaderBytes + read_be32(in_.data());
    Bytes f(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(n));
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(n));
    return f;
  }

  // True once the other side closed the connection (within `ms`).
  bool wait_closed(int ms = 5000) {
    return run_until(
        io_,
        [&] {
          fill();
          in_.clear();
          return eof_;
        },
        ms);
  }

  // The whole handshake in `role`; the keys end up in sealer/opener.
  Status handshake(Role role = Role::kInitiator) {
    hs_ = std::make_unique<Handshake>(key_, chain_, role);
    if (!send_hello(hs_->own_hello())) return Status::error("test.io", "hello not written");
    auto theirs = read_frame();
    if (!theirs) return Status::error("test.closed", "no hello from the transport");
    IMI_RETURN_IF_ERROR(hs_->accept_peer_hello(ByteView(*theirs).subspan(kFrameHeaderBytes)));
    sealer = std::make_unique<FrameSealer>(hs_->send_key());
    opener = std::make_unique<FrameOpener>(hs_->receive_key());
    auto sig = hs_->own_signature();
    if (!write(*sealer->seal(FrameType::kAuth, ByteView(sig.data(), sig.size())))) {
      return Status::error("test.io", "auth not written");
    }
    auto auth = read_sealed();
    if (!auth) return auth.status();
    return hs_->verify_peer_signature(ByteView(*auth).subspan(1));
  }

  bool send_hello(const Hello& h) {
    Bytes body = encode_hello(h);
    Bytes wire(kFrameHeaderBytes);
    write_be32(wire.data(), static_cast<uint32_t>(body.size()));
    wire.insert(wire.end(), body.begin(), body.end());
    return write(wire);
  }

  // Reads and opens one sealed frame: type byte + payload.
  Result<Bytes> read_sealed(int ms = 5000) {
    auto f = read_frame(ms);
    if (!f) return Status::error("test.closed", "no frame");
    last_wire = *f;
    return opener->open(ByteView(*f).first(kFrameHeaderBytes),
                        ByteView(*f).subspan(kFrameHeaderBytes));
  }

  std::unique_ptr<FrameSealer> sealer;
  std::unique_ptr<FrameOpener> opener;
  Bytes last_wire;

 private:
  bool has_frame() const {
    return in_.size() >= kFrameHeaderBytes &&
           in_.size() >= kFrameHeaderBytes + read_be32(in_.data());
  }
  void fill() {
    uint8_t buf[65536];
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (!ec) {
      in_.insert(in_.end(), buf, buf + n);
    } else if (ec != asio::error::would_block) {
      eof_ = true;
    }
  }

  asio::io_context& io_;
  identity::KeyPair key_;
  std::string chain_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<Handshake> hs_;
  Bytes in_;
  bool eof_ = false;
  bool failed_ = false;
};

}  // namespace imi::p2p::testing
