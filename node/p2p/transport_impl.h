// Inside of Transport (transport.h): peers, admission, dedupe (transport.cc)
// and dialing with back-off (dialer.cc). Not for use outside node/p2p.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "node/p2p/connection.h"
#include "node/p2p/transport.h"

namespace imi::p2p {

// Wait before dial attempt number `attempt` (0: none): reconnect_min_ms
// doubled per earlier failure, capped at reconnect_max_ms, then drawn
// uniformly from [wait/2, wait] with `uniform(n)` returning a value in [0, n).
uint32_t backoff_ms(const Options& o, uint32_t attempt,
                    const std::function<uint32_t(uint32_t)>& uniform);

class TransportImpl : public ConnectionHost, public std::enable_shared_from_this<TransportImpl> {
 public:
  TransportImpl(asio::io_context& io, Options options, identity::KeyPair self, std::string chain);

  // ConnectionHost
  bool admitted(const PublicKey& key) const override;
  void connection_authenticated(const std::shared_ptr<Connection>& c) override;
  void connection_frame(Connection& c, Bytes payload) override;
  void connection_closed(Connection& c, const Status& reason, bool was_authenticated) override;
  void log(LogLevel level, const std::string& line) override;

  Status start();
  void stop();
  void set_admitted(std::vector<PublicKey> keys);
  void add_peer_address(const PublicKey& key, std::string host, uint16_t port);
  bool send(const PublicKey& to, ByteView frame);
  size_t broadcast(ByteView frame);
  uint16_t listen_port() const;
  bool connected(const PublicKey& key) const;
  std::vector<PublicKey> connected_peers() const;
  Stats stats() const;

  Transport::MessageFn on_message_;
  Transport::PeerStateFn on_peer_state_;

 private:
  struct Address {
    std::string host;
    uint16_t port = 0;
  };
  struct Peer {
    std::shared_ptr<Connection> conn;  // the authenticated connection, if any
    std::optional<Address> address;
    bool dialing = false;  // resolving, connecting or in handshake
    std::unique_ptr<asio::steady_timer> redial;
    bool redial_armed = false;
    uint32_t attempt = 0;  // dial failures since the last success
    uint64_t dropped_queue_full = 0;
  };

  void do_accept();
  void adopt(const std::shared_ptr<Connection>& c);
  // True when `c` is the connection both ends keep: initiated by the lower key.
  bool preferred(const Connection& c, const PublicKey& peer) const;
  Connection::Push push(Peer& p, ByteView frame);

  // dialer.cc
  void maybe_dial(const PublicKey& key);
  void maybe_dial_now(const PublicKey& key);  // after the back-off wait
  void dial(const PublicKey& key);
  void dial_failed(const PublicKey& key, const std::string& why);

  // Constant after construction.
  asio::io_context& io_;
  const Options options_;
  const identity::KeyPair self_;
  const std::string chain_;

  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::resolver resolver_;
  bool started_ = false;
  bool stopped_ = false;
  std::set<PublicKey> admitted_;
  std::map<PublicKey, Peer> peers_;
  std::map<uint64_t, std::shared_ptr<Connection>> handshaking_;
  // Authenticated duplicates waiting out their grace period (Connection::retire).
  std::map<uint64_t, std::shared_ptr<Connection>> retiring_;
  std::shared_ptr<Totals> totals_ = std::make_shared<Totals>();
  uint64_t dropped_not_connected_ = 0;
  uint64_t dropped_too_large_ = 0;
  uint64_t handshakes_completed_ = 0;
  uint64_t handshakes_refused_ = 0;
  uint64_t connections_closed_ = 0;
};

}  // namespace imi::p2p
