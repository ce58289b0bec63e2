// The node's HTTP/1.1 API server (Boost.Beast): the v1 endpoints of
// api/openapi.yaml on top of the NodeApi interface, with the limits of
// ServerOptions (body and header bytes, request time, connections, a
// per-client rate limit, CORS allow-list).
//
// Threading: the server runs on the io_context given to it; the caller runs
// that context on as many threads as it likes. Each connection is a strand,
// so its handlers never run concurrently. The recommended setup gives the
// server its own io_context and thread(s), apart from the consensus loop:
// NodeApi's synchronous reads then never delay consensus, and submit_tx /
// watch_tx post their work to the consensus loop and call back later. No
// handler blocks a thread: waiting for a commit is a callback plus a timer.
//
// Lifetime: NodeApi must outlive the io_context's handlers. Call stop()
// (from any thread), then let the io_context run out or stop it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>

#include "api/node_api.h"
#include "api/server_metrics.h"
#include "api/server_options.h"
#include "base/status.h"

namespace imi::api {

struct ApiContext;
class HttpServerState;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, NodeApi& node, ServerOptions options);
  ~HttpServer();  // stop()s

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds listen_host:listen_port and starts accepting. Errors:
  // "api.bad_address" (listen_host is not an IP address), "api.bind" (port in
  // use or not permitted; the message names it).
  Status start();

  // The bound port (the chosen one when listen_port was 0); 0 before start().
  uint16_t port() const;

  // Stops accepting and closes every connection; responses in flight are
  // dropped. Safe from any thread, idempotent.
  void stop();

  // The server's own metrics (also appended to GET /metrics).
  const ServerMetrics& metrics() const;

 private:
  std::shared_ptr<HttpServerState> state_;
};

}  // namespace imi::api
