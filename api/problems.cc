#include "api/problems.h"

#include <array>
#include <utility>

#include "api/json_text.h"

namespace imi::api {
namespace {

// Indexed by Problem; the order must match the enum (checked in tests).
constexpr std::array<ProblemInfo, 23> kProblems = {{
    {400, "bad-request", "Malformed HTTP request"},
    {400, "invalid-parameter", "Invalid path or query parameter"},
    {400, "malformed-json", "Body is not strict canonical-form JSON"},
    {422, "invalid-transaction", "Transaction is invalid"},
    {422, "bad-signature", "Transaction signature does not verify"},
    {422, "wrong-chain", "Transaction is for another chain"},
    {422, "unknown-app", "No such application"},
    {422, "unknown-op", "No such operation in this application"},
    {403, "origin-not-allowed", "Origin is not allowed"},
    {404, "not-found", "Not found"},
    {405, "method-not-allowed", "Method not allowed"},
    {408, "request-timeout", "Request not received in time"},
    {409, "nonce-replayed", "Nonce already used"},
    {409, "nonce-gap", "Nonce is ahead of the sender's next nonce"},
    {413, "body-too-large", "Request body too large"},
    {415, "unsupported-media-type", "Content-Type must be application/json"},
    {429, "rate-limited", "Too many requests"},
    {431, "headers-too-large", "Request headers too large"},
    {500, "internal-error", "Internal error"},
    {503, "mempool-full", "Mempool is full"},
    {503, "not-ready", "Node is not ready"},
    {503, "too-many-connections", "Too many connections"},
    {426, "upgrade-required", "This resource is a WebSocket"},
}};
static_assert(kProblems.size() == static_cast<size_t>(Problem::kUpgradeRequired) + 1);

// Status codes with a problem of their own. Codes not listed fall back by
// prefix (kPrefixes), then to kInternal (e.g. "node.io", "state.storage":
// the node's own failure, not the client's).
constexpr std::pair<std::string_view, Problem> kExactCodes[] = {
    // The server's own checks (api/router.h, api/http_server.cc).
    {"api.bad_target", Problem::kBadRequest},
    {"api.invalid_parameter", Problem::kInvalidParameter},
    {"api.not_found", Problem::kNotFound},
    {"json.too_large", Problem::kBodyTooLarge},
    {"tx.too_large", Problem::kBodyTooLarge},
    {"tx.bad_signature", Problem::kBadSignature},
    {"tx.wrong_chain", Problem::kWrongChain},
    {"tx.nonce_used", Problem::kNonceReplayed},
    {"tx.nonce_gap", Problem::kNonceGap},
    {"tx.unknown_app", Problem::kUnknownApp},
    {"tx.unknown_op", Problem::kUnknownOp},
    {"tx.not_found", Problem::kNotFound},
    {"block.not_found", Problem::kNotFound},
    {"state.not_found", Problem::kNotFound},
    // A state query names a resource, so an unknown app there is a 404.
    {"state.unknown_app", Problem::kNotFound},
    // App queries (GET /v1/apps/{app}/{query}).
    {"query.unknown_app", Problem::kNotFound},
    {"query.unknown", Problem::kNotFound},
    {"query.bad_param", Problem::kInvalidParameter},
    {"mempool.full", Problem::kMempoolFull},
    {"mempool.sender_full", Problem::kMempoolFull},
    {"node.not_ready", Problem::kNotReady},
    {"node.syncing", Problem::kNotReady},
    {"node.stopping", Problem::kNotReady},
};

constexpr std::pair<std::string_view, Problem> kPrefixes[] = {
    {"json.", Problem::kMalformedJson},
    {"tx.", Problem::kInvalidTransaction},
    {"mempool.", Problem::kMempoolFull},
};

}  // namespace

const ProblemInfo& problem_info(Problem p) { return kProblems[static_cast<size_t>(p)]; }

std::string problem_type_uri(Problem p) {
  return std::string(kProblemTypeBase) + std::string(problem_info(p).slug);
}

Problem problem_for_status(const Status& status) {
  const std::string_view code = status.code();
  for (const auto& [exact, problem] : kExactCodes) {
    if (code == exact) return problem;
  }
  for (const auto& [prefix, problem] : kPrefixes) {
    if (code.starts_with(prefix)) return problem;
  }
  if (code.ends_with(".not_found")) return Problem::kNotFound;
  return Problem::kInternal;
}

std::string problem_json(Problem p, std::string_view detail, std::string_view code) {
  const ProblemInfo& info = problem_info(p);
  std::string out =
      "{\"type\":" + json_quote(problem_type_uri(p)) + ",\"title\":" + json_quote(info.title) +
      ",\"status\":" + std::to_string(info.http_status) + ",\"detail\":" + json_quote(detail);
  if (!code.empty()) out += ",\"code\":" + json_quote(code);
  out += "}";
  return out;
}

}  // namespace imi::api
