#include "node/p2p/transport.h"

#include <iostream>

#include "node/p2p/transport_impl.h"

namespace imi::p2p {

// ---- Transport: the public face forwards to TransportImpl -----------------

Transport::Transport(asio::io_context& io, Options options, identity::KeyPair self,
                     std::string chain)
    : impl_(std::make_shared<TransportImpl>(io, std::move(options), std::move(self),
                                            std::move(chain))) {}
Transport::~Transport() { impl_->stop(); }
Status Transport::start() { return impl_->start(); }
void Transport::stop() { impl_->stop(); }
void Transport::set_admitted(std::vector<PublicKey> keys) { impl_->set_admitted(std::move(keys)); }
void Transport::add_peer_address(const PublicKey& key, std::string host, uint16_t port) {
  impl_->add_peer_address(key, std::move(host), port);
}
bool Transport::send(const PublicKey& to, ByteView frame) { return impl_->send(to, frame); }
size_t Transport::broadcast(ByteView frame) { return impl_->broadcast(frame); }
void Transport::on_message(MessageFn fn) { impl_->on_message_ = std::move(fn); }
void Transport::on_peer_state(PeerStateFn fn) { impl_->on_peer_state_ = std::move(fn); }
uint16_t Transport::listen_port() const { return impl_->listen_port(); }
bool Transport::connected(const PublicKey& key) const { return impl_->connected(key); }
std::vector<PublicKey> Transport::connected_peers() const { return impl_->connected_peers(); }
Stats Transport::stats() const { return impl_->stats(); }

// ---- TransportImpl --------------------------------------------------------

TransportImpl::TransportImpl(asio::io_context& io, Options options, identity::KeyPair self,
                             std::string chain)
    : io_(io),
      options_(std::move(options)),
      self_(std::move(self)),
      chain_(std::move(chain)),
      acceptor_(io),
      resolver_(io) {}

void TransportImpl::log(LogLevel level, const std::string& line) {
  if (level < options_.log_level_min) return;
  if (options_.log) {
    options_.log(level, line);
    return;
  }
  static const char* kNames[] = {"debug", "info", "warn"};
  std::clog << "p2p " << kNames[static_cast<int>(level)] << ": " << line << "\n";
}

Status TransportImpl::start() {
  if (started_ || stopped_) {
    return Status::error("p2p.already_started", "a transport starts once; make a new one");
  }
  if (chain_.empty() || chain_.size() > 255) {
    return Status::error("p2p.bad_chain", "chain id must be 1..255 bytes");
  }
  started_ = true;
  if (!options_.listen_host.empty()) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(options_.listen_host, ec);
    if (ec) {
      return Status::error("p2p.bad_listen_address",
                           "listen host '" + options_.listen_host + "' is not an IP address");
    }
    asio::ip::tcp::endpoint ep(addr, options_.listen_port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      const std::string why = ec.message();  // before close() overwrites ec
      acceptor_.close(ec);
      return Status::error("p2p.listen_failed", "cannot listen on " + options_.listen_host + ":" +
                                                    std::to_string(options_.listen_port) + ": " +
                                                    why);
    }
    log(LogLevel::kInfo, "listening on " + options_.listen_host + ":" +
                             std::to_string(listen_port()) + " as " + self_.did());
    do_accept();
  }
  std::vector<PublicKey> keys;
  for (const auto& [key, p] : peers_) keys.push_back(key);
  for (const auto& key : keys) maybe_dial(key);
  return Status::ok();
}

void TransportImpl::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  resolver_.cancel();
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [id, c] : handshaking_) all.push_back(c);
  for (auto& [id, c] : retiring_) all.push_back(c);
  for (auto& [key, p] : peers_) {
    if (p.conn) all.push_back(p.conn);
    if (p.redial) p.redial->cancel();
  }
  for (auto& c : all) c->close(Status::error("p2p.stopped", "transport stopped"));
  handshaking_.clear();
  retiring_.clear();
  peers_.clear();
}

void TransportImpl::do_accept() {
  acceptor_.async_accept([w = weak_from_this()](const boost::system::error_code& ec,
                                                asio::ip::tcp::socket socket) {
    auto self = w.lock();
    if (!self || self->stopped_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      self->log(LogLevel::kWarn, "accept failed: " + ec.message());
    } else if (self->handshaking_.size() >= self->options_.handshakes_pending_max) {
      ++self->handshakes_refused_;
      self->log(LogLevel::kWarn,
                "refused an inbound connection: " + std::to_string(self->handshaking_.size()) +
                    " handshakes already pending");
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto c =
          std::make_shared<Connection>(std::move(socket), Role::kResponder, std::nullopt,
                                       self->self_, self->chain_, self->options_, w, self->totals_);
      self->handshaking_[c->id()] = c;
      c->start();
    }
    self->do_accept();
  });
}

bool TransportImpl::admitted(const PublicKey& key) const { return admitted_.contains(key); }

bool TransportImpl::preferred(const Connection& c, const PublicKey& peer) const {
  const PublicKey& initiator = c.role() == Role::kInitiator ? self_.public_key() : peer;
  return initiator == std::min(self_.public_key(), peer);
}

void TransportImpl::connection_authenticated(const std::shared_ptr<Connection>& c) {
  handshaking_.erase(c->id());
  ++handshakes_completed_;
  if (stopped_) {
    c->close(Status::error("p2p.stopped", "transport stopped"));
    return;
  }
  const PublicKey key = *c->peer_key();
  Peer& p = peers_[key];
  if (c->role() == Role::kInitiator) p.dialing = false;
  p.attempt = 0;
  if (p.conn) {
    // Two connections authenticated close together are a simultaneous dial:
    // both ends keep the one the lower key initiated. Otherwise the peer
    // dialed because it lost the old connection, which is stale: keep the new.
    bool simultaneous = std::chrono::steady_clock::now() - p.conn->authenticated_at() <
                        std::chrono::milliseconds(options_.handshake_timeout_ms);
    // The loser of a simultaneous dial is retired, not closed: the peer may
    // not have authenticated the winner yet, and closing would make it see
    // the peer go down and up again. It closes after the grace period.
    auto grace = std::chrono::milliseconds(options_.handshake_timeout_ms);
    if (simultaneous && preferred(*p.conn, key) && !preferred(*c, key)) {
      retiring_[c->id()] = c;
      c->retire(Status::error("p2p.duplicate",
                              "already connected; keeping the connection "
                              "initiated by the lower key"),
                grace);
      return;
    }
    auto old = std::move(p.conn);
    p.conn = c;
    Status why = Status::error("p2p.duplicate", "replaced by a newer connection to the same peer");
    if (simultaneous) {
      retiring_[old->id()] = old;
      old->retire(why, grace);
    } else {
      old->close(why);
    }
    return;
  }
  p.conn = c;
  if (on_peer_state_) on_peer_state_(key, true);
}

void TransportImpl::connection_frame(Connection& c, Bytes payload) {
  if (stopped_ || !on_message_) return;
  on_message_(*c.peer_key(), std::move(payload));
}

void TransportImpl::connection_closed(Connection& c, const Status& reason, bool was_authenticated) {
  (void)reason;
  handshaking_.erase(c.id());
  if (stopped_) return;
  if (!was_authenticated) ++handshakes_refused_;
  if (was_authenticated) ++connections_closed_;
  std::optional<PublicKey> key = c.peer_key();
  if (was_authenticated && key) {
    auto it = peers_.find(*key);
    if (it != peers_.end() && it->second.conn.get() == &c) {
      it->second.conn.reset();
      // Wait about reconnect_min_ms before redialing a peer that just left.
      it->second.attempt = 1;
      if (on_peer_state_) on_peer_state_(*key, false);
      maybe_dial(*key);
    }
  }
  if (c.role() == Role::kInitiator && c.expected_peer()) {
    auto it = peers_.find(*c.expected_peer());
    if (it != peers_.end() && it->second.dialing) {
      it->second.dialing = false;
      if (!was_authenticated) ++it->second.attempt;
      maybe_dial(*c.expected_peer());
    }
  }
}

void TransportImpl::set_admitted(std::vector<PublicKey> keys) {
  admitted_ = std::set<PublicKey>(keys.begin(), keys.end());
  if (stopped_) return;
  std::vector<std::shared_ptr<Connection>> drop;
  for (auto& [key, p] : peers_) {
    if (p.conn && !admitted_.contains(key)) drop.push_back(p.conn);
  }
  for (auto* m : {&handshaking_, &retiring_}) {
    for (auto& [id, c] : *m) {
      if (c->peer_key() && !admitted_.contains(*c->peer_key())) drop.push_back(c);
    }
  }
  for (auto& c : drop) {
    c->close(Status::error("p2p.removed", "key removed from the admitted set"));
  }
  if (!started_) return;
  std::vector<PublicKey> dial;
  for (const auto& [key, p] : peers_) {
    if (p.address && admitted_.contains(key)) dial.push_back(key);
  }
  for (const auto& key : dial) maybe_dial(key);
}

void TransportImpl::add_peer_address(const PublicKey& key, std::string host, uint16_t port) {
  if (stopped_) return;
  peers_[key].address = Address{std::move(host), port};
  if (started_) maybe_dial(key);
}

Connection::Push TransportImpl::push(Peer& p, ByteView frame) {
  Connection::Push r = p.conn->send(frame);
  if (r == Connection::Push::kQueueFull) ++p.dropped_queue_full;
  return r;
}

bool TransportImpl::send(const PublicKey& to, ByteView frame) {
  if (frame.size() > options_.frame_bytes_max) {
    ++dropped_too_large_;
    log(LogLevel::kWarn,
        "refused to send a " + std::to_string(frame.size()) + "-byte frame: over frame_bytes_max");
    return false;
  }
  auto it = peers_.find(to);
  if (stopped_ || it == peers_.end() || !it->second.conn) {
    ++dropped_not_connected_;
    return false;
  }
  return push(it->second, frame) == Connection::Push::kQueued;
}

size_t TransportImpl::broadcast(ByteView frame) {
  if (frame.size() > options_.frame_bytes_max) {
    ++dropped_too_large_;
    log(LogLevel::kWarn, "refused to broadcast a " + std::to_string(frame.size()) +
                             "-byte frame: over frame_bytes_max");
    return 0;
  }
  if (stopped_) return 0;
  // A send may close a connection (nonce exhaustion), which edits peers_.
  std::vector<PublicKey> keys = connected_peers();
  size_t n = 0;
  for (const auto& key : keys) {
    auto it = peers_.find(key);
    if (it != peers_.end() && it->second.conn &&
        push(it->second, frame) == Connection::Push::kQueued) {
      ++n;
    }
  }
  return n;
}

uint16_t TransportImpl::listen_port() const {
  boost::system::error_code ec;
  if (!acceptor_.is_open()) return 0;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

bool TransportImpl::connected(const PublicKey& key) const {
  auto it = peers_.find(key);
  return it != peers_.end() && it->second.conn != nullptr;
}

std::vector<PublicKey> TransportImpl::connected_peers() const {
  std::vector<PublicKey> out;
  for (const auto& [key, p] : peers_) {
    if (p.conn) out.push_back(key);
  }
  return out;
}

Stats TransportImpl::stats() const {
  Stats s;
  s.handshakes_pending = handshaking_.size();
  s.frames_sent = totals_->frames_sent;
  s.frames_received = totals_->frames_received;
  s.bytes_sent = totals_->bytes_sent;
  s.bytes_received = totals_->bytes_received;
  s.dropped_not_connected = dropped_not_connected_;
  s.dropped_too_large = dropped_too_large_;
  s.handshakes_completed = handshakes_completed_;
  s.handshakes_refused = handshakes_refused_;
  s.connections_closed = connections_closed_;
  for (const auto& [key, p] : peers_) {
    s.dropped_queue_full += p.dropped_queue_full;
    if (!p.conn) continue;
    PeerStats ps = p.conn->stats();
    ps.dropped_queue_full = p.dropped_queue_full;
    s.peers.push_back(ps);
  }
  s.peers_connected = s.peers.size();
  return s;
}

}  // namespace imi::p2p
