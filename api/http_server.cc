#include "api/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "api/http_session.h"
#include "api/request_handler.h"

namespace imi::api {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Accept loop; the sessions it starts are listed in ctx_->sessions (for stop()). Held by
// shared_ptr so pending accepts keep it alive after ~HttpServer.
class HttpServerState : public std::enable_shared_from_this<HttpServerState> {
 public:
  HttpServerState(asio::io_context& io, NodeApi& node, ServerOptions options)
      : io_(io),
        ctx_(std::make_shared<ApiContext>(node, std::move(options))),
        acceptor_(asio::make_strand(io)) {}

  Status start() {
    const ServerOptions& o = ctx_->options;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(o.listen_host, ec);
    if (ec) {
      return Status::error("api.bad_address", "api listen host \"" + o.listen_host +
                                                  "\" is not an IP address; use e.g. 127.0.0.1");
    }
    const tcp::endpoint endpoint(address, o.listen_port);
    const auto fail = [&](std::string_view what) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return Status::error("api.bind", std::string(what) + " " + o.listen_host + ":" +
                                           std::to_string(o.listen_port) + ": " + ec.message() +
                                           "; choose another api port or stop the other process");
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("cannot open");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail("cannot set SO_REUSEADDR on");
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("cannot bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot listen on");
    port_ = acceptor_.local_endpoint(ec).port();
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
    return Status::ok();
  }

  void stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
    ctx_->sessions.close_all();
  }

  uint16_t port() const { return port_; }
  const ApiContext& ctx() const { return *ctx_; }

 private:
  void do_accept() {
    acceptor_.async_accept(
        asio::make_strand(io_),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
          if (!ec) {
            self->on_accept(std::move(socket));
            self->do_accept();
            return;
          }
          // Out of file descriptors (or another accept error): accepting again
          // at once would spin a thread until one frees; wait a moment.
          self->retry_.expires_after(std::chrono::milliseconds(50));
          self->retry_.async_wait([self](boost::system::error_code wait_ec) {
            if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
          });
        });
  }

  void on_accept(tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    boost::system::error_code no_peer;
    const auto remote = socket.remote_endpoint(no_peer);
    const std::string ip = no_peer ? std::string("unknown") : remote.address().to_string();
    const bool over = ctx_->connections.fetch_add(1) >= ctx_->options.connections_max;
    const bool over_client = !over && !ctx_->clients.take(ip);
    if (over || over_client) ctx_->connections.fetch_sub(1);
    // A counted session gives back both slots when it ends.
    auto session =
        std::make_shared<HttpSession>(std::move(socket), ctx_, !over && !over_client, ip);
    // Stopped: the session closes its socket on destruction.
    if (!ctx_->sessions.add(session)) return;
    if (over) {
      session->refuse(Problem::kTooManyConnections,
                      "the node serves at most " + std::to_string(ctx_->options.connections_max) +
                          " connections; retry later");
    } else if (over_client) {
      session->refuse(Problem::kTooManyConnections,
                      "the node serves at most " +
                          std::to_string(ctx_->options.connections_per_client_max) +
                          " connections from one address (" + ip +
                          "); reuse keep-alive connections or close idle ones, then retry");
    } else {
      session->start();
    }
  }

  asio::io_context& io_;
  const std::shared_ptr<ApiContext> ctx_;
  tcp::acceptor acceptor_;                              // used on its strand only
  asio::steady_timer retry_{acceptor_.get_executor()};  // after a failed accept
  uint16_t port_ = 0;                                   // set by start(), then constant
};

HttpServer::HttpServer(asio::io_context& io, NodeApi& node, ServerOptions options)
    : state_(std::make_shared<HttpServerState>(io, node, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() { return state_->start(); }

uint16_t HttpServer::port() const { return state_->port(); }

void HttpServer::stop() { state_->stop(); }

const ServerMetrics& HttpServer::metrics() const { return state_->ctx().metrics; }

}  // namespace imi::api
