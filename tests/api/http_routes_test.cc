// Every v1 route over real HTTP on loopback, against a fake node.
#include <doctest/doctest.h>

#include "api/router.h"
#include "tests/api/http_test_support.h"

using namespace imi;
using namespace imi::api;
using namespace imi::api::testing;

namespace {

rapidjson::Document parse(const Response& r) {
  rapidjson::Document d;
  d.Parse(r.body().data(), r.body().size());
  REQUIRE_MESSAGE(!d.HasParseError(), r.body());
  return d;
}

const std::string kTx = R"({"v":1,"chain":"imi-test","nonce":0})";
const std::string kJsonHeader = "Content-Type: application/json\r\n";

}  // namespace

TEST_CASE("healthz, readyz, status and metrics answer") {
  TestServer s;
  auto health = fetch(s.port(), "GET", "/healthz");
  REQUIRE(health);
  CHECK(health->result_int() == 200);
  CHECK(header(*health, http::field::content_type) == "application/json");
  CHECK(health->body() == R"({"status":"ok"})");

  auto ready = fetch(s.port(), "GET", "/readyz");
  REQUIRE(ready);
  CHECK(ready->result_int() == 200);

  auto status = fetch(s.port(), "GET", "/v1/status");
  REQUIRE(status);
  CHECK(status->result_int() == 200);
  CHECK(status->body() == R"({"chain":"imi-test","height":10})");

  auto metrics = fetch(s.port(), "GET", "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->result_int() == 200);
  CHECK(header(*metrics, http::field::content_type).starts_with("text/plain; version=0.0.4"));
  CHECK(metrics->body().starts_with("imi_height 10\n"));
  CHECK(metrics->body().find(R"(imi_api_requests_total{route="status",status="200"} 1)") !=
        std::string::npos);
  CHECK(metrics->body().find("imi_api_request_duration_seconds_bucket{le=\"+Inf\"}") !=
        std::string::npos);
}

TEST_CASE("readyz is a 503 not-ready problem while the node is not ready") {
  TestServer s;
  s.node.ready_status = Status::error("node.syncing", "catching up: height 3 of 90");
  auto r = fetch(s.port(), "GET", "/readyz");
  check_problem(r, 503, "not-ready");
  CHECK(parse(*r)["code"].GetString() == std::string("node.syncing"));
  CHECK(header(*r, http::field::retry_after) == "1");
}

TEST_CASE("GET /v1/txs/{id}: found, not found, and malformed ids") {
  TestServer s;
  auto found = fetch(s.port(), "GET", "/v1/txs/" + std::string(64, 'a'));
  REQUIRE(found);
  CHECK(found->result_int() == 200);
  CHECK(std::string(parse(*found)["status"].GetString()) == "pending");

  check_problem(fetch(s.port(), "GET", "/v1/txs/" + std::string(64, 'b')), 404, "not-found");
  check_problem(fetch(s.port(), "GET", "/v1/txs/" + std::string(64, 'A')), 400,
                "invalid-parameter");
  check_problem(fetch(s.port(), "GET", "/v1/txs/" + std::string(63, 'a')), 400,
                "invalid-parameter");
}

TEST_CASE("GET /v1/blocks/{height}: strict heights") {
  TestServer s;
  auto b = fetch(s.port(), "GET", "/v1/blocks/7");
  REQUIRE(b);
  CHECK(b->result_int() == 200);
  CHECK(b->body() == FakeNode::block_json(7));
  auto genesis = fetch(s.port(), "GET", "/v1/blocks/0");
  REQUIRE(genesis);
  CHECK(genesis->result_int() == 200);

  check_problem(fetch(s.port(), "GET", "/v1/blocks/11"), 404, "not-found");
  check_problem(fetch(s.port(), "GET", "/v1/blocks/9007199254740991"), 404, "not-found");
  for (const char* bad : {"07", "-1", "1.0", "9007199254740992", "1e3", "%31", "x"}) {
    CAPTURE(bad);
    check_problem(fetch(s.port(), "GET", std::string("/v1/blocks/") + bad), 400,
                  "invalid-parameter");
  }
}

TEST_CASE("GET /v1/blocks pages with a next cursor") {
  TestServer s;  // blocks 0..10
  auto first = fetch(s.port(), "GET", "/v1/blocks?limit=4");
  REQUIRE(first);
  CHECK(first->result_int() == 200);
  auto d = parse(*first);
  CHECK(d["blocks"].Size() == 4);
  CHECK(d["blocks"][0]["header"]["height"].GetInt() == 0);
  CHECK(d["next"].GetInt() == 4);

  auto last = fetch(s.port(), "GET", "/v1/blocks?from=8&limit=100");
  REQUIRE(last);
  auto e = parse(*last);
  CHECK(e["blocks"].Size() == 3);
  CHECK(e["next"].IsNull());

  auto defaults = fetch(s.port(), "GET", "/v1/blocks");
  REQUIRE(defaults);
  CHECK(parse(*defaults)["blocks"].Size() == 11);

  for (const char* bad : {"?limit=0", "?limit=101", "?limit=", "?from=01", "?from=1&from=2",
                          "?cursor=3", "?from=%zz"}) {
    CAPTURE(bad);
    check_problem(fetch(s.port(), "GET", std::string("/v1/blocks") + bad), 400,
                  "invalid-parameter");
  }
  check_problem(fetch(s.port(), "GET", "/v1/blocks?from=50"), 404, "not-found");
}

TEST_CASE("GET /v1/evidence passes the page to the node and answers its JSON") {
  TestServer s;  // 3 pieces of evidence
  auto first = fetch(s.port(), "GET", "/v1/evidence?limit=2");
  REQUIRE(first);
  CHECK(first->result_int() == 200);
  auto d = parse(*first);
  CHECK(d["evidence"].Size() == 2);
  CHECK(d["next"].GetInt() == 2);
  CHECK(s.node.last_evidence_page() == std::pair<uint64_t, uint32_t>{0, 2});
  auto rest = fetch(s.port(), "GET", "/v1/evidence?from=2");
  REQUIRE(rest);
  auto e = parse(*rest);
  CHECK(e["evidence"].Size() == 1);
  CHECK(e["evidence"][0]["index"].GetInt() == 2);
  CHECK(e["next"].IsNull());
  CHECK(s.node.last_evidence_page() == std::pair<uint64_t, uint32_t>{2, api::kBlocksLimitDefault});
  for (const char* bad : {"?limit=0", "?from=x", "?kind=vote"}) {
    CAPTURE(bad);
    check_problem(fetch(s.port(), "GET", std::string("/v1/evidence") + bad), 400,
                  "invalid-parameter");
  }
  check_problem(fetch(s.port(), "POST", "/v1/evidence"), 405, "method-not-allowed");
}

TEST_CASE("GET /v1/state/{app}/{key} percent-decodes the key") {
  TestServer s;
  auto r = fetch(s.port(), "GET", "/v1/state/anchor/doc%2F42%20%E4%B8%AD");
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(parse(*r).HasMember("proof"));
  CHECK(s.node.last_state_query() ==
        std::pair<std::string, std::string>("anchor", "doc/42 \xE4\xB8\xAD"));

  check_problem(fetch(s.port(), "GET", "/v1/state/nosuchapp/k"), 404, "not-found");
  check_problem(fetch(s.port(), "GET", "/v1/state/anchor/a/b"), 400, "invalid-parameter");
  check_problem(fetch(s.port(), "GET", "/v1/state/anchor/%zz"), 400, "invalid-parameter");
  check_problem(fetch(s.port(), "GET", "/v1/state/anchor/%FF"), 400, "invalid-parameter");
  check_problem(fetch(s.port(), "GET", "/v1/state/Anchor/k"), 400, "invalid-parameter");
  check_problem(fetch(s.port(), "GET", "/v1/state/anchor"), 404, "not-found");
}

TEST_CASE(
    "GET /v1/apps/{app}/{query}: params, cursor and limit reach the node; errors are problems") {
  TestServer s;
  auto r = fetch(s.port(), "GET", "/v1/apps/share/listings?cell=r1c2&cursor=abc%2F1&limit=7");
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(header(*r, http::field::content_type) == "application/json");
  auto d = parse(*r);
  CHECK(std::string(d["items"][0]["key"].GetString()) == "listing/r1c2");
  CHECK(d["items"][0]["value"]["limit"].GetInt() == 7);
  CHECK(std::string(d["next"].GetString()) == "abc/1x");
  const AppQuery q = s.node.last_app_query();
  CHECK(q.app == "share");
  CHECK(q.query == "listings");
  CHECK(q.cursor == "abc/1");  // percent-decoded, and not among the app's params
  CHECK(q.limit == 7);
  CHECK(q.params.size() == 1);
  CHECK(q.params.at("cell") == "r1c2");

  // limit defaults to 50; no cursor is the first page.
  REQUIRE(fetch(s.port(), "GET", "/v1/apps/share/listings?cell=r1c1"));
  CHECK(s.node.last_app_query().limit == kAppQueryLimitDefault);
  CHECK(s.node.last_app_query().cursor.empty());
  CHECK(kAppQueryLimitDefault == 50);
  REQUIRE(fetch(s.port(), "GET", "/v1/apps/share/listings?cell=r1c1&limit=100"));
  CHECK(s.node.last_app_query().limit == 100);

  // The node's errors: unknown app, an app without queries, an unknown
  // query (the message lists the app's queries), a bad parameter.
  auto unknown_app = fetch(s.port(), "GET", "/v1/apps/nosuch/listings");
  check_problem(unknown_app, 404, "not-found");
  CHECK(std::string(parse(*unknown_app)["code"].GetString()) == "query.unknown_app");
  auto no_queries = fetch(s.port(), "GET", "/v1/apps/anchor/all");
  check_problem(no_queries, 404, "not-found");
  CHECK(std::string(parse(*no_queries)["code"].GetString()) == "query.unknown");
  auto unknown = fetch(s.port(), "GET", "/v1/apps/share/nosuch");
  check_problem(unknown, 404, "not-found");
  CHECK(std::string(parse(*unknown)["detail"].GetString()).find("its queries: listings") !=
        std::string::npos);
  auto bad_param = fetch(s.port(), "GET", "/v1/apps/share/listings?cell=bad");
  check_problem(bad_param, 400, "invalid-parameter");
  CHECK(std::string(parse(*bad_param)["code"].GetString()) == "query.bad_param");
  check_problem(fetch(s.port(), "GET", "/v1/apps/share/listings"), 400, "invalid-parameter");

  // The router's own checks, before the node is asked.
  for (const char* bad :
       {"/v1/apps/share/listings?cell=r1c1&limit=0", "/v1/apps/share/listings?cell=r1c1&limit=101",
        "/v1/apps/share/listings?cell=r1c1&limit=07", "/v1/apps/share/listings?cell=r1c1&limit=x",
        "/v1/apps/share/listings?cell=r1c1&cell=r1c2", "/v1/apps/share/listings?cell=%FF",
        "/v1/apps/share/listings?Cell=r1", "/v1/apps/Share/listings", "/v1/apps/share/Listings"}) {
    CAPTURE(bad);
    check_problem(fetch(s.port(), "GET", bad), 400, "invalid-parameter");
  }
  check_problem(fetch(s.port(), "GET", "/v1/apps/share"), 404, "not-found");
  check_problem(fetch(s.port(), "GET", "/v1/apps"), 404, "not-found");
  check_problem(fetch(s.port(), "GET", "/v1/apps/share/listings/x"), 404, "not-found");
  auto post = fetch(s.port(), "POST", "/v1/apps/share/listings?cell=r1c1", "{}", kJsonHeader);
  REQUIRE(post);
  CHECK(post->result_int() == 405);
}

TEST_CASE("GET /v1/dids/{did}: the document, 404 when unknown, 400 when malformed") {
  TestServer s;
  const std::string hex(40, 'a');
  auto r = fetch(s.port(), "GET", "/v1/dids/did:imi:" + hex);
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(std::string(parse(*r)["id"].GetString()) == "did:imi:" + hex);
  auto encoded = fetch(s.port(), "GET", "/v1/dids/did%3Aimi%3A" + hex);
  REQUIRE(encoded);
  CHECK(encoded->result_int() == 200);

  check_problem(fetch(s.port(), "GET", "/v1/dids/did:imi:" + std::string(40, 'b')), 404,
                "not-found");
  check_problem(fetch(s.port(), "GET", "/v1/dids/did:imi:xyz"), 400, "invalid-parameter");
  check_problem(fetch(s.port(), "POST", "/v1/dids/did:imi:" + hex, "{}", kJsonHeader), 405,
                "method-not-allowed");
}

TEST_CASE("POST /v1/presentations/verify passes the body to the node and maps its answer") {
  TestServer s;
  const std::string body = R"({"presentation":"x~","audience":"a","nonce":"n"})";
  auto r = fetch(s.port(), "POST", "/v1/presentations/verify", body, kJsonHeader);
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(!parse(*r)["ok"].GetBool());
  CHECK(s.node.verified() == std::vector<std::string>{body});

  auto bad = fetch(s.port(), "POST", "/v1/presentations/verify", "{}", kJsonHeader);
  check_problem(bad, 400, "malformed-json");
  CHECK(std::string(parse(*bad)["code"].GetString()) == "json.missing_field");
  check_problem(fetch(s.port(), "POST", "/v1/presentations/verify", body), 415,
                "unsupported-media-type");
  check_problem(fetch(s.port(), "GET", "/v1/presentations/verify"), 405, "method-not-allowed");
  CHECK(s.node.verified().size() == 2);
}

TEST_CASE("POST /v1/txs: 202 with the id; resubmission returns the same id") {
  TestServer s;
  auto first = fetch(s.port(), "POST", "/v1/txs", kTx, kJsonHeader);
  REQUIRE(first);
  CHECK(first->result_int() == 202);
  const std::string id = parse(*first)["id"].GetString();
  CHECK(id == to_hex(sha256(std::string_view(kTx))));
  CHECK(header(*first, http::field::location) == "/v1/txs/" + id);

  auto again =
      fetch(s.port(), "POST", "/v1/txs", kTx, "Content-Type: application/json; charset=utf-8\r\n");
  REQUIRE(again);
  CHECK(again->result_int() == 202);
  CHECK(std::string(parse(*again)["id"].GetString()) == id);
  CHECK(s.node.submitted() == std::vector<std::string>{kTx, kTx});
}

TEST_CASE("POST /v1/txs maps the node's rejections to problems") {
  struct Case {
    const char* code;
    int status;
    const char* slug;
  };
  for (const Case& c :
       {Case{"json.float", 400, "malformed-json"},
        Case{"json.duplicate_key", 400, "malformed-json"},
        Case{"tx.bad_signature", 422, "bad-signature"}, Case{"tx.wrong_chain", 422, "wrong-chain"},
        Case{"tx.unknown_app", 422, "unknown-app"}, Case{"tx.nonce_used", 409, "nonce-replayed"},
        Case{"mempool.full", 503, "mempool-full"}}) {
    CAPTURE(c.code);
    TestServer s;
    s.node.submit_error = Status::error(c.code, "explained");
    auto r = fetch(s.port(), "POST", "/v1/txs", kTx, kJsonHeader);
    check_problem(r, c.status, c.slug);
    auto d = parse(*r);
    CHECK(d["code"].GetString() == std::string(c.code));
    CHECK(d["detail"].GetString() == std::string("explained"));
  }
}

TEST_CASE("GET /v1/blocks?wait_ms= waits for the first block and answers it when it commits") {
  TestServer s;  // blocks 0..10
  // A block that exists answers at once, wait or not.
  auto now = fetch(s.port(), "GET", "/v1/blocks?from=10&wait_ms=30000");
  REQUIRE(now);
  CHECK(parse(*now)["blocks"].Size() == 1);
  // Block 11 does not exist: without wait_ms a 404, with it the answer waits.
  check_problem(fetch(s.port(), "GET", "/v1/blocks?from=11"), 404, "not-found");
  Client c(s.port());
  REQUIRE(c.send(Client::request("GET", "/v1/blocks?from=11&limit=5&wait_ms=30000")));
  REQUIRE(s.node.grow_to(12, 1));
  auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  auto d = parse(*r);
  REQUIRE(d["blocks"].Size() == 2);
  CHECK(d["blocks"][0]["header"]["height"].GetInt() == 11);
  CHECK(d["blocks"][1]["header"]["height"].GetInt() == 12);
  CHECK(d["next"].IsNull());
  // Rules of the parameter; other listings do not take it.
  for (const char* bad : {"?wait_ms=30001", "?wait_ms=-1", "?wait_ms=01", "?wait_ms=1&wait_ms=2"}) {
    CAPTURE(bad);
    check_problem(fetch(s.port(), "GET", std::string("/v1/blocks") + bad), 400,
                  "invalid-parameter");
  }
  check_problem(fetch(s.port(), "GET", "/v1/evidence?wait_ms=10"), 400, "invalid-parameter");
}

TEST_CASE("GET /v1/blocks?wait_ms= answers an empty page to resume from when nothing comes") {
  TestServer s;  // blocks 0..10
  auto r = fetch(s.port(), "GET", "/v1/blocks?from=11&wait_ms=150");
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  auto d = parse(*r);
  CHECK(d["blocks"].Size() == 0);
  CHECK(d["next"].GetInt() == 11);
  // The node's late call after the server gave up is harmless.
  CHECK(s.node.grow_to(11, 1));
  auto again = fetch(s.port(), "GET", "/v1/blocks?from=11&wait_ms=150");
  REQUIRE(again);
  CHECK(parse(*again)["blocks"].Size() == 1);
}

TEST_CASE("POST /v1/txs?wait=commit returns the result when the node commits") {
  TestServer s;
  const std::string id = to_hex(sha256(std::string_view(kTx)));
  Client c(s.port());
  REQUIRE(c.send(Client::request("POST", "/v1/txs?wait=commit", kTx, kJsonHeader)));
  const std::string committed = R"({"id":")" + id + R"(","status":"committed","height":3})";
  REQUIRE(s.node.commit(id, committed));
  auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(r->body() == committed);
}

TEST_CASE("POST /v1/txs?wait=commit answers 202 pending when the commit does not come in time") {
  ServerOptions o;
  o.wait_commit_timeout_ms = 200;
  TestServer s(o);
  const std::string id = to_hex(sha256(std::string_view(kTx)));
  auto r = fetch(s.port(), "POST", "/v1/txs?wait=commit", kTx, kJsonHeader);
  REQUIRE(r);
  CHECK(r->result_int() == 202);
  auto d = parse(*r);
  CHECK(std::string(d["id"].GetString()) == id);
  CHECK(std::string(d["status"].GetString()) == "pending");
  // The node's late call after the server gave up is harmless.
  CHECK(s.node.commit(id, std::string("{}")));
  CHECK(fetch(s.port(), "GET", "/healthz").has_value());
}

TEST_CASE("POST /v1/txs?wait=commit answers 202 pending at once when the node cannot wait") {
  TestServer s;
  const std::string id = to_hex(sha256(std::string_view(kTx)));
  Client c(s.port());
  REQUIRE(c.send(Client::request("POST", "/v1/txs?wait=commit", kTx, kJsonHeader)));
  REQUIRE(s.node.commit(id, Status::error("node.watchers_full", "too many wait")));
  auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 202);
  auto d = parse(*r);
  CHECK(std::string(d["status"].GetString()) == "pending");
  CHECK(std::string(d["id"].GetString()) == id);
}

TEST_CASE("POST /v1/txs?wait=commit passes on a rejection as a problem") {
  TestServer s;
  const std::string id = to_hex(sha256(std::string_view(kTx)));
  Client c(s.port());
  REQUIRE(c.send(Client::request("POST", "/v1/txs?wait=commit", kTx, kJsonHeader)));
  REQUIRE(s.node.commit(id, Status::error("tx.nonce_used", "nonce 0 was used by another tx")));
  check_problem(c.read(), 409, "nonce-replayed");
}

TEST_CASE("a node that never answers a submission gets a 503 not-ready") {
  ServerOptions o;
  o.node_reply_timeout_ms = 200;
  TestServer s(o);
  s.node.answer_submit = false;
  check_problem(fetch(s.port(), "POST", "/v1/txs", kTx, kJsonHeader), 503, "not-ready");
  check_problem(fetch(s.port(), "GET", "/v1/txs?wait=later"), 400, "invalid-parameter");
}

TEST_CASE("keep-alive: several requests, also pipelined, on one connection") {
  TestServer s;
  Client c(s.port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.exchange(Client::request("GET", "/v1/blocks/" + std::to_string(i)));
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->keep_alive());
    CHECK(r->body() == FakeNode::block_json(i));
  }
  // Two requests in one write; the answers come back in order.
  REQUIRE(c.send(Client::request("GET", "/v1/blocks/4") + Client::request("GET", "/v1/blocks/5")));
  auto a = c.read();
  auto b = c.read();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->body() == FakeNode::block_json(4));
  CHECK(b->body() == FakeNode::block_json(5));
  // A problem does not end a keep-alive connection.
  check_problem(c.exchange(Client::request("GET", "/nope")), 404, "not-found");
  auto after = c.exchange(Client::request("GET", "/healthz"));
  REQUIRE(after);
  CHECK(after->result_int() == 200);
  // Connection: close is honoured.
  auto last = c.exchange(Client::request("GET", "/healthz", {}, "Connection: close\r\n"));
  REQUIRE(last);
  CHECK(!last->keep_alive());
  CHECK(c.closed_by_server());
}

TEST_CASE("Expect: 100-continue gets an interim 100 before the body is sent") {
  TestServer s;
  Client c(s.port());
  REQUIRE(
      c.send("POST /v1/txs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: " +
             std::to_string(kTx.size()) + "\r\n\r\n"));
  auto interim = c.read_header_only();
  REQUIRE(interim);
  CHECK(interim->result_int() == 100);
  REQUIRE(c.send(kTx));
  auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 202);
}
