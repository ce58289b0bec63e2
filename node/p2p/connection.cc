#include "node/p2p/connection.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace imi::p2p {
namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
// Read buffers grown for a large frame shrink back once empty.
constexpr size_t kReadBufferKeepBytes = 1024 * 1024;
// One write gathers at most this many frames / bytes.
constexpr size_t kWriteBatchFrames = 64;
constexpr size_t kWriteBatchBytes = 1024 * 1024;

std::atomic<uint64_t> next_connection_id{1};

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, Role role,
                       std::optional<PublicKey> expected_peer, const identity::KeyPair& self,
                       const std::string& chain, const Options& options,
                       std::weak_ptr<ConnectionHost> host, std::shared_ptr<Totals> totals)
    : id_(next_connection_id++),
      role_(role),
      expected_peer_(expected_peer),
      options_(options),
      host_(std::move(host)),
      totals_(std::move(totals)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      handshake_(std::make_unique<Handshake>(self, chain, role)),
      rbuf_(kReadBufferBytes) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  remote_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  last_rx_ = last_tx_ = write_started_ = Clock::now();
}

Connection::~Connection() = default;

std::string Connection::who() const {
  std::string s = role_ == Role::kInitiator ? "to " : "from ";
  s += remote_;
  if (peer_key_) s += " (" + identity::did_from_key(*peer_key_) + ")";
  return s;
}

void Connection::start() {
  Bytes hello = encode_hello(handshake_->own_hello());
  Bytes wire(kFrameHeaderBytes);
  write_be32(wire.data(), static_cast<uint32_t>(hello.size()));
  wire.insert(wire.end(), hello.begin(), hello.end());
  push(Out{std::move(wire), 0, false});
  timer_.expires_after(std::chrono::milliseconds(options_.handshake_timeout_ms));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed() || self->authenticated()) return;
    self->close(Status::error("p2p.handshake_timeout",
                              "handshake not finished within " +
                                  std::to_string(self->options_.handshake_timeout_ms) + " ms"));
  });
  do_read();
}

Connection::Push Connection::send(ByteView payload) {
  if (state_ != State::kOpen || retired_) return Push::kNotOpen;
  if (payload.size() > options_.frame_bytes_max) return Push::kTooLarge;
  if (queue_.size() >= options_.queue_messages_max ||
      queue_bytes_ + payload.size() > options_.queue_bytes_max) {
    return Push::kQueueFull;
  }
  auto wire = sealer_->seal(FrameType::kData, payload);
  if (!wire) {
    close(wire.status());
    return Push::kNotOpen;
  }
  push(Out{std::move(wire).value(), payload.size(), true});
  return Push::kQueued;
}

void Connection::close(const Status& reason) {
  if (state_ == State::kClosed) return;
  bool was_open = state_ == State::kOpen;
  state_ = State::kClosed;
  boost::system::error_code ec;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  // Frames being written stay until their handler runs; the rest go now.
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(writing_), queue_.end());
  queue_bytes_ = 0;
  for (const Out& o : queue_) queue_bytes_ += o.payload_bytes;
  handshake_.reset();
  if (auto host = host_.lock()) {
    if (was_open) {
      host->log(LogLevel::kInfo, "disconnected " + who() + ": " + reason.to_string());
    } else if (reason.code() == "p2p.peer_closed" || reason.code() == "p2p.io_error" ||
               reason.code() == "p2p.stopped") {
      host->log(LogLevel::kInfo, "handshake failed " + who() + ": " + reason.to_string());
    } else {
      host->log(LogLevel::kWarn, "refused connection " + who() + ": " + reason.to_string());
    }
    host->connection_closed(*this, reason, was_open);
  }
}

void Connection::retire(const Status& reason, std::chrono::milliseconds grace) {
  if (state_ != State::kOpen || retired_) return;
  retired_ = true;
  timer_.expires_after(grace);  // replaces the keepalive tick
  timer_.async_wait([self = shared_from_this(), reason](const boost::system::error_code& ec) {
    if (!ec) self->close(reason);
  });
}

PeerStats Connection::stats() const {
  PeerStats s;
  if (peer_key_) s.key = *peer_key_;
  s.outbound = role_ == Role::kInitiator;
  s.queue_bytes = queue_bytes_;
  s.queue_messages = queue_.size();
  s.frames_sent = frames_sent_;
  s.frames_received = frames_received_;
  return s;
}

void Connection::do_read() {
  if (rpos_ == rend_) {
    rpos_ = rend_ = 0;
    if (rbuf_.size() > kReadBufferKeepBytes) Bytes(kReadBufferBytes).swap(rbuf_);
  }
  if (rbuf_.size() - rend_ < kReadBufferBytes / 4 && rpos_ > 0) {
    std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
    rend_ -= rpos_;
    rpos_ = 0;
  }
  if (rend_ == rbuf_.size()) rbuf_.resize(rbuf_.size() * 2);
  socket_.async_read_some(asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(const boost::system::error_code& ec, size_t n) {
  if (closed()) return;
  if (ec) {
    close(ec == asio::error::eof ? Status::error("p2p.peer_closed", "peer closed the connection")
                                 : Status::error("p2p.io_error", "read failed: " + ec.message()));
    return;
  }
  rend_ += n;
  last_rx_ = Clock::now();
  parse();
  if (!closed()) do_read();
}

void Connection::parse() {
  while (!closed() && rend_ - rpos_ >= kFrameHeaderBytes) {
    const uint8_t* head = rbuf_.data() + rpos_;
    size_t len = read_be32(head);
    size_t limit =
        state_ == State::kHello ? kHelloBytesMax : options_.frame_bytes_max + kFrameOverheadBytes;
    if (len > limit) {
      close(Status::error("p2p.frame_too_large", "peer announced a " + std::to_string(len) +
                                                     "-byte frame, limit " +
                                                     std::to_string(limit)));
      return;
    }
    if (rend_ - rpos_ < kFrameHeaderBytes + len) {
      // Make room for the whole frame before reading on.
      size_t need = kFrameHeaderBytes + len;
      if (rbuf_.size() - rpos_ < need) {
        std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
        rend_ -= rpos_;
        rpos_ = 0;
        if (rbuf_.size() < need) rbuf_.resize(need);
      }
      return;
    }
    size_t at = rpos_;
    rpos_ += kFrameHeaderBytes + len;
    // The frame is consumed before it is handled: a callback may close us.
    handle_frame(ByteView(rbuf_.data() + at, kFrameHeaderBytes),
                 ByteView(rbuf_.data() + at + kFrameHeaderBytes, len));
  }
}

void Connection::handle_frame(ByteView header, ByteView body) {
  switch (state_) {
    case State::kHello:
      on_hello(body);
      return;
    case State::kAuth:
      on_auth(header, body);
      return;
    case State::kOpen:
      on_sealed(header, body);
      return;
    case State::kClosed:
      return;
  }
}

void Connection::on_hello(ByteView body) {
  Status s = handshake_->accept_peer_hello(body);
  if (!s) {
    close(s);
    return;
  }
  const PublicKey& peer = handshake_->peer_key();
  peer_key_ = peer;
  if (expected_peer_ && peer != *expected_peer_) {
    close(Status::error("p2p.unexpected_key", "dialed " + identity::did_from_key(*expected_peer_) +
                                                  " but the peer presented another key"));
    return;
  }
  auto host = host_.lock();
  if (!host) {
    close(Status::error("p2p.stopped", "transport stopped"));
    return;
  }
  if (!host->admitted(peer)) {
    close(
        Status::error("p2p.not_admitted",
                      "key " + to_hex(peer) + " is neither a validator nor a configured observer"));
    return;
  }
  sealer_ = std::make_unique<FrameSealer>(handshake_->send_key());
  opener_ = std::make_unique<FrameOpener>(handshake_->receive_key());
  identity::Signature sig = handshake_->own_signature();
  auto wire = sealer_->seal(FrameType::kAuth, ByteView(sig.data(), sig.size()));
  if (!wire) {
    close(wire.status());
    return;
  }
  state_ = State::kAuth;
  push(Out{std::move(wire).value(), 0, false});
}

void Connection::on_auth(ByteView header, ByteView body) {
  auto plain = opener_->open(header, body);
  if (!plain) {
    close(plain.status());
    return;
  }
  if ((*plain)[0] != static_cast<uint8_t>(FrameType::kAuth)) {
    close(Status::error("p2p.protocol", "expected the handshake signature frame"));
    return;
  }
  Status s = handshake_->verify_peer_signature(ByteView(plain->data() + 1, plain->size() - 1));
  if (!s) {
    close(s);
    return;
  }
  auto host = host_.lock();
  if (!host) {
    close(Status::error("p2p.stopped", "transport stopped"));
    return;
  }
  // The admitted set may have changed while the signature was on its way.
  if (!host->admitted(*peer_key_)) {
    close(
        Status::error("p2p.not_admitted", "key " + to_hex(*peer_key_) + " is no longer admitted"));
    return;
  }
  state_ = State::kOpen;
  authenticated_at_ = Clock::now();
  handshake_.reset();  // wipes the ephemeral secret
  arm_tick();
  host->log(LogLevel::kInfo, "connected " + who());
  host->connection_authenticated(shared_from_this());
}

void Connection::on_sealed(ByteView header, ByteView body) {
  auto plain = opener_->open(header, body);
  if (!plain) {
    close(plain.status());
    return;
  }
  switch (static_cast<FrameType>((*plain)[0])) {
    case FrameType::kData: {
      ++frames_received_;
      ++totals_->frames_received;
      totals_->bytes_received += plain->size() - 1;
      plain->erase(plain->begin());
      if (auto host = host_.lock()) host->connection_frame(*this, std::move(plain).value());
      return;
    }
    case FrameType::kKeepalive:
      return;
    case FrameType::kAuth:
      break;
  }
  close(Status::error("p2p.protocol",
                      "unexpected frame type " + std::to_string((*plain)[0]) + " after handshake"));
}

void Connection::push(Out out) {
  queue_bytes_ += out.payload_bytes;
  queue_.push_back(std::move(out));
  if (writing_ == 0) do_write();
}

void Connection::do_write() {
  write_bufs_.clear();
  size_t bytes = 0;
  for (const Out& o : queue_) {
    if (write_bufs_.size() == kWriteBatchFrames ||
        (bytes > 0 && bytes + o.wire.size() > kWriteBatchBytes)) {
      break;
    }
    write_bufs_.push_back(asio::buffer(o.wire));
    bytes += o.wire.size();
  }
  writing_ = write_bufs_.size();
  if (writing_ == 0) return;
  write_started_ = Clock::now();
  asio::async_write(socket_, write_bufs_,
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->on_write(ec);
                    });
}

void Connection::on_write(const boost::system::error_code& ec) {
  for (size_t i = 0; i < writing_; ++i) {
    const Out& o = queue_.front();
    queue_bytes_ -= o.payload_bytes;
    if (o.data && !ec) {
      ++frames_sent_;
      ++totals_->frames_sent;
      totals_->bytes_sent += o.payload_bytes;
    }
    queue_.pop_front();
  }
  writing_ = 0;
  if (closed()) return;
  if (ec) {
    close(Status::error("p2p.io_error", "write failed: " + ec.message()));
    return;
  }
  last_tx_ = Clock::now();
  do_write();
}

void Connection::arm_tick() {
  timer_.expires_after(std::chrono::milliseconds(std::max<uint32_t>(
      1, std::min(options_.keepalive_interval_ms, options_.idle_timeout_ms / 2))));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed() || self->retired()) return;
    self->on_tick();
  });
}

void Connection::on_tick() {
  auto now = Clock::now();
  auto idle = std::chrono::milliseconds(options_.idle_timeout_ms);
  if (now - last_rx_ > idle) {
    close(Status::error("p2p.idle_timeout", "nothing received for " +
                                                std::to_string(options_.idle_timeout_ms) + " ms"));
    return;
  }
  if (writing_ > 0 && now - write_started_ > idle) {
    close(Status::error("p2p.write_stalled", "peer has not read for " +
                                                 std::to_string(options_.idle_timeout_ms) + " ms"));
    return;
  }
  if (queue_.empty() &&
      now - last_tx_ >= std::chrono::milliseconds(options_.keepalive_interval_ms)) {
    auto wire = sealer_->seal(FrameType::kKeepalive, {});
    if (!wire) {
      close(wire.status());
      return;
    }
    push(Out{std::move(wire).value(), 0, false});
  }
  arm_tick();
}

}  // namespace imi::p2p
