// One HTTP/1.1 connection: reads requests under the server's limits (header
// and body bytes, request time), hands each complete request to
// handle_request, writes the response, keeps the connection alive while the
// client asks for it. Errors found while parsing are answered here: 400
// (malformed), 413 (body too large), 431 (headers too large), 408 (request
// not complete in time); then the connection is closed.
//
// Threading: every member runs on the connection's strand; close() may be
// called from any thread.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
// GCC 12 with -fsanitize reports a false -Wmaybe-uninitialized inside
// Beast's parser (boost::optional returned from content_length()).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#pragma GCC diagnostic pop
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/request_handler.h"
#include "api/session_registry.h"

namespace imi::api {

class HttpSession : public Closable, public std::enable_shared_from_this<HttpSession> {
 public:
  // `counted`: the connection holds one of connections_max slots and one of
  // `client_ip`'s connections_per_client_max, released when the session (or
  // the event stream it becomes) is destroyed. `client_ip` is the address
  // the server read once at accept (read again, a reset peer has none).
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<ApiContext> ctx, bool counted,
              std::string client_ip);
  ~HttpSession() override;

  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Starts reading requests.
  void start();
  // Answers `problem` at once and closes (used when connections_max is hit).
  void refuse(Problem problem, std::string detail);
  // Closes the connection; safe from any thread.
  void close() override;

 private:
  void do_read();
  void on_header(boost::beast::error_code ec);
  void on_read(boost::beast::error_code ec);
  void on_deadline();
  void on_response(HttpResponse res, std::string_view route);
  // Writes `res`; closes afterwards if `close_after` or the response says so.
  // `linger`: drain unread request bytes before closing (error responses).
  void write(HttpResponse res, bool close_after, bool linger);
  void on_write(boost::beast::error_code ec, bool close_after, bool linger);
  void shutdown(bool linger);
  void drain();
  void answer_error(Problem problem, std::string detail);
  // The request handler accepted a GET /v1/events upgrade: the connection
  // becomes an EventStream (api/event_stream.h), or gets a 503 problem when
  // events_max streams are open.
  void start_events();

  const std::shared_ptr<ApiContext> ctx_;
  bool counted_;                 // holds a connection slot (moves to an EventStream on upgrade)
  const std::string client_ip_;  // before stream_: read from the socket before it moves
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::asio::steady_timer deadline_;
  bool reading_ = false;                    // a request read is in progress
  uint64_t read_generation_ = 0;            // tells a stale deadline from the current one
  bool timed_out_ = false;                  // the deadline cancelled that read
  std::shared_ptr<HttpResponse> response_;  // alive while being written
  std::string_view route_;                  // label of the response being written
  std::optional<HttpRequest> upgrade_;      // the request, when it asks for a WebSocket
  std::chrono::steady_clock::time_point request_done_;
  std::array<char, 4096> drain_buffer_{};
  bool closed_ = false;
};

}  // namespace imi::api
