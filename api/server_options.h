// Limits and settings of the HTTP API server: a plain struct with commented
// defaults (STYLE: put a limit on everything, units in the names). The node
// fills it from its config file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace imi::api {

struct ServerOptions {
  // Address to listen on; port 0 picks a free port (see HttpServer::port()).
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8545;

  // Largest request body accepted; a larger one gets 413 before it is read.
  size_t body_bytes_max = 1 << 20;  // 1 MiB
  // Largest request line plus headers; larger gets 431.
  uint32_t header_bytes_max = 8 * 1024;  // 8 KiB
  // Time to receive one whole request, from the first byte of the request
  // (or the end of the previous response on a keep-alive connection). A
  // client that sent part of a request gets 408 and is disconnected; an idle
  // keep-alive connection is closed silently. Cuts off slowloris clients.
  uint32_t request_timeout_ms = 10'000;
  // Time to write one response before the connection is dropped.
  uint32_t write_timeout_ms = 10'000;
  // After an error response that closes the connection, unread request bytes
  // are drained for at most this long so the client sees the response rather
  // than a connection reset.
  uint32_t linger_ms = 500;
  // Open connections; one more gets a 503 problem and is closed.
  size_t connections_max = 1024;
  // Open connections from one client IP address (so that one client cannot
  // hold every slot of connections_max); one more gets a 503 problem.
  size_t connections_per_client_max = 64;
  // GET /v1/events: WebSocket event streams open at once (each also holds one
  // of connections_max); one more gets a 503 problem instead of the upgrade.
  size_t events_max = 256;
  // An event stream pings a quiet client after half this time and closes
  // the stream when nothing (not even a pong) came back for all of it; this
  // also ends a stream whose client stopped reading.
  uint32_t events_idle_timeout_ms = 60'000;

  // Per-client rate limit: a token bucket per remote IP address refilled at
  // requests_per_second up to burst tokens; each request takes one token.
  // Over the limit: 429 with Retry-After. 0 requests_per_second disables it.
  double requests_per_second = 50;
  double burst = 100;
  // Clients tracked at once; when full, the least recently seen is forgotten.
  size_t rate_limit_clients_max = 10'000;

  // CORS: browsers' requests carrying one of these Origin values (exact match,
  // e.g. "https://wallet.example.gov") are answered with
  // Access-Control-Allow-Origin and their preflight OPTIONS with 204. A
  // request from any other origin gets 403. Empty: no cross-origin access.
  std::vector<std::string> cors_allowed_origins;
  uint32_t cors_max_age_s = 600;  // Access-Control-Max-Age of a preflight

  // GET /v1/blocks: a page ends after the block that brings it to this many
  // bytes (it always holds at least one), whatever `limit` asked for.
  size_t page_bytes_max = 4u << 20;  // 4 MiB

  // POST /v1/txs?wait=commit waits this long for the commit; then it answers
  // 202 {"id","status":"pending"} and the client polls GET /v1/txs/{id}.
  uint32_t wait_commit_timeout_ms = 5'000;
  // Time the node may take to answer an asynchronous call (admission of a
  // submitted transaction) before the server answers 503 not-ready.
  uint32_t node_reply_timeout_ms = 10'000;
};

}  // namespace imi::api
