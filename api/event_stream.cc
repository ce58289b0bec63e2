#include "api/event_stream.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>

namespace imi::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;

// Blocks a filter may pass over in one turn before letting the strand's
// other work run (catching up from an old `from` reads every block).
constexpr int kSkipsPerTurn = 64;
// After a wait that ended without the block (the node was stopping, or too
// many requests waited for a height), look again after this long.
constexpr auto kRetryAfter = std::chrono::seconds(1);
// Clients send control frames only; their data messages are refused.
constexpr size_t kClientMessageBytesMax = 4096;
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

}  // namespace

EventStream::EventStream(beast::tcp_stream stream, std::shared_ptr<ApiContext> ctx, bool counted,
                         std::string client_ip, const Route& route)
    : ctx_(std::move(ctx)),
      counted_(counted),
      client_ip_(std::move(client_ip)),
      ws_(std::move(stream)),
      retry_timer_(ws_.get_executor()),
      has_from_(route.has_from),
      next_(route.height),
      filter_{route.app, route.skill, route.cell} {}

EventStream::~EventStream() {
  if (opened_) ctx_->metrics.event_stream_closed();
  ctx_->event_streams.fetch_sub(1);
  if (counted_) {
    ctx_->clients.give_back(client_ip_);
    ctx_->connections.fetch_sub(1);
    ctx_->metrics.connection_closed();
  }
}

void EventStream::start(HttpRequest upgrade) {
  beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts apply
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = kHandshakeTimeout;
  timeouts.idle_timeout = std::chrono::milliseconds(ctx_->options.events_idle_timeout_ms);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "imid"); }));
  ws_.read_message_max(kClientMessageBytesMax);
  auto request = std::make_shared<HttpRequest>(std::move(upgrade));
  ws_.async_accept(*request, [self = shared_from_this(), request](beast::error_code ec) {
    self->on_accept(ec);
  });
}

void EventStream::close() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->finish();
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both,
                                                         ignored);
    beast::get_lowest_layer(self->ws_).close();
  });
}

void EventStream::on_accept(beast::error_code ec) {
  if (ec || closed_) return finish();
  opened_ = true;
  ctx_->metrics.event_stream_opened();
  if (!has_from_) next_ = ctx_->node.head_height() + 1;
  ws_.text(true);
  do_read();
  pump();
}

void EventStream::do_read() {
  ws_.async_read(in_,
                 [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void EventStream::on_read(beast::error_code ec) {
  if (closed_) return;
  // The client closed, went silent past the idle timeout, or broke the
  // protocol (Beast already answered a close frame where one is due).
  if (ec) return finish();
  in_.consume(in_.size());
  close_with(static_cast<uint16_t>(websocket::close_code::policy_error),
             "this stream only sends; reconnect with ?from=<next height> to resume");
}

void EventStream::pump() {
  if (closed_ || closing_ || writing_ || waiting_) return;
  for (int i = 0; i < kSkipsPerTurn; ++i) {
    auto events = ctx_->node.block_events(next_, filter_);
    if (!events) {
      if (events.status().code() == "block.not_found") return wait_for_block();
      // The node could not read a block it has: say so and end the stream;
      // the client reconnects from the same height.
      return close_with(static_cast<uint16_t>(websocket::close_code::internal_error),
                        events.status().code());
    }
    woken_ = false;
    if (!filter_.empty() && events->matched == 0) {
      ++next_;
      continue;
    }
    out_ = std::move(events->json);
    writing_ = true;
    ws_.async_write(asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_write(ec);
    });
    return;
  }
  // Many blocks without a match: go on after the strand's other work.
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->pump(); });
}

void EventStream::wait_for_block() {
  waiting_ = true;
  if (woken_) {
    // Woken without the block: do not ask again at once.
    woken_ = false;
    retry_timer_.expires_after(kRetryAfter);
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      self->waiting_ = false;
      if (!ec) self->pump();
    });
    return;
  }
  // The node keeps only a weak_ptr: a stream that ends while it waits is
  // freed at once, and the late call does nothing.
  ctx_->node.watch_height(next_, weak_from_this(), [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->ws_.get_executor(), [self] {
      self->waiting_ = false;
      self->woken_ = true;
      self->pump();
    });
  });
}

void EventStream::on_write(beast::error_code ec) {
  writing_ = false;
  out_.clear();
  if (ec || closed_) return finish();
  ctx_->metrics.event_sent();
  ++next_;
  pump();
}

void EventStream::close_with(uint16_t code, std::string reason) {
  if (closing_ || closed_) return;
  closing_ = true;
  websocket::close_reason why(code);
  // A close frame's reason is at most 123 bytes.
  why.reason = beast::string_view(reason).substr(0, why.reason.max_size());
  ws_.async_close(why, [self = shared_from_this()](beast::error_code) { self->finish(); });
}

void EventStream::finish() {
  closed_ = true;
  retry_timer_.cancel();
}

}  // namespace imi::api
