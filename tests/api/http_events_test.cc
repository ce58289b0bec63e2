// GET /v1/events over a real WebSocket on loopback, against the fake node:
// blocks in height order from `from`, waiting for new ones, the app filter,
// the errors before the upgrade, the limit on streams, and how a stream ends.
#include <doctest/doctest.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include "tests/api/http_test_support.h"

using namespace imi;
using namespace imi::api;
using namespace imi::api::testing;

namespace {

namespace websocket = boost::beast::websocket;

// A WebSocket client whose every wait is bounded (5 s), so a broken server
// fails the test instead of hanging it.
class WsClient {
 public:
  WsClient(uint16_t port, const std::string& target, std::string origin = {}) : ws_(io_) {
    ws_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    if (!origin.empty()) {
      ws_.set_option(websocket::stream_base::decorator(
          [origin](websocket::request_type& req) { req.set(http::field::origin, origin); }));
    }
    boost::system::error_code result = asio::error::timed_out;
    ws_.async_handshake(response_, "127.0.0.1", target,
                        [&](boost::system::error_code ec) { result = ec; });
    run_bounded();
    handshake_error = result;
  }

  // The next message, or nullopt when the stream ends (`error` says how) or
  // nothing comes within 5 s.
  std::optional<std::string> read() {
    beast::flat_buffer buf;
    boost::system::error_code result = asio::error::timed_out;
    ws_.async_read(buf, [&](boost::system::error_code ec, size_t) { result = ec; });
    run_bounded();
    error = result;
    if (result) return std::nullopt;
    return beast::buffers_to_string(buf.data());
  }

  bool send_text(std::string_view text) {
    boost::system::error_code ec;
    ws_.write(asio::buffer(text.data(), text.size()), ec);
    return !ec;
  }

  websocket::close_reason close_reason() const { return ws_.reason(); }

  boost::system::error_code handshake_error;
  boost::system::error_code error;
  websocket::response_type response_;

 private:
  void run_bounded() { testing::run_bounded(io_, ws_.next_layer()); }

  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
};

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_MESSAGE(!d.HasParseError(), text);
  return d;
}

uint64_t height_of(const std::optional<std::string>& message) {
  REQUIRE(message.has_value());
  auto d = parse_json(*message);
  REQUIRE(d.IsObject());
  CHECK(std::string(d["type"].GetString()) == "block");
  return d["height"].GetUint64();
}

// Waits (bounded) until `pred` holds.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace

TEST_CASE("an event stream sends blocks in order from `from`, then each new one as it commits") {
  TestServer s;  // blocks 0..10
  WsClient ws(s.port(), "/v1/events?from=8");
  REQUIRE(!ws.handshake_error);
  CHECK(ws.response_.result_int() == 101);
  CHECK(height_of(ws.read()) == 8);
  CHECK(height_of(ws.read()) == 9);
  CHECK(height_of(ws.read()) == 10);
  // Past the tip the stream waits for the node: one watcher, not a poll.
  REQUIRE(eventually([&] { return s.node.height_watchers() == 1; }));
  const size_t reads = s.node.block_events_calls();
  REQUIRE(s.node.grow_to(12, 1));
  CHECK(height_of(ws.read()) == 11);
  CHECK(height_of(ws.read()) == 12);
  CHECK(s.node.block_events_calls() == reads + 2);
  // The server's metrics count the stream and what it sent.
  auto metrics = fetch(s.port(), "GET", "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body().find("imi_api_event_streams_open 1\n") != std::string::npos);
  CHECK(metrics->body().find("imi_api_events_sent_total 5\n") != std::string::npos);
  CHECK(metrics->body().find("imi_api_requests_total{route=\"events\",status=\"101\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("without `from` a stream starts at the next block") {
  TestServer s;
  WsClient ws(s.port(), "/v1/events");
  REQUIRE(!ws.handshake_error);
  REQUIRE(eventually([&] { return s.node.height_watchers() == 1; }));
  REQUIRE(s.node.grow_to(11, 1));
  CHECK(height_of(ws.read()) == 11);
}

TEST_CASE("?app= sends only blocks with that app's transactions, and only those") {
  TestServer s;  // even heights hold a "vote" transaction as well
  WsClient ws(s.port(), "/v1/events?from=3&app=vote");
  REQUIRE(!ws.handshake_error);
  for (uint64_t want : {4, 6, 8, 10}) {
    auto m = ws.read();
    CHECK(height_of(m) == want);
    auto d = parse_json(*m);
    REQUIRE(d["txs"].Size() == 1);
    CHECK(std::string(d["txs"][0]["app"].GetString()) == "vote");
  }
  WsClient all(s.port(), "/v1/events?from=10");
  auto d = parse_json(*all.read());
  CHECK(d["txs"].Size() == 2);
}

TEST_CASE("?skill= and ?cell= reach the node with ?app= as one filter") {
  TestServer s;
  WsClient ws(s.port(), "/v1/events?from=4&app=share&skill=first_aid&cell=r3c4");
  REQUIRE(!ws.handshake_error);
  // The fake node matches no "share" transaction: the stream waits at the top.
  REQUIRE(eventually([&] { return s.node.height_watchers() == 1; }));
  const EventFilter f = s.node.last_event_filter();
  CHECK(f.app == "share");
  CHECK(f.skill == "first_aid");
  CHECK(f.cell == "r3c4");
  for (const char* bad : {"?skill=", "?cell=", "?skill=a%20b", "?where=r1c1"}) {
    CAPTURE(bad);
    WsClient b(s.port(), std::string("/v1/events") + bad);
    CHECK(b.response_.result_int() == 400);
  }
  WsClient long_cell(s.port(), "/v1/events?cell=" + std::string(65, 'c'));
  CHECK(long_cell.response_.result_int() == 400);
}

TEST_CASE("bad requests for /v1/events are answered before any upgrade") {
  TestServer s;
  // Plain HTTP: 426 with the Upgrade header, as RFC 9110 asks.
  auto plain = fetch(s.port(), "GET", "/v1/events");
  check_problem(plain, 426, "upgrade-required");
  CHECK(header(*plain, http::field::upgrade) == "websocket");
  for (const char* bad :
       {"?from=01", "?from=-1", "?app=Vote", "?app=", "?limit=5", "?from=1&from=2"}) {
    CAPTURE(bad);
    WsClient ws(s.port(), std::string("/v1/events") + bad);
    CHECK(ws.handshake_error == websocket::error::upgrade_declined);
    CHECK(ws.response_.result_int() == 400);
  }
  WsClient post(s.port(), "/v1/events");  // control: a good one upgrades
  CHECK(!post.handshake_error);
  // Origins follow the CORS allow-list, as for every route.
  WsClient foreign(s.port(), "/v1/events", "https://evil.example");
  CHECK(foreign.handshake_error == websocket::error::upgrade_declined);
  CHECK(foreign.response_.result_int() == 403);
}

TEST_CASE("events_max streams at once; one more gets a 503 problem") {
  ServerOptions o;
  o.events_max = 2;
  TestServer s(o);
  WsClient b(s.port(), "/v1/events?from=0");
  REQUIRE(!b.handshake_error);
  {
    WsClient a(s.port(), "/v1/events?from=0");
    REQUIRE(!a.handshake_error);
    WsClient c(s.port(), "/v1/events?from=0");
    CHECK(c.handshake_error == websocket::error::upgrade_declined);
    CHECK(c.response_.result_int() == 503);
    CHECK(c.response_[http::field::retry_after] == "1");
  }
  // A stream that ends (its client went away) gives its place back.
  REQUIRE(eventually([&] {
    WsClient again(s.port(), "/v1/events?from=0");
    return !again.handshake_error;
  }));
}

TEST_CASE("a stream takes no messages, ends on a block the node cannot read, and on stop") {
  TestServer s;
  {
    WsClient ws(s.port(), "/v1/events?from=10");
    CHECK(height_of(ws.read()) == 10);
    REQUIRE(ws.send_text("subscribe"));
    CHECK(!ws.read());
    CHECK(ws.error == websocket::error::closed);
    CHECK(ws.close_reason().code == websocket::close_code::policy_error);
  }
  s.node.broken_blocks = {9};
  {
    WsClient ws(s.port(), "/v1/events?from=8");
    CHECK(height_of(ws.read()) == 8);
    CHECK(!ws.read());
    CHECK(ws.error == websocket::error::closed);
    CHECK(ws.close_reason().code == websocket::close_code::internal_error);
    CHECK(std::string(ws.close_reason().reason.data(), ws.close_reason().reason.size()) ==
          "store.corrupt");
  }
  // Streams that ended gave their places back.
  REQUIRE(eventually([&] {
    auto m = fetch(s.port(), "GET", "/metrics");
    return m && m->body().find("imi_api_event_streams_open 0\n") != std::string::npos;
  }));
  // Stopping the server ends a stream that waits for a block.
  WsClient waiting(s.port(), "/v1/events");
  REQUIRE(!waiting.handshake_error);
  REQUIRE(eventually([&] { return s.node.height_watchers() >= 1; }));
  s.stop();
  CHECK(!waiting.read());
  CHECK(waiting.error != asio::error::timed_out);
}
