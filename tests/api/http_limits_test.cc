// The server's limits over real HTTP on loopback: body and header sizes,
// content type, malformed requests, unknown routes and methods, slow
// clients, the per-client rate limit, connections_max and CORS.
#include <doctest/doctest.h>

#include "tests/api/http_test_support.h"

using namespace imi;
using namespace imi::api;
using namespace imi::api::testing;

namespace {

const std::string kTx = R"({"v":1})";
const std::string kJsonHeader = "Content-Type: application/json\r\n";

}  // namespace

TEST_CASE("a body over body_bytes_max gets 413 before it is read") {
  ServerOptions o;
  o.body_bytes_max = 1024;
  TestServer s(o);
  // Declared too large: answered after the headers, without the body.
  Client c(s.port());
  REQUIRE(
      c.send("POST /v1/txs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 5000000\r\n\r\n" +
             std::string(2000, 'x')));
  check_problem(c.read(), 413, "body-too-large");
  CHECK(c.closed_by_server());

  // Chunked: refused once the chunks pass the limit.
  Client chunked(s.port());
  std::string chunks;
  for (int i = 0; i < 4; ++i) chunks += "200\r\n" + std::string(512, 'y') + "\r\n";
  REQUIRE(
      chunked.send("POST /v1/txs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n" +
                   chunks));
  check_problem(chunked.read(), 413, "body-too-large");

  // At the limit: accepted.
  auto ok = fetch(s.port(), "POST", "/v1/txs", std::string(1024, ' '), kJsonHeader);
  REQUIRE(ok);
  CHECK(ok->result_int() == 202);
}

TEST_CASE("headers over header_bytes_max get 431") {
  TestServer s;  // 8 KiB
  auto r = fetch(s.port(), "GET", "/healthz", {}, "X-Big: " + std::string(9000, 'h') + "\r\n");
  check_problem(r, 431, "headers-too-large");
  std::string many;
  for (int i = 0; i < 400; ++i) many += "X-" + std::to_string(i) + ": 12345678901234\r\n";
  check_problem(fetch(s.port(), "GET", "/healthz", {}, many), 431, "headers-too-large");
  check_problem(fetch(s.port(), "GET", "/healthz?" + std::string(9000, 'q')), 431,
                "headers-too-large");
}

TEST_CASE("POST bodies must be application/json: else 415") {
  TestServer s;
  check_problem(fetch(s.port(), "POST", "/v1/txs", kTx, "Content-Type: text/plain\r\n"), 415,
                "unsupported-media-type");
  check_problem(fetch(s.port(), "POST", "/v1/txs", kTx), 415, "unsupported-media-type");
  check_problem(
      fetch(s.port(), "POST", "/v1/txs", kTx, "Content-Type: application/json-patch+json\r\n"), 415,
      "unsupported-media-type");
  auto upper = fetch(s.port(), "POST", "/v1/txs", kTx, "Content-Type: Application/JSON\r\n");
  REQUIRE(upper);
  CHECK(upper->result_int() == 202);
  CHECK(s.node.submitted().size() == 1);  // the refused ones never reached the node
}

TEST_CASE("malformed requests get 400 bad-request and the connection is closed") {
  TestServer s;
  for (const char* raw :
       {"GARBAGE\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n", "GET  /healthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nNo colon\r\n\r\n",
        "POST /v1/txs HTTP/1.1\r\nContent-Length: 12x\r\n\r\n",
        "POST /v1/txs HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "G\x01T /healthz HTTP/1.1\r\n\r\n"}) {
    CAPTURE(raw);
    Client c(s.port());
    check_problem(c.exchange(raw), 400, "bad-request");
    CHECK(c.closed_by_server());
  }
  // A request target that is not a path.
  check_problem(fetch(s.port(), "GET", "http://t/healthz"), 400, "bad-request");
}

TEST_CASE("unknown routes get 404, wrong methods 405 with Allow") {
  TestServer s;
  for (const char* path : {"/", "/v2/status", "/v1/status/", "/v1/txs/", "/v1", "/healthz/x"}) {
    CAPTURE(path);
    check_problem(fetch(s.port(), "GET", path), 404, "not-found");
  }
  auto del = fetch(s.port(), "DELETE", "/v1/status");
  check_problem(del, 405, "method-not-allowed");
  CHECK(header(*del, http::field::allow) == "GET, OPTIONS");
  auto get_txs = fetch(s.port(), "GET", "/v1/txs");
  check_problem(get_txs, 405, "method-not-allowed");
  CHECK(header(*get_txs, http::field::allow) == "POST, OPTIONS");
  check_problem(fetch(s.port(), "POST", "/v1/blocks/1", kTx, kJsonHeader), 405,
                "method-not-allowed");
}

TEST_CASE("a client sending its headers byte by byte past the timeout gets 408") {
  ServerOptions o;
  o.request_timeout_ms = 300;
  TestServer s(o);
  Client c(s.port());
  const std::string raw = "GET /healthz HTTP/1.1\r\nHost: t\r\n" + std::string(400, ' ');
  bool cut_off = false;
  for (char ch : raw) {
    if (c.has_data()) break;  // the server answered
    if (!c.send(std::string_view(&ch, 1))) {
      cut_off = true;  // the server answered and closed while we were still sending
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto r = c.read();
  if (r || !cut_off) {
    check_problem(r, 408, "request-timeout");
    CHECK(!r->keep_alive());
    CHECK(c.closed_by_server());
  }
  CHECK(fetch(s.port(), "GET", "/healthz").has_value());  // others are served as usual
}

TEST_CASE("a slow body also hits the request timeout") {
  ServerOptions o;
  o.request_timeout_ms = 300;
  TestServer s(o);
  Client c(s.port());
  REQUIRE(
      c.send("POST /v1/txs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 100\r\n\r\n{"));
  check_problem(c.read(), 408, "request-timeout");
  CHECK(s.node.submitted().empty());
}

TEST_CASE("an idle keep-alive connection is closed without a response") {
  ServerOptions o;
  o.request_timeout_ms = 300;
  TestServer s(o);
  Client c(s.port());
  auto r = c.exchange(Client::request("GET", "/healthz"));
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(c.closed_by_server());  // nothing sent, nothing received: just closed
}

TEST_CASE("the per-client rate limit answers 429 with Retry-After") {
  ServerOptions o;
  o.requests_per_second = 0.01;  // one token per 100 s: no refill during the test
  o.burst = 3;
  TestServer s(o);
  Client c(s.port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.exchange(Client::request("GET", "/healthz"));
    REQUIRE(r);
    CHECK(r->result_int() == 200);
  }
  auto limited = c.exchange(Client::request("GET", "/healthz"));
  check_problem(limited, 429, "rate-limited");
  const int retry_after = std::stoi(header(*limited, http::field::retry_after));
  CHECK(retry_after >= 1);
  // The limit is per client, not per connection.
  check_problem(fetch(s.port(), "GET", "/v1/status"), 429, "rate-limited");
}

TEST_CASE("one client's connections over connections_per_client_max get 503, others are served") {
  ServerOptions o;
  o.connections_per_client_max = 2;
  TestServer s(o);
  std::optional<Client> a(s.port()), b(s.port());
  for (Client* c : {&*a, &*b}) {
    auto r = c->exchange(Client::request("GET", "/healthz"));
    REQUIRE(r);
    CHECK(r->result_int() == 200);
  }
  Client third(s.port());
  auto refused = third.read();
  check_problem(refused, 503, "too-many-connections");
  CHECK(refused->body().find("from one address (127.0.0.1)") != std::string::npos);
  CHECK(third.closed_by_server());
  // A closed connection gives its slot back.
  a.reset();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    Client again(s.port());
    auto r = again.exchange(Client::request("GET", "/healthz"));
    served = r && r->result_int() == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(served);
}

TEST_CASE("connections over connections_max get 503 too-many-connections") {
  ServerOptions o;
  o.connections_max = 1;
  TestServer s(o);
  Client first(s.port());
  auto r = first.exchange(Client::request("GET", "/healthz"));
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  Client second(s.port());
  auto refused = second.read();
  check_problem(refused, 503, "too-many-connections");
  CHECK(second.closed_by_server());
  // The first connection still works.
  auto again = first.exchange(Client::request("GET", "/healthz"));
  REQUIRE(again);
  CHECK(again->result_int() == 200);
}

TEST_CASE("CORS: allow-listed origins get the headers, others 403, preflight answered") {
  ServerOptions o;
  o.cors_allowed_origins = {"https://wallet.example.gov"};
  TestServer s(o);
  const std::string allowed = "Origin: https://wallet.example.gov\r\n";

  auto get = fetch(s.port(), "GET", "/v1/status", {}, allowed);
  REQUIRE(get);
  CHECK(get->result_int() == 200);
  CHECK(header(*get, http::field::access_control_allow_origin) == "https://wallet.example.gov");
  CHECK(header(*get, http::field::vary) == "Origin");

  auto denied = fetch(s.port(), "GET", "/v1/status", {}, "Origin: https://evil.example\r\n");
  check_problem(denied, 403, "origin-not-allowed");
  CHECK(header(*denied, http::field::access_control_allow_origin).empty());

  auto preflight = fetch(s.port(), "OPTIONS", "/v1/txs", {},
                         allowed +
                             "Access-Control-Request-Method: POST\r\n"
                             "Access-Control-Request-Headers: content-type\r\n");
  REQUIRE(preflight);
  CHECK(preflight->result_int() == 204);
  CHECK(header(*preflight, http::field::access_control_allow_origin) ==
        "https://wallet.example.gov");
  CHECK(header(*preflight, http::field::access_control_allow_methods) == "POST, OPTIONS");
  CHECK(header(*preflight, http::field::access_control_allow_headers) == "Content-Type");
  CHECK(!header(*preflight, http::field::access_control_max_age).empty());

  check_problem(fetch(s.port(), "OPTIONS", "/v1/txs", {},
                      "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n"),
                403, "origin-not-allowed");

  // A problem for an allowed origin still carries the CORS header, so the
  // page can read it.
  auto problem = fetch(s.port(), "GET", "/v1/blocks/x", {}, allowed);
  check_problem(problem, 400, "invalid-parameter");
  CHECK(header(*problem, http::field::access_control_allow_origin) == "https://wallet.example.gov");
}

TEST_CASE("without an allow-list every cross-origin request is denied") {
  TestServer s;
  check_problem(fetch(s.port(), "GET", "/v1/status", {}, "Origin: http://localhost:3000\r\n"), 403,
                "origin-not-allowed");
  auto same = fetch(s.port(), "GET", "/v1/status");  // no Origin: not a browser CORS request
  REQUIRE(same);
  CHECK(same->result_int() == 200);
}

TEST_CASE("rejections are counted by reason in /metrics") {
  ServerOptions o;
  o.body_bytes_max = 10;
  TestServer s(o);
  check_problem(fetch(s.port(), "POST", "/v1/txs", std::string(50, ' '), kJsonHeader), 413,
                "body-too-large");
  check_problem(fetch(s.port(), "GET", "/nope"), 404, "not-found");
  auto m = fetch(s.port(), "GET", "/metrics");
  REQUIRE(m);
  CHECK(m->body().find("imi_api_rejected_total{reason=\"body-too-large\"} 1") != std::string::npos);
  CHECK(m->body().find("imi_api_rejected_total{reason=\"not-found\"} 1") != std::string::npos);
  CHECK(m->body().find("imi_api_requests_total{route=\"unmatched\",status=\"404\"} 1") !=
        std::string::npos);
}
