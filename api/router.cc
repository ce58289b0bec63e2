#include "api/router.h"

#include <vector>

#include "api/json_text.h"
#include "base/bytes.h"
#include "identity/keys.h"

namespace imi::api {
namespace {

constexpr uint64_t kMaxHeight = 9007199254740991;  // 2^53 − 1
constexpr size_t kAppBytesMax = 32;

Status not_found(std::string_view path) {
  return Status::error("api.not_found", "no resource at " + std::string(path) +
                                            "; see api/openapi.yaml for the endpoints");
}

Status invalid(std::string message) {
  return Status::error("api.invalid_parameter", std::move(message));
}

bool is_valid_app(std::string_view app) {
  if (app.empty() || app.size() > kAppBytesMax) return false;
  if (app[0] < 'a' || app[0] > 'z') return false;
  for (char c : app) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::optional<uint32_t> parse_limit(std::string_view s) {
  auto v = parse_height(s);
  if (!v || *v < 1 || *v > kBlocksLimitMax) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

struct QueryParam {
  std::string_view name;
  std::string value;
};

// Splits "a=1&b=2"; each name once, values percent-decoded.
Result<std::vector<QueryParam>> parse_query(std::string_view query) {
  std::vector<QueryParam> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view raw = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    auto value = percent_decode(raw);
    if (!value) return invalid("query parameter " + json_quote(name) + " has a bad %-escape");
    for (const QueryParam& p : params) {
      if (p.name == name) return invalid("query parameter " + json_quote(name) + " is repeated");
    }
    params.push_back({name, std::move(*value)});
  }
  return params;
}

Status unknown_param(std::string_view name, std::string_view allowed) {
  return invalid("unknown query parameter " + json_quote(name) + "; this endpoint takes " +
                 std::string(allowed));
}

Status no_params(const std::vector<QueryParam>& params) {
  if (params.empty()) return Status::ok();
  return unknown_param(params[0].name, "none");
}

Result<Route> match_tx(std::string_view rest, const std::vector<QueryParam>& params) {
  Route r;
  if (rest.empty()) {
    r.id = RouteId::kSubmitTx;
    for (const QueryParam& p : params) {
      if (p.name != "wait") return unknown_param(p.name, "wait=commit");
      if (p.value != "commit") return invalid("wait must be \"commit\" (or left out)");
      r.wait_commit = true;
    }
    return r;
  }
  if (rest.find('/') != std::string_view::npos) return not_found("/v1/txs/" + std::string(rest));
  if (!is_lower_hex(rest, 64)) {
    return invalid("transaction id must be 64 lowercase hex characters");
  }
  IMI_RETURN_IF_ERROR(no_params(params));
  r.id = RouteId::kGetTx;
  r.tx_id = std::string(rest);
  return r;
}

// ?from=&limit= of a listing: `from` a height or index (decimal, at most
// 2^53-1), `limit` 1..100; with `may_wait` (blocks) also wait_ms=0..30000.
Status parse_page(const std::vector<QueryParam>& params, Route& r, bool may_wait = false) {
  for (const QueryParam& p : params) {
    if (may_wait && p.name == "wait_ms") {
      auto w = parse_height(p.value);
      if (!w || *w > kBlocksWaitMsMax) {
        return invalid("wait_ms must be an integer from 0 to " + std::to_string(kBlocksWaitMsMax));
      }
      r.wait_ms = static_cast<uint32_t>(*w);
      continue;
    }
    if (p.name == "from") {
      auto h = parse_height(p.value);
      if (!h) return invalid("from must be decimal, no leading zeros, ≤ 2^53−1");
      r.height = *h;
    } else if (p.name == "limit") {
      auto l = parse_limit(p.value);
      if (!l) return invalid("limit must be an integer from 1 to 100");
      r.limit = *l;
    } else {
      return unknown_param(p.name, may_wait ? "from, limit and wait_ms" : "from and limit");
    }
  }
  return Status::ok();
}

// A ?skill= or ?cell= filter value: 1..64 printable ASCII characters.
bool is_valid_filter(std::string_view v) {
  if (v.empty() || v.size() > kEventFilterBytesMax) return false;
  for (char c : v) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// GET /v1/events?from=H&app=A&skill=S&cell=C: all optional.
Result<Route> match_events(const std::vector<QueryParam>& params) {
  Route r;
  r.id = RouteId::kEvents;
  for (const QueryParam& p : params) {
    if (p.name == "from") {
      auto h = parse_height(p.value);
      if (!h) return invalid("from must be decimal, no leading zeros, ≤ 2^53−1");
      r.height = *h;
      r.has_from = true;
    } else if (p.name == "app") {
      if (!is_valid_app(p.value)) {
        return invalid("app must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter");
      }
      r.app = p.value;
    } else if (p.name == "skill" || p.name == "cell") {
      if (!is_valid_filter(p.value)) {
        return invalid(std::string(p.name) +
                       " must be 1 to 64 printable ASCII characters without spaces");
      }
      (p.name == "skill" ? r.skill : r.cell) = p.value;
    } else {
      return unknown_param(p.name, "from, app, skill and cell");
    }
  }
  return r;
}

bool is_valid_param_name(std::string_view name) {
  if (name.empty() || name.size() > kAppBytesMax) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// GET /v1/apps/{app}/{query}?<params>&cursor=&limit=: the app checks its
// own parameters (query.bad_param); here only their form and size.
Result<Route> match_app_query(std::string_view rest, const std::vector<QueryParam>& params) {
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return not_found("/v1/apps/" + std::string(rest));
  const std::string_view app = rest.substr(0, slash);
  const std::string_view query = rest.substr(slash + 1);
  if (query.find('/') != std::string_view::npos) return not_found("/v1/apps/" + std::string(rest));
  if (!is_valid_app(app)) {
    return invalid("app must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter");
  }
  if (!is_valid_app(query)) {
    return invalid("query must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter");
  }
  Route r;
  r.id = RouteId::kAppQuery;
  r.app = std::string(app);
  r.query = std::string(query);
  r.limit = kAppQueryLimitDefault;
  for (const QueryParam& p : params) {
    if (p.name == "limit") {
      auto l = parse_height(p.value);
      if (!l || *l < 1 || *l > kAppQueryLimitMax) {
        return invalid("limit must be an integer from 1 to " + std::to_string(kAppQueryLimitMax) +
                       " (default " + std::to_string(kAppQueryLimitDefault) + ")");
      }
      r.limit = static_cast<uint32_t>(*l);
    } else if (p.name == "cursor") {
      if (p.value.size() > kAppQueryCursorBytesMax || !is_valid_utf8(p.value)) {
        return invalid("cursor must be the \"next\" of an earlier page");
      }
      r.cursor = p.value;
    } else {
      if (!is_valid_param_name(p.name)) {
        return invalid("query parameter names are 1 to 32 characters of a-z, 0-9 and _");
      }
      if (p.value.size() > kAppQueryValueBytesMax || !is_valid_utf8(p.value)) {
        return invalid("query parameter " + json_quote(p.name) +
                       " must be UTF-8 of at most 1024 bytes after percent-decoding");
      }
      if (r.params.size() == kAppQueryParamsMax) {
        return invalid("at most " + std::to_string(kAppQueryParamsMax) + " query parameters");
      }
      r.params.emplace(std::string(p.name), p.value);
    }
  }
  return r;
}

Result<Route> match_blocks(std::string_view rest, const std::vector<QueryParam>& params) {
  Route r;
  if (rest.empty()) {
    r.id = RouteId::kListBlocks;
    IMI_RETURN_IF_ERROR(parse_page(params, r, true));
    return r;
  }
  if (rest.find('/') != std::string_view::npos) {
    return not_found("/v1/blocks/" + std::string(rest));
  }
  auto h = parse_height(rest);
  if (!h) return invalid("height must be decimal without leading zeros, at most 2^53−1");
  IMI_RETURN_IF_ERROR(no_params(params));
  r.id = RouteId::kGetBlock;
  r.height = *h;
  return r;
}

Result<Route> match_state(std::string_view rest, const std::vector<QueryParam>& params) {
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return not_found("/v1/state/" + std::string(rest));
  const std::string_view app = rest.substr(0, slash);
  const std::string_view raw_key = rest.substr(slash + 1);
  if (!is_valid_app(app)) {
    return invalid("app must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter");
  }
  if (raw_key.find('/') != std::string_view::npos) {
    return invalid("the state key is one path segment: encode '/' in it as %2F");
  }
  auto key = percent_decode(raw_key);
  if (!key) return invalid("state key has a bad %-escape (use %XX with two hex digits)");
  if (key->empty() || key->size() > kStateKeyBytesMax) {
    return invalid("state key must be 1 to 1024 bytes after percent-decoding");
  }
  if (!is_valid_utf8(*key)) return invalid("state key must be UTF-8 after percent-decoding");
  IMI_RETURN_IF_ERROR(no_params(params));
  Route r;
  r.id = RouteId::kGetState;
  r.app = std::string(app);
  r.key = std::move(*key);
  return r;
}

Result<Route> match_did(std::string_view rest, const std::vector<QueryParam>& params) {
  if (rest.find('/') != std::string_view::npos) return not_found("/v1/dids/" + std::string(rest));
  auto did = percent_decode(rest);
  if (!did || !identity::is_valid_did(*did)) {
    return invalid("did must be \"did:imi:\" followed by 40 lowercase hex characters");
  }
  IMI_RETURN_IF_ERROR(no_params(params));
  Route r;
  r.id = RouteId::kGetDid;
  r.did = std::move(*did);
  return r;
}

}  // namespace

std::optional<uint64_t> parse_height(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > kMaxHeight) return std::nullopt;
  return v;
}

std::optional<std::string> percent_decode(std::string_view s) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = nibble(s[i + 1]);
    const int lo = nibble(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Result<Route> match_route(std::string_view target) {
  if (target.empty() || target[0] != '/') {
    return Status::error("api.bad_target", "request target must be a path starting with '/'");
  }
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  auto params = parse_query(query);
  if (!params) return params.status();

  const auto tail = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (path == prefix) return std::string_view();
    if (path.size() > prefix.size() + 1 && path.starts_with(prefix) && path[prefix.size()] == '/') {
      return path.substr(prefix.size() + 1);
    }
    return std::nullopt;
  };

  Route r;
  if (path == "/v1/status" || path == "/healthz" || path == "/readyz" || path == "/metrics") {
    IMI_RETURN_IF_ERROR(no_params(*params));
    r.id = path == "/v1/status" ? RouteId::kStatus
           : path == "/healthz" ? RouteId::kHealthz
           : path == "/readyz"  ? RouteId::kReadyz
                                : RouteId::kMetrics;
    return r;
  }
  if (auto rest = tail("/v1/txs")) return match_tx(*rest, *params);
  if (auto rest = tail("/v1/blocks")) return match_blocks(*rest, *params);
  if (path == "/v1/evidence") {
    r.id = RouteId::kListEvidence;
    IMI_RETURN_IF_ERROR(parse_page(*params, r));
    return r;
  }
  if (path == "/v1/events") return match_events(*params);
  if (path == "/v1/presentations/verify") {
    IMI_RETURN_IF_ERROR(no_params(*params));
    r.id = RouteId::kVerifyPresentation;
    return r;
  }
  if (auto rest = tail("/v1/dids")) {
    if (rest->empty()) return not_found(path);
    return match_did(*rest, *params);
  }
  if (auto rest = tail("/v1/apps")) {
    if (rest->empty()) return not_found(path);
    return match_app_query(*rest, *params);
  }
  if (auto rest = tail("/v1/state")) {
    if (rest->empty()) return not_found(path);
    return match_state(*rest, *params);
  }
  return not_found(path);
}

std::string_view route_method(RouteId id) {
  return id == RouteId::kSubmitTx || id == RouteId::kVerifyPresentation ? "POST" : "GET";
}

std::string_view route_label(RouteId id) {
  switch (id) {
    case RouteId::kSubmitTx:
      return "submit_tx";
    case RouteId::kGetTx:
      return "get_tx";
    case RouteId::kListBlocks:
      return "list_blocks";
    case RouteId::kGetBlock:
      return "get_block";
    case RouteId::kGetState:
      return "get_state";
    case RouteId::kGetDid:
      return "get_did";
    case RouteId::kListEvidence:
      return "list_evidence";
    case RouteId::kEvents:
      return "events";
    case RouteId::kAppQuery:
      return "app_query";
    case RouteId::kVerifyPresentation:
      return "verify_presentation";
    case RouteId::kStatus:
      return "status";
    case RouteId::kHealthz:
      return "healthz";
    case RouteId::kReadyz:
      return "readyz";
    case RouteId::kMetrics:
      return "metrics";
  }
  return "unknown";
}

}  // namespace imi::api
