#include "api/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "api/event_stream.h"
#include "api/router.h"

namespace imi::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// Route labels for requests that never reached the router.
constexpr std::string_view kUnparsed = "unparsed";
constexpr std::string_view kRefused = "refused";

}  // namespace

HttpSession::HttpSession(tcp::socket socket, std::shared_ptr<ApiContext> ctx, bool counted,
                         std::string client_ip)
    : ctx_(std::move(ctx)),
      counted_(counted),
      client_ip_(std::move(client_ip)),
      stream_(std::move(socket)),
      deadline_(stream_.get_executor()) {
  if (counted_) ctx_->metrics.connection_opened();
}

HttpSession::~HttpSession() {
  if (counted_) {
    ctx_->clients.give_back(client_ip_);
    ctx_->connections.fetch_sub(1);
    ctx_->metrics.connection_closed();
  }
}

void HttpSession::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::refuse(Problem problem, std::string detail) {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), problem,
                                          detail = std::move(detail)]() mutable {
    self->route_ = kRefused;
    self->request_done_ = std::chrono::steady_clock::now();
    HttpResponse res = make_problem_response(*self->ctx_, problem, detail, {}, 11, 1);
    res.keep_alive(false);
    self->write(std::move(res), true, true);
  });
}

void HttpSession::close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    self->deadline_.cancel();
    beast::error_code ignored;
    self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    self->stream_.close();
  });
}

void HttpSession::do_read() {
  if (closed_) return;
  parser_.emplace();
  parser_->header_limit(ctx_->options.header_bytes_max);
  parser_->body_limit(ctx_->options.body_bytes_max);
  reading_ = true;
  timed_out_ = false;
  const uint64_t generation = ++read_generation_;
  deadline_.expires_after(std::chrono::milliseconds(ctx_->options.request_timeout_ms));
  deadline_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
    if (!ec && self->reading_ && self->read_generation_ == generation) self->on_deadline();
  });
  stream_.expires_never();
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

void HttpSession::on_header(beast::error_code ec) {
  if (ec || closed_ || parser_->is_done()) {
    on_read(ec);
    return;
  }
  const auto read_body = [self = shared_from_this()] {
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, size_t) { self->on_read(ec); });
  };
  // curl and others wait (curl: 1 s) for this before sending a larger body.
  // The body limit was already checked against Content-Length.
  const auto expect = parser_->get().find(http::field::expect);
  if (expect != parser_->get().end() && beast::iequals(expect->value(), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(std::chrono::milliseconds(ctx_->options.write_timeout_ms));
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this(), read_body](beast::error_code ec, size_t) {
                        self->stream_.expires_never();
                        if (ec) {
                          self->on_read(ec);
                          return;
                        }
                        read_body();
                      });
    return;
  }
  read_body();
}

void HttpSession::on_deadline() {
  timed_out_ = true;
  beast::error_code ignored;
  stream_.socket().cancel(ignored);
}

void HttpSession::on_read(beast::error_code ec) {
  reading_ = false;
  deadline_.cancel();
  if (closed_) return;
  if (ec) {
    if (timed_out_) {
      // Part of a request and no more in time: tell the client; a quiet
      // keep-alive connection is just closed.
      if (buffer_.size() > 0 || parser_->got_some()) {
        answer_error(Problem::kRequestTimeout,
                     "the request was not complete within " +
                         std::to_string(ctx_->options.request_timeout_ms) + " ms");
      } else {
        shutdown(false);
      }
    } else if (ec == http::error::header_limit) {
      answer_error(Problem::kHeadersTooLarge, "request line and headers exceed " +
                                                  std::to_string(ctx_->options.header_bytes_max) +
                                                  " bytes");
    } else if (ec == http::error::body_limit) {
      answer_error(
          Problem::kBodyTooLarge,
          "request body exceeds " + std::to_string(ctx_->options.body_bytes_max) + " bytes");
    } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
               is_http_parse_error(ec)) {
      answer_error(Problem::kBadRequest, "malformed HTTP/1.1 request: " + ec.message());
    } else {
      shutdown(false);  // the client closed or the network failed
    }
    return;
  }
  request_done_ = std::chrono::steady_clock::now();
  HttpRequest request = parser_->release();
  // Kept for the handshake if the handler accepts the upgrade (a GET with
  // no body: headers only).
  if (boost::beast::websocket::is_upgrade(request)) {
    upgrade_ = request;
  } else {
    upgrade_.reset();
  }
  handle_request(ctx_, std::move(request), client_ip_, stream_.get_executor(),
                 [self = shared_from_this()](HttpResponse res, std::string_view route) {
                   self->on_response(std::move(res), route);
                 });
}

void HttpSession::answer_error(Problem problem, std::string detail) {
  route_ = kUnparsed;
  request_done_ = std::chrono::steady_clock::now();
  HttpResponse res = make_problem_response(*ctx_, problem, detail, {}, 11);
  res.keep_alive(false);
  write(std::move(res), true, true);
}

void HttpSession::on_response(HttpResponse res, std::string_view route) {
  if (closed_) return;
  route_ = route;
  if (res.result() == http::status::switching_protocols && upgrade_) return start_events();
  const bool close_after = !res.keep_alive();
  write(std::move(res), close_after, false);
}

void HttpSession::start_events() {
  if (ctx_->event_streams.fetch_add(1) >= ctx_->options.events_max) {
    ctx_->event_streams.fetch_sub(1);
    upgrade_.reset();
    HttpResponse res = make_problem_response(
        *ctx_, Problem::kTooManyConnections,
        "the node serves at most " + std::to_string(ctx_->options.events_max) +
            " event streams (api events_max); retry later, or follow GET /v1/blocks?wait_ms=",
        {}, 11, 1);
    res.keep_alive(false);
    write(std::move(res), true, false);
    return;
  }
  auto route = match_route(std::string_view(upgrade_->target().data(), upgrade_->target().size()));
  ctx_->metrics.record_request(
      route_, 101,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request_done_).count());
  // The connection, its slot and the stream count move to the EventStream;
  // this session is over.
  closed_ = true;
  deadline_.cancel();
  const bool counted = counted_;
  counted_ = false;
  auto events = std::make_shared<EventStream>(std::move(stream_), ctx_, counted, client_ip_,
                                              route ? *route : Route{});
  HttpRequest request = std::move(*upgrade_);
  upgrade_.reset();
  if (!ctx_->sessions.add(events)) return;  // the server stopped: dropping it closes it
  events->start(std::move(request));
}

void HttpSession::write(HttpResponse res, bool close_after, bool linger) {
  if (closed_) return;
  response_ = std::make_shared<HttpResponse>(std::move(res));
  stream_.expires_after(std::chrono::milliseconds(ctx_->options.write_timeout_ms));
  http::async_write(stream_, *response_,
                    [self = shared_from_this(), close_after, linger](beast::error_code ec, size_t) {
                      self->on_write(ec, close_after, linger);
                    });
}

void HttpSession::on_write(beast::error_code ec, bool close_after, bool linger) {
  const double latency_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request_done_).count();
  ctx_->metrics.record_request(route_, response_->result_int(), latency_s);
  response_.reset();
  stream_.expires_never();
  if (ec || closed_) {
    shutdown(false);
    return;
  }
  if (close_after) {
    shutdown(linger);
    return;
  }
  do_read();
}

void HttpSession::shutdown(bool linger) {
  if (closed_) return;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (linger) {
    // Read and drop what the client still sends (e.g. the rest of a body
    // that was too large) until it closes or linger_ms pass, so its kernel
    // does not turn our response into a connection reset.
    stream_.expires_after(std::chrono::milliseconds(ctx_->options.linger_ms));
    drain();
    return;
  }
  closed_ = true;
  stream_.close();
}

void HttpSession::drain() {
  stream_.async_read_some(asio::buffer(drain_buffer_),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec || self->closed_) {
                              self->closed_ = true;
                              self->stream_.close();
                              return;
                            }
                            self->drain();
                          });
}

}  // namespace imi::api
