// One TCP connection of the transport: runs the handshake (handshake.h), then
// reads and writes sealed frames (cipher.h) through a bounded send queue.
// Internal to node/p2p; the node uses transport.h.
//
// Not thread-safe: every method and handler runs on the io_context thread.
// The connection keeps itself alive through its pending handlers and reaches
// its owner through a weak pointer, so it may outlive the Transport safely.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "node/p2p/cipher.h"
#include "node/p2p/handshake.h"
#include "node/p2p/options.h"

namespace imi::p2p {

namespace asio = boost::asio;
class Connection;

// What a connection reports to its owner (Transport's implementation).
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // Is `key` in the admitted set now?
  virtual bool admitted(const PublicKey& key) const = 0;
  // Both handshake signatures verified.
  virtual void connection_authenticated(const std::shared_ptr<Connection>& c) = 0;
  // A data frame arrived on an authenticated connection.
  virtual void connection_frame(Connection& c, Bytes payload) = 0;
  // The connection closed; `was_authenticated` says whether it got that far.
  virtual void connection_closed(Connection& c, const Status& reason, bool was_authenticated) = 0;
  virtual void log(LogLevel level, const std::string& line) = 0;
};

// Counters shared by every connection of one transport.
struct Totals {
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Push { kQueued, kQueueFull, kTooLarge, kNotOpen };

  // `expected_peer` is the key an outbound connection must reach; inbound
  // connections accept any admitted key.
  Connection(asio::ip::tcp::socket socket, Role role, std::optional<PublicKey> expected_peer,
             const identity::KeyPair& self, const std::string& chain, const Options& options,
             std::weak_ptr<ConnectionHost> host, std::shared_ptr<Totals> totals);
  ~Connection();

  // Sends the Hello, starts reading and arms the handshake timeout.
  void start();
  // Queues one data frame. kNotOpen before authentication or after close.
  Push send(ByteView payload);
  // Closes the socket at once (queued frames are dropped) and reports
  // `reason` to the host, once. Safe to call more than once.
  void close(const Status& reason);

  // Stops sending on an authenticated connection and closes it with `reason`
  // after `grace` (or earlier, if the peer closes it); frames that still
  // arrive are delivered. Used for the loser of a simultaneous dial.
  void retire(const Status& reason, std::chrono::milliseconds grace);

  uint64_t id() const { return id_; }
  Role role() const { return role_; }
  bool authenticated() const { return state_ == State::kOpen; }
  bool retired() const { return retired_; }
  bool closed() const { return state_ == State::kClosed; }
  // Known once the peer's Hello was accepted (always, once authenticated).
  std::optional<PublicKey> peer_key() const { return peer_key_; }
  const std::optional<PublicKey>& expected_peer() const { return expected_peer_; }
  const std::string& remote() const { return remote_; }
  PeerStats stats() const;
  std::chrono::steady_clock::time_point authenticated_at() const { return authenticated_at_; }

 private:
  enum class State { kHello, kAuth, kOpen, kClosed };
  struct Out {
    Bytes wire;
    size_t payload_bytes;
    bool data;
  };
  using Clock = std::chrono::steady_clock;

  void do_read();
  void on_read(const boost::system::error_code& ec, size_t n);
  // Handles every complete frame in the read buffer.
  void parse();
  void handle_frame(ByteView header, ByteView body);
  void on_hello(ByteView body);
  void on_auth(ByteView header, ByteView body);
  void on_sealed(ByteView header, ByteView body);
  void push(Out out);
  void do_write();
  void on_write(const boost::system::error_code& ec);
  void arm_tick();
  void on_tick();
  std::string who() const;

  // Constant after construction.
  const uint64_t id_;
  const Role role_;
  const std::optional<PublicKey> expected_peer_;
  const Options options_;
  const std::weak_ptr<ConnectionHost> host_;
  const std::shared_ptr<Totals> totals_;
  std::string remote_;

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  State state_ = State::kHello;
  bool retired_ = false;
  std::unique_ptr<Handshake> handshake_;  // until authenticated
  std::optional<PublicKey> peer_key_;
  std::unique_ptr<FrameSealer> sealer_;
  std::unique_ptr<FrameOpener> opener_;

  Bytes rbuf_;
  size_t rpos_ = 0;  // first unparsed byte
  size_t rend_ = 0;  // end of received bytes

  std::deque<Out> queue_;  // front `writing_` frames are being written
  size_t writing_ = 0;
  size_t queue_bytes_ = 0;
  std::vector<asio::const_buffer> write_bufs_;
  Clock::time_point authenticated_at_;
  Clock::time_point write_started_;
  Clock::time_point last_rx_;
  Clock::time_point last_tx_;

  uint64_t frames_sent_ = 0;
  uint64_t frames_received_ = 0;
};

}  // namespace imi::p2p
