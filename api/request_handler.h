// What the server does with one complete HTTP request: rate limit, CORS,
// routing, method and content-type checks, then the call into NodeApi and
// the JSON or problem+json response. Socket handling (reading, limits while
// parsing, timeouts, keep-alive) lives in api/http_session.h.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/node_api.h"
#include "api/problems.h"
#include "api/rate_limiter.h"
#include "api/server_metrics.h"
#include "api/server_options.h"
#include "api/session_registry.h"

namespace imi::api {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Open connections per client IP address (connections_per_client_max).
// Thread-safe.
class ClientConnections {
 public:
  explicit ClientConnections(size_t max_per_client) : max_(max_per_client) {}
  // Takes a slot for `ip`; false if it holds max_per_client already.
  bool take(const std::string& ip) {
    std::lock_guard lock(mu_);
    size_t& n = open_[ip];
    if (n >= max_) {
      if (n == 0) open_.erase(ip);
      return false;
    }
    ++n;
    return true;
  }
  void give_back(const std::string& ip) {
    std::lock_guard lock(mu_);
    auto it = open_.find(ip);
    if (it != open_.end() && --it->second == 0) open_.erase(it);
  }

 private:
  const size_t max_;
  std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;  // guarded by mu_; no zero counts
};

// State shared by the server and all its connections; it outlives both
// (held by shared_ptr). Thread-safe: the options are constant, the limiter
// and metrics lock internally.
struct ApiContext {
  ApiContext(NodeApi& node_api, ServerOptions opts)
      : options(std::move(opts)),
        node(node_api),
        limiter(options.requests_per_second, options.burst, options.rate_limit_clients_max),
        clients(options.connections_per_client_max) {}

  const ServerOptions options;
  NodeApi& node;
  RateLimiter limiter;
  ServerMetrics metrics;
  ClientConnections clients;             // slots by client address (taken with `connections`)
  std::atomic<size_t> connections{0};    // open connections holding a slot
  std::atomic<size_t> event_streams{0};  // open GET /v1/events streams
  SessionRegistry sessions;              // closed by HttpServer::stop()
};

// A problem+json response (counted in the rejection metric). `retry_after_s`
// > 0 adds a Retry-After header.
HttpResponse make_problem_response(ApiContext& ctx, Problem problem, std::string_view detail,
                                   std::string_view code, unsigned http_version,
                                   uint32_t retry_after_s = 0);

// The response and the route label ("get_block", or "unmatched") for metrics.
using Respond = std::function<void(HttpResponse response, std::string_view route)>;

// Handles `request` from `client_ip` and calls `respond` exactly once, always
// through `executor` (never inside this call), so the caller can treat it as
// the completion of an asynchronous operation. Keep-alive and CORS headers
// are set on the response; the caller only writes it.
void handle_request(std::shared_ptr<ApiContext> ctx, HttpRequest request, std::string client_ip,
                    boost::asio::any_io_executor executor, Respond respond);

}  // namespace imi::api
