// RFC 9457 problem details: the one table of problem types the API answers
// with, and the mapping from imi::Status codes to them. Clients branch on
// `type` (stable URIs under https://imi.chain/problems/) and may read the
// extension member `code` for the exact Status code; `title` is fixed per
// type, `detail` explains this occurrence.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace imi::api {

inline constexpr std::string_view kProblemTypeBase = "https://imi.chain/problems/";
inline constexpr std::string_view kProblemContentType = "application/problem+json";

// Every problem the API can answer with. The slug is the last segment of the
// type URI and the label of the server's rejection metric.
enum class Problem {
  kBadRequest,            // 400 malformed HTTP (request line, header syntax)
  kInvalidParameter,      // 400 path or query parameter fails its rule
  kMalformedJson,         // 400 body is not strict JSON (json.*)
  kInvalidTransaction,    // 422 JSON fine, transaction fields wrong (tx.*)
  kBadSignature,          // 422
  kWrongChain,            // 422
  kUnknownApp,            // 422 for a transaction, 404 for a state query
  kUnknownOp,             // 422
  kOriginNotAllowed,      // 403 CORS origin not in the allow-list
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kRequestTimeout,        // 408
  kNonceReplayed,         // 409
  kNonceGap,              // 409
  kBodyTooLarge,          // 413
  kUnsupportedMediaType,  // 415
  kRateLimited,           // 429
  kHeadersTooLarge,       // 431
  kInternal,              // 500 a Status code this table does not know
  kMempoolFull,           // 503
  kNotReady,              // 503 node syncing, stopping or not answering
  kTooManyConnections,    // 503 connections_max (or events_max) reached
  kUpgradeRequired,       // 426 GET /v1/events without a WebSocket upgrade
};

struct ProblemInfo {
  int http_status;
  std::string_view slug;   // "malformed-json"
  std::string_view title;  // fixed per type
};

const ProblemInfo& problem_info(Problem p);

// Full type URI, e.g. "https://imi.chain/problems/malformed-json".
std::string problem_type_uri(Problem p);

// The problem for an error Status from the node or the ledger. Exact codes
// first ("tx.bad_signature"), then the code's prefix ("json." → malformed
// JSON, "tx." → invalid transaction, ...); anything unknown is kInternal.
Problem problem_for_status(const Status& status);

// Body of an application/problem+json response: {"type","title","status",
// "detail"} plus "code" when `code` is not empty.
std::string problem_json(Problem p, std::string_view detail, std::string_view code = {});

}  // namespace imi::api
