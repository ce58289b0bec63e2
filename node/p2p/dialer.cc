// Dialing configured peers with capped, jittered exponential back-off.
#include <sodium.h>

#include <algorithm>

#include "node/p2p/transport_impl.h"

namespace imi::p2p {

uint32_t backoff_ms(const Options& o, uint32_t attempt,
                    const std::function<uint32_t(uint32_t)>& uniform) {
  if (attempt == 0) return 0;
  uint64_t cap = std::max<uint64_t>(1, o.reconnect_max_ms);
  uint64_t wait = std::max<uint64_t>(1, o.reconnect_min_ms);
  for (uint32_t i = 1; i < attempt && wait < cap; ++i) wait *= 2;
  wait = std::min(wait, cap);
  uint64_t half = wait / 2;
  return static_cast<uint32_t>(half + uniform(static_cast<uint32_t>(wait - half + 1)));
}

void TransportImpl::maybe_dial(const PublicKey& key) {
  if (stopped_ || !started_) return;
  auto it = peers_.find(key);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  if (!p.address || !admitted_.contains(key) || p.conn || p.dialing || p.redial_armed) return;
  uint32_t wait =
      backoff_ms(options_, p.attempt, [](uint32_t n) { return randombytes_uniform(n); });
  if (wait == 0) {
    dial(key);
    return;
  }
  if (!p.redial) p.redial = std::make_unique<asio::steady_timer>(io_);
  p.redial_armed = true;
  p.redial->expires_after(std::chrono::milliseconds(wait));
  log(LogLevel::kDebug, "redialing " + identity::did_from_key(key) + " in " + std::to_string(wait) +
                            " ms (attempt " + std::to_string(p.attempt) + ")");
  p.redial->async_wait([w = weak_from_this(), key](const boost::system::error_code& ec) {
    auto self = w.lock();
    if (!self || self->stopped_ || ec) return;
    auto it = self->peers_.find(key);
    if (it == self->peers_.end()) return;
    it->second.redial_armed = false;
    self->maybe_dial_now(key);
  });
}

void TransportImpl::maybe_dial_now(const PublicKey& key) {
  auto it = peers_.find(key);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  if (!p.address || !admitted_.contains(key) || p.conn || p.dialing) return;
  dial(key);
}

void TransportImpl::dial(const PublicKey& key) {
  Peer& p = peers_[key];
  p.dialing = true;
  Address addr = *p.address;
  resolver_.async_resolve(
      addr.host, std::to_string(addr.port),
      [w = weak_from_this(), key, addr](const boost::system::error_code& ec,
                                        asio::ip::tcp::resolver::results_type results) {
        auto self = w.lock();
        if (!self || self->stopped_) return;
        if (ec) {
          self->dial_failed(key, "cannot resolve " + addr.host + ": " + ec.message());
          return;
        }
        auto socket = std::make_shared<asio::ip::tcp::socket>(self->io_);
        asio::async_connect(
            *socket, results,
            [w, key, addr, socket](const boost::system::error_code& ec,
                                   const asio::ip::tcp::endpoint&) {
              auto self = w.lock();
              if (!self || self->stopped_) return;
              if (ec) {
                self->dial_failed(key, "cannot connect to " + addr.host + ":" +
                                           std::to_string(addr.port) + ": " + ec.message());
                return;
              }
              auto it = self->peers_.find(key);
              if (it == self->peers_.end() || !self->admitted_.contains(key) || it->second.conn) {
                // Admission changed or the peer connected to us meanwhile.
                if (it != self->peers_.end()) it->second.dialing = false;
                boost::system::error_code ignored;
                socket->close(ignored);
                return;
              }
              auto c = std::make_shared<Connection>(std::move(*socket), Role::kInitiator, key,
                                                    self->self_, self->chain_, self->options_, w,
                                                    self->totals_);
              self->handshaking_[c->id()] = c;
              c->start();
            });
      });
}

void TransportImpl::dial_failed(const PublicKey& key, const std::string& why) {
  auto it = peers_.find(key);
  if (it == peers_.end()) return;
  it->second.dialing = false;
  ++it->second.attempt;
  log(it->second.attempt <= 1 ? LogLevel::kInfo : LogLevel::kDebug,
      "dial " + identity::did_from_key(key) + " failed: " + why);
  maybe_dial(key);
}

}  // namespace imi::p2p
