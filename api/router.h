// Routing of the v1 endpoints and strict validation of their path and query
// parameters. Pure functions of the request target, so they are tested
// without a socket.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace imi::api {

enum class RouteId {
  kSubmitTx,            // POST /v1/txs[?wait=commit]
  kGetTx,               // GET  /v1/txs/{id}
  kListBlocks,          // GET  /v1/blocks[?from=&limit=]
  kGetBlock,            // GET  /v1/blocks/{height}
  kGetState,            // GET  /v1/state/{app}/{key}
  kGetDid,              // GET  /v1/dids/{did}
  kListEvidence,        // GET  /v1/evidence[?from=&limit=]
  kEvents,              // GET  /v1/events[?from=&app=&skill=&cell=] (WebSocket)
  kAppQuery,            // GET  /v1/apps/{app}/{query}[?<params>&cursor=&limit=]
  kVerifyPresentation,  // POST /v1/presentations/verify
  kStatus,              // GET  /v1/status
  kHealthz,             // GET  /healthz
  kReadyz,              // GET  /readyz
  kMetrics,             // GET  /metrics
};

inline constexpr uint32_t kBlocksLimitDefault = 20;
// GET /v1/blocks?wait_ms=: the longest a listing may wait for its first block.
inline constexpr uint32_t kBlocksWaitMsMax = 30000;
inline constexpr uint32_t kBlocksLimitMax = 100;
inline constexpr size_t kStateKeyBytesMax = 1024;
inline constexpr uint32_t kAppQueryLimitDefault = 50;
inline constexpr uint32_t kAppQueryLimitMax = 100;
// An app query's own parameters: how many, and bytes of a value or cursor.
inline constexpr size_t kAppQueryParamsMax = 16;
inline constexpr size_t kAppQueryValueBytesMax = 1024;
inline constexpr size_t kAppQueryCursorBytesMax = 2048;
// ?skill= and ?cell= of the event stream: bytes at most.
inline constexpr size_t kEventFilterBytesMax = 64;

struct Route {
  RouteId id = RouteId::kHealthz;
  std::string tx_id;    // kGetTx: 64 lowercase hex
  uint64_t height = 0;  // kGetBlock; kListBlocks, kListEvidence: `from` (default 0)
  uint32_t limit = kBlocksLimitDefault;  // kListBlocks, kListEvidence, kAppQuery: 1..100
  std::string app;           // kGetState, kAppQuery, kEvents (filter): [a-z][a-z0-9_]{0,31}
  std::string key;           // kGetState: percent-decoded, valid UTF-8, 1..1024 bytes
  std::string did;           // kGetDid: percent-decoded, identity::is_valid_did
  bool wait_commit = false;  // kSubmitTx: ?wait=commit
  uint32_t wait_ms = 0;      // kListBlocks: ?wait_ms= (0..kBlocksWaitMsMax)
  bool has_from = false;     // kEvents: ?from= given (else: the next block)
  std::string skill;         // kEvents: ?skill= filter (printable ASCII, 1..64 bytes)
  std::string cell;          // kEvents: ?cell= filter (printable ASCII, 1..64 bytes)
  std::string query;         // kAppQuery: the query's name, like an app name
  // kAppQuery: every other query parameter, percent-decoded, valid UTF-8.
  std::map<std::string, std::string, std::less<>> params;
  std::string cursor;  // kAppQuery: ?cursor= (empty: the first page)
};

// Matches an origin-form request target ("/v1/blocks/7?x=y") to a route.
// Errors: "api.bad_target" (not origin-form), "api.not_found" (no such
// path), "api.invalid_parameter" (a path or query parameter breaks its rule,
// or an unknown or repeated query parameter; the message names it).
Result<Route> match_route(std::string_view target);

// The only method a route accepts ("GET" or "POST"), for 405 and Allow.
std::string_view route_method(RouteId id);

// Stable low-cardinality label for metrics ("get_block").
std::string_view route_label(RouteId id);

// A height: decimal digits, no sign, no leading zeros, at most 2^53−1.
std::optional<uint64_t> parse_height(std::string_view s);

// Percent-decodes `s` ("%2F" → "/"; '+' stays '+'); nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace imi::api
