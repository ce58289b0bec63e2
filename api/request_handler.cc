#include "api/request_handler.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <utility>

#include "api/json_text.h"
#include "api/router.h"

namespace imi::api {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kUnmatched = "unmatched";
constexpr std::string_view kPreflight = "preflight";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// "application/json" or "application/json; charset=utf-8" (any parameters).
bool is_json_media_type(std::string_view value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  return iequals(value, kJson);
}

// Retry-After for the 503 problems: the node is expected back soon.
uint32_t retry_after_for(Problem p) {
  return p == Problem::kMempoolFull || p == Problem::kNotReady ? 1 : 0;
}

// One request in flight. Every member function runs on `executor_`; the
// node's callbacks are posted there. It lives until the response is handed
// over and its timer (if armed) has completed.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<ApiContext> ctx, HttpRequest request, asio::any_io_executor executor,
           Respond respond)
      : ctx_(std::move(ctx)),
        request_(std::move(request)),
        executor_(std::move(executor)),
        respond_(std::move(respond)),
        timer_(executor_) {}

  void run(const std::string& client_ip);

 private:
  enum class Phase { kIdle, kAdmitting, kWaitingCommit, kWaitingBlocks, kDone };

  void dispatch(const Route& route);
  // True if the request says Content-Type: application/json; otherwise
  // answers 415 with `detail` and returns false.
  bool has_json_body(std::string_view detail);
  void submit(bool wait_commit);
  void on_admitted(Result<TxAdmission> admission);
  void on_final(JsonReply reply);
  void on_timeout();
  // GET /v1/blocks: the page from `from`, or with `wait_ms` > 0 and no block
  // at `from` yet, the page once it exists (an empty page if the wait ends).
  void list_blocks(uint64_t from, uint32_t limit, uint32_t wait_ms);
  void on_height();
  void reply_page(const BlockPage& page);
  void arm_timer(uint32_t ms);

  void reply_json(http::status status, std::string body);
  void reply_reply(const JsonReply& reply);
  void reply_problem(Problem p, std::string_view detail, std::string_view code = {});
  void reply_status(const Status& s);
  void finish(HttpResponse res);

  const std::shared_ptr<ApiContext> ctx_;
  HttpRequest request_;
  const asio::any_io_executor executor_;
  Respond respond_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  Phase phase_ = Phase::kIdle;
  std::string_view route_label_ = kUnmatched;
  std::string allowed_origin_;  // set when the request's Origin is allow-listed
  bool wait_commit_ = false;
  std::string tx_id_;
  uint64_t list_from_ = 0;  // kWaitingBlocks
  uint32_t list_limit_ = 0;
};

void Exchange::run(const std::string& client_ip) {
  const auto decision = ctx_->limiter.admit(client_ip, RateLimiter::Clock::now());
  if (!decision.allowed) {
    finish(make_problem_response(*ctx_, Problem::kRateLimited,
                                 "more than the allowed requests per second from " + client_ip +
                                     "; retry after the Retry-After seconds",
                                 {}, request_.version(), decision.retry_after_s));
    return;
  }

  const auto origin_it = request_.find(http::field::origin);
  if (origin_it != request_.end()) {
    const std::string_view origin(origin_it->value().data(), origin_it->value().size());
    const auto& allowed = ctx_->options.cors_allowed_origins;
    if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) {
      reply_problem(Problem::kOriginNotAllowed,
                    "origin " + json_quote(origin) +
                        " is not in the node's CORS allow-list (api cors_allowed_origins)");
      return;
    }
    allowed_origin_ = std::string(origin);
  }

  const std::string_view target(request_.target().data(), request_.target().size());
  auto route = match_route(target);
  if (!route) {
    reply_status(route.status());
    return;
  }
  const std::string_view method = route_method(route->id);

  if (request_.method() == http::verb::options) {
    route_label_ = kPreflight;
    HttpResponse res(http::status::no_content, request_.version());
    res.set(http::field::allow, std::string(method) + ", OPTIONS");
    if (!allowed_origin_.empty()) {
      res.set(http::field::access_control_allow_methods, std::string(method) + ", OPTIONS");
      res.set(http::field::access_control_allow_headers, "Content-Type");
      res.set(http::field::access_control_max_age, std::to_string(ctx_->options.cors_max_age_s));
    }
    finish(std::move(res));
    return;
  }

  route_label_ = route_label(route->id);
  const std::string_view verb(request_.method_string().data(), request_.method_string().size());
  if (verb != method) {
    HttpResponse res = make_problem_response(
        *ctx_, Problem::kMethodNotAllowed,
        std::string(verb) + " is not allowed here; use " + std::string(method), {},
        request_.version());
    res.set(http::field::allow, std::string(method) + ", OPTIONS");
    finish(std::move(res));
    return;
  }
  dispatch(*route);
}

bool Exchange::has_json_body(std::string_view detail) {
  const auto ct = request_.find(http::field::content_type);
  if (ct != request_.end() &&
      is_json_media_type(std::string_view(ct->value().data(), ct->value().size()))) {
    return true;
  }
  reply_problem(Problem::kUnsupportedMediaType, detail);
  return false;
}

void Exchange::dispatch(const Route& route) {
  NodeApi& node = ctx_->node;
  switch (route.id) {
    case RouteId::kSubmitTx:
      if (!has_json_body("send the transaction with Content-Type: application/json")) return;
      submit(route.wait_commit);
      return;
    case RouteId::kVerifyPresentation:
      if (!has_json_body("send the presentation with Content-Type: application/json")) return;
      reply_reply(node.verify_presentation(std::move(request_.body())));
      return;
    case RouteId::kGetDid:
      reply_reply(node.get_did(route.did));
      return;
    case RouteId::kListEvidence:
      reply_reply(node.list_evidence(route.height, route.limit));
      return;
    case RouteId::kEvents: {
      if (!boost::beast::websocket::is_upgrade(request_)) {
        HttpResponse res = make_problem_response(
            *ctx_, Problem::kUpgradeRequired,
            "GET /v1/events is a WebSocket: connect with a WebSocket client to "
            "ws://<node>/v1/events[?from=H&app=A&skill=S&cell=C], or follow GET "
            "/v1/blocks?from=H&wait_ms=30000",
            {}, request_.version());
        res.set(http::field::upgrade, "websocket");
        finish(std::move(res));
        return;
      }
      // The session turns the connection into an EventStream (it keeps the
      // request for the handshake); this status only tells it to.
      finish(HttpResponse(http::status::switching_protocols, request_.version()));
      return;
    }
    case RouteId::kGetTx:
      reply_reply(node.get_tx(route.tx_id));
      return;
    case RouteId::kGetBlock:
      reply_reply(node.get_block(route.height));
      return;
    case RouteId::kListBlocks:
      list_blocks(route.height, route.limit, route.wait_ms);
      return;
    case RouteId::kGetState:
      reply_reply(node.get_state(route.app, route.key));
      return;
    case RouteId::kAppQuery: {
      AppQuery q;
      q.app = route.app;
      q.query = route.query;
      q.params = route.params;
      q.cursor = route.cursor;
      q.limit = route.limit;
      reply_reply(node.app_query(q));
      return;
    }
    case RouteId::kStatus:
      reply_reply(node.status());
      return;
    case RouteId::kHealthz:
      reply_json(http::status::ok, "{\"status\":\"ok\"}");
      return;
    case RouteId::kReadyz: {
      const Status s = node.ready();
      if (!s.is_ok()) {
        reply_problem(Problem::kNotReady, s.message(), s.code());
        return;
      }
      reply_json(http::status::ok, "{\"ready\":true}");
      return;
    }
    case RouteId::kMetrics: {
      HttpResponse res(http::status::ok, request_.version());
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = node.metrics_text();
      if (!res.body().empty() && res.body().back() != '\n') res.body() += "\n";
      res.body() += ctx_->metrics.render();
      finish(std::move(res));
      return;
    }
  }
}

void Exchange::list_blocks(uint64_t from, uint32_t limit, uint32_t wait_ms) {
  auto page = ctx_->node.list_blocks(from, limit);
  if (page) return reply_page(*page);
  if (wait_ms == 0 || page.status().code() != "block.not_found") return reply_status(page.status());
  // Not there yet: wait for it. The node's callback holds only a weak_ptr
  // (as for wait=commit); the armed timer keeps this exchange alive.
  list_from_ = from;
  list_limit_ = limit;
  phase_ = Phase::kWaitingBlocks;
  arm_timer(wait_ms);
  ctx_->node.watch_height(from, weak_from_this(), [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->executor_, [self] { self->on_height(); });
  });
}

void Exchange::on_height() {
  if (phase_ != Phase::kWaitingBlocks) return;  // timed out already
  auto page = ctx_->node.list_blocks(list_from_, list_limit_);
  // Called early (the node is stopping, or too many wait): an empty page.
  if (!page && page.status().code() == "block.not_found")
    return reply_page(BlockPage{{}, list_from_});
  if (!page) return reply_status(page.status());
  reply_page(*page);
}

void Exchange::reply_page(const BlockPage& page) {
  std::string body = "{\"blocks\":[";
  for (size_t i = 0; i < page.blocks.size(); ++i) {
    if (i > 0) body += ",";
    body += page.blocks[i];
  }
  body += "],\"next\":";
  body += page.next ? std::to_string(*page.next) : "null";
  body += "}";
  reply_json(http::status::ok, std::move(body));
}

void Exchange::submit(bool wait_commit) {
  wait_commit_ = wait_commit;
  phase_ = Phase::kAdmitting;
  arm_timer(ctx_->options.node_reply_timeout_ms);
  // The node's callbacks hold only a weak_ptr: the armed timer keeps this
  // exchange alive while it waits, and a callback the node keeps longer (even
  // past the io_context) must not own asio objects.
  ctx_->node.submit_tx(
      std::move(request_.body()), [weak = weak_from_this()](Result<TxAdmission> admission) {
        auto self = weak.lock();
        if (!self) return;
        asio::post(self->executor_, [self, admission = std::move(admission)]() mutable {
          self->on_admitted(std::move(admission));
        });
      });
}

void Exchange::on_admitted(Result<TxAdmission> admission) {
  if (phase_ != Phase::kAdmitting) return;  // timed out already, or a second call
  if (!admission) {
    reply_status(admission.status());
    return;
  }
  tx_id_ = admission->id;
  if (!wait_commit_) {
    reply_json(http::status::accepted, "{\"id\":" + json_quote(tx_id_) + "}");
    return;
  }
  phase_ = Phase::kWaitingCommit;
  timer_.cancel();
  arm_timer(ctx_->options.wait_commit_timeout_ms);
  ctx_->node.watch_tx(tx_id_, weak_from_this(), [weak = weak_from_this()](JsonReply reply) {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->executor_,
               [self, reply = std::move(reply)]() mutable { self->on_final(std::move(reply)); });
  });
}

void Exchange::on_final(JsonReply reply) {
  if (phase_ != Phase::kWaitingCommit) return;
  // The node cannot wait for it now: as if the wait ran out (202 pending).
  if (!reply && reply.status().code() == "node.watchers_full") return on_timeout();
  reply_reply(reply);
}

void Exchange::on_timeout() {
  if (phase_ == Phase::kAdmitting) {
    reply_problem(Problem::kNotReady, "the node did not answer within " +
                                          std::to_string(ctx_->options.node_reply_timeout_ms) +
                                          " ms; retry the same transaction (it is deduplicated)");
  } else if (phase_ == Phase::kWaitingBlocks) {
    // Not an error either: nothing new yet; ask again from the same height.
    reply_page(BlockPage{{}, list_from_});
  } else if (phase_ == Phase::kWaitingCommit) {
    // Documented choice: not an error; the transaction is admitted and the
    // client polls GET /v1/txs/{id}.
    reply_json(http::status::accepted,
               "{\"id\":" + json_quote(tx_id_) + ",\"status\":\"pending\"}");
  }
}

void Exchange::arm_timer(uint32_t ms) {
  // The generation tells a stale expiry (queued just before a re-arm) from
  // the current one.
  const uint64_t generation = ++timer_generation_;
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (!ec && generation == self->timer_generation_) self->on_timeout();
  });
}

void Exchange::reply_json(http::status status, std::string body) {
  HttpResponse res(status, request_.version());
  res.set(http::field::content_type, std::string(kJson));
  if (status == http::status::accepted && !tx_id_.empty()) {
    res.set(http::field::location, "/v1/txs/" + tx_id_);
  }
  res.body() = std::move(body);
  finish(std::move(res));
}

void Exchange::reply_reply(const JsonReply& reply) {
  if (!reply) {
    reply_status(reply.status());
    return;
  }
  reply_json(http::status::ok, reply.value());
}

void Exchange::reply_problem(Problem p, std::string_view detail, std::string_view code) {
  finish(make_problem_response(*ctx_, p, detail, code, request_.version(), retry_after_for(p)));
}

void Exchange::reply_status(const Status& s) {
  reply_problem(problem_for_status(s), s.message(), s.code());
}

void Exchange::finish(HttpResponse res) {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  timer_.cancel();
  res.keep_alive(request_.keep_alive());
  res.set(http::field::server, "imid");
  if (!allowed_origin_.empty()) {
    res.set(http::field::access_control_allow_origin, allowed_origin_);
    res.set(http::field::vary, "Origin");
    res.set(http::field::access_control_expose_headers, "Location, Retry-After");
  }
  res.prepare_payload();
  asio::post(executor_, [respond = std::move(respond_), res = std::move(res),
                         route = route_label_]() mutable { respond(std::move(res), route); });
}

}  // namespace

HttpResponse make_problem_response(ApiContext& ctx, Problem problem, std::string_view detail,
                                   std::string_view code, unsigned http_version,
                                   uint32_t retry_after_s) {
  const ProblemInfo& info = problem_info(problem);
  ctx.metrics.record_rejected(info.slug);
  HttpResponse res(static_cast<http::status>(info.http_status), http_version);
  res.set(http::field::content_type, std::string(kProblemContentType));
  if (retry_after_s > 0) res.set(http::field::retry_after, std::to_string(retry_after_s));
  res.body() = problem_json(problem, detail, code);
  res.prepare_payload();
  return res;
}

void handle_request(std::shared_ptr<ApiContext> ctx, HttpRequest request, std::string client_ip,
                    asio::any_io_executor executor, Respond respond) {
  auto exchange = std::make_shared<Exchange>(std::move(ctx), std::move(request),
                                             std::move(executor), std::move(respond));
  exchange->run(client_ip);
}

}  // namespace imi::api
