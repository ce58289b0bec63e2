// Shared by the HTTP server tests: a fake NodeApi (no mocks of whole
// subsystems, just the narrow interface), a server running on 127.0.0.1
// port 0 in a background thread, and a tiny client over real sockets.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <atomic>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
// GCC 12 with -fsanitize: false -Wmaybe-uninitialized inside Beast's parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#pragma GCC diagnostic pop
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.h"
#include "api/node_api.h"
#include "base/bytes.h"
#include "base/sha256.h"

namespace imi::api::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// The node as the API sees it. Transactions get id = SHA-256 of the body;
// `commit(id)` plays the consensus loop finishing a block.
class FakeNode : public NodeApi {
 public:
  // Settings a test changes before sending requests.
  Status submit_error;                      // non-ok: submit_tx fails with it
  bool answer_submit = true;                // false: submit_tx never calls back
  Status ready_status;                      // readyz
  std::atomic<uint64_t> chain_height = 10;  // blocks 0..chain_height exist

  void submit_tx(std::string body, SubmitDone done) override {
    std::unique_lock lock(mu_);
    submitted_.push_back(body);
    if (!answer_submit) {
      held_submits_.push_back(std::move(done));
      return;
    }
    lock.unlock();
    if (!submit_error.is_ok()) {
      done(submit_error);
      return;
    }
    done(TxAdmission{to_hex(sha256(std::string_view(body)))});
  }

  void watch_tx(std::string id, Owner, TxDone done) override {
    std::lock_guard lock(mu_);
    watchers_.emplace_back(std::move(id), std::move(done));
    cv_.notify_all();
  }

  void watch_height(uint64_t height, Owner, HeightDone done) override {
    std::unique_lock lock(mu_);
    if (chain_height >= height) {
      lock.unlock();
      done();
      return;
    }
    height_watchers_.emplace_back(height, std::move(done));
    cv_.notify_all();
  }

  // Waits (bounded) until `n` requests wait for a height, then raises the
  // chain to `height` and calls those it reaches.
  bool grow_to(uint64_t height, size_t n) {
    std::vector<HeightDone> reached;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return height_watchers_.size() >= n; }))
        return false;
      chain_height = height;
      for (auto it = height_watchers_.begin(); it != height_watchers_.end();) {
        if (it->first <= height) {
          reached.push_back(std::move(it->second));
          it = height_watchers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& done : reached) done();
    return true;
  }

  uint64_t head_height() override { return chain_height.load(); }

  // Block h holds one "anchor" transaction, and one "vote" transaction when
  // h is even; its id is "b<h>". Heights in `broken_blocks` fail to read.
  Result<BlockEvents> block_events(uint64_t height, const EventFilter& filter) override {
    if (height > chain_height) return Status::error("block.not_found", "no block at that height");
    const std::string_view app = filter.app;
    {
      std::lock_guard lock(mu_);
      ++block_events_calls_;
      last_event_filter_ = filter;
      for (uint64_t b : broken_blocks)
        if (b == height) return Status::error("store.corrupt", "block unreadable");
    }
    BlockEvents ev;
    ev.json = R"({"type":"block","height":)" + std::to_string(height) + R"(,"txs":[)";
    for (std::string_view a : {std::string_view("anchor"), std::string_view("vote")}) {
      if (a == "vote" && height % 2 != 0) continue;
      if (!app.empty() && app != a) continue;
      if (ev.matched++ > 0) ev.json += ",";
      ev.json += R"({"app":")" + std::string(a) + R"("})";
    }
    ev.json += "]}";
    return ev;
  }
  std::vector<uint64_t> broken_blocks;  // set before the stream reaches them
  EventFilter last_event_filter() {
    std::lock_guard lock(mu_);
    return last_event_filter_;
  }
  size_t block_events_calls() {
    std::lock_guard lock(mu_);
    return block_events_calls_;
  }
  size_t height_watchers() {
    std::lock_guard lock(mu_);
    return height_watchers_.size();
  }

  JsonReply get_tx(std::string_view id) override {
    if (id == std::string(64, 'a'))
      return std::string(R"({"id":")" + std::string(id) + R"(","status":"pending"})");
    return Status::error("tx.not_found", "no transaction " + std::string(id));
  }

  JsonReply get_block(uint64_t height) override {
    if (height > chain_height) return Status::error("block.not_found", "no block at that height");
    return block_json(height);
  }

  Result<BlockPage> list_blocks(uint64_t from, uint32_t limit) override {
    if (from > chain_height) return Status::error("block.not_found", "from is above the chain");
    BlockPage page;
    uint64_t h = from;
    for (; h <= chain_height && page.blocks.size() < limit; ++h)
      page.blocks.push_back(block_json(h));
    if (h <= chain_height) page.next = h;
    return page;
  }

  JsonReply get_state(std::string_view app, std::string_view key) override {
    std::lock_guard lock(mu_);
    last_state_query_ = {std::string(app), std::string(key)};
    if (app != "anchor") return Status::error("state.unknown_app", "no app " + std::string(app));
    return std::string(R"({"value":null,"proof":{"siblings":[],"leaf":null}})");
  }

  // Apps: "share" answers query "listings" (?cell= required; "bad" is a bad
  // cell) with one item per call echoing cell, cursor and limit; "anchor"
  // answers none; any other app is unknown.
  JsonReply app_query(const AppQuery& q) override {
    {
      std::lock_guard lock(mu_);
      last_app_query_ = q;
    }
    if (q.app == "anchor") return Status::error("query.unknown", "app anchor answers no queries");
    if (q.app != "share") return Status::error("query.unknown_app", "no app named " + q.app);
    if (q.query != "listings")
      return Status::error("query.unknown",
                           "app share has no query \"" + q.query + "\"; its queries: listings");
    auto cell = q.params.find("cell");
    if (cell == q.params.end() || cell->second == "bad")
      return Status::error("query.bad_param", "cell: a cell is r<row>c<col>");
    return std::string(R"({"app":"share","height":10,"items":[{"key":"listing/)" + cell->second +
                       R"(","proof":{},"value":{"limit":)" + std::to_string(q.limit) +
                       R"(}}],"next":")" + q.cursor + R"(x","query":"listings","state_root":""})");
  }
  AppQuery last_app_query() {
    std::lock_guard lock(mu_);
    return last_app_query_;
  }

  // Knows one DID, "did:imi:" + 40 × 'a'.
  JsonReply get_did(std::string_view did) override {
    if (did == "did:imi:" + std::string(40, 'a'))
      return std::string(R"({"id":")" + std::string(did) + R"(","status":"active"})");
    return Status::error("did.not_found", "no identity " + std::string(did));
  }

  // Holds 3 pieces of evidence; echoes the page asked for.
  JsonReply list_evidence(uint64_t from, uint32_t limit) override {
    std::lock_guard lock(mu_);
    last_evidence_page_ = {from, limit};
    const uint64_t end = std::min<uint64_t>(3, from + limit);
    std::string body = R"({"evidence":[)";
    for (uint64_t i = from; i < end; ++i)
      body += (i > from ? "," : "") + std::string(R"({"index":)") + std::to_string(i) + "}";
    body += R"(],"next":)" + (end < 3 ? std::to_string(end) : std::string("null")) + "}";
    return body;
  }
  std::pair<uint64_t, uint32_t> last_evidence_page() {
    std::lock_guard lock(mu_);
    return last_evidence_page_;
  }

  // Records the body; "{}" answers a schema error, anything else a failed check.
  JsonReply verify_presentation(std::string body) override {
    std::lock_guard lock(mu_);
    verified_.push_back(body);
    if (body == "{}") return Status::error("json.missing_field", "presentation is missing");
    return std::string(R"({"ok":false,"checks":[{"name":"format","ok":false,"detail":"x"}]})");
  }

  JsonReply status() override { return std::string(R"({"chain":"imi-test","height":10})"); }
  Status ready() override { return ready_status; }
  std::string metrics_text() override { return "imi_height 10\n"; }

  // Waits (bounded) until a watcher for `id` is registered, then calls it.
  bool commit(const std::string& id, JsonReply reply) {
    TxDone done;
    {
      std::unique_lock lock(mu_);
      const bool found = cv_.wait_for(lock, std::chrono::seconds(10), [&] {
        for (auto& w : watchers_) {
          if (w.first == id) return true;
        }
        return false;
      });
      if (!found) return false;
      for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
        if (it->first == id) {
          done = std::move(it->second);
          watchers_.erase(it);
          break;
        }
      }
    }
    done(std::move(reply));
    return true;
  }

  std::vector<std::string> submitted() {
    std::lock_guard lock(mu_);
    return submitted_;
  }
  std::vector<std::string> verified() {
    std::lock_guard lock(mu_);
    return verified_;
  }
  std::pair<std::string, std::string> last_state_query() {
    std::lock_guard lock(mu_);
    return last_state_query_;
  }

  static std::string block_json(uint64_t h) {
    return R"({"id":"b)" + std::to_string(h) + R"(","header":{"height":)" + std::to_string(h) +
           R"(},"certificate":{}})";
  }

 private:
  std::pair<uint64_t, uint32_t> last_evidence_page_{};  // guarded by mu_
  size_t block_events_calls_ = 0;                       // guarded by mu_
  EventFilter last_event_filter_;                       // guarded by mu_
  AppQuery last_app_query_;                             // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> submitted_;
  std::vector<std::string> verified_;
  std::vector<SubmitDone> held_submits_;
  std::vector<std::pair<std::string, TxDone>> watchers_;
  std::vector<std::pair<uint64_t, HeightDone>> height_watchers_;
  std::pair<std::string, std::string> last_state_query_;
};

// An HttpServer on 127.0.0.1:0 with its io_context on one background thread.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}) : server_(io_, node, with_port0(options)) {
    const Status s = server_.start();
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    server_.stop();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_.port(); }
  void stop() { server_.stop(); }

  FakeNode node;

 private:
  static ServerOptions with_port0(ServerOptions o) {
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    return o;
  }
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  HttpServer server_;
  std::thread thread_;
};

using Response = http::response<http::string_body>;

// Runs `io` for at most 5 s; if its work is not done by then, cancels what
// waits on `socket` and lets the cancelled handlers finish.
inline void run_bounded(asio::io_context& io, tcp::socket& socket) {
  io.restart();
  io.run_for(std::chrono::seconds(5));
  if (!io.stopped()) {
    boost::system::error_code ignored;
    socket.cancel(ignored);
    io.restart();
    io.run();
  }
}

// One client connection. Every read is bounded (5 s) so a broken server
// fails the test instead of hanging it.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  // Sends raw bytes; false if the server already closed the connection.
  bool send(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  // True if response bytes are waiting to be read.
  bool has_data() {
    boost::system::error_code ec;
    return buffer_.size() > 0 || socket_.available(ec) > 0;
  }

  // Reads one response; nullopt on close, error or 5 s without one.
  std::optional<Response> read() {
    Response res;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    boost::system::error_code result = asio::error::timed_out;
    http::async_read(socket_, buffer_, parser,
                     [&](boost::system::error_code ec, size_t) { result = ec; });
    run_bounded();
    if (result) return std::nullopt;
    return parser.release();
  }

  // Reads an interim (1xx) response: status line and headers only.
  std::optional<Response> read_header_only() {
    http::response_parser<http::empty_body> parser;
    boost::system::error_code result = asio::error::timed_out;
    http::async_read_header(socket_, buffer_, parser,
                            [&](boost::system::error_code ec, size_t) { result = ec; });
    run_bounded();
    if (result) return std::nullopt;
    Response res;
    res.result(parser.get().result());
    return res;
  }

  // True if the server closed the connection (EOF or reset) without sending
  // anything more within 5 s.
  bool closed_by_server() {
    if (buffer_.size() > 0) return false;
    char byte;
    boost::system::error_code result = asio::error::timed_out;
    size_t n = 0;
    socket_.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, size_t got) {
      result = ec;
      n = got;
    });
    run_bounded();
    return n == 0 && (result == asio::error::eof || result == asio::error::connection_reset);
  }

  // Request text with Host and, unless given, Content-Length for `body`.
  static std::string request(std::string_view method, std::string_view target,
                             std::string_view body = {}, std::string extra_headers = {}) {
    std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n";
    r += extra_headers;
    if (!body.empty() || method == "POST")
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    r += "\r\n";
    r += body;
    return r;
  }

  std::optional<Response> exchange(std::string_view raw) {
    if (!send(raw)) return std::nullopt;
    return read();
  }

 private:
  void run_bounded() { testing::run_bounded(io_, socket_); }

  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// One request on a fresh connection.
inline std::optional<Response> fetch(uint16_t port, std::string_view method,
                                     std::string_view target, std::string_view body = {},
                                     std::string extra_headers = {}) {
  Client c(port);
  return c.exchange(Client::request(method, target, body, std::move(extra_headers)));
}

inline std::string header(const Response& r, http::field f) {
  auto it = r.find(f);
  return it == r.end() ? std::string() : std::string(it->value());
}

// Checks that `r` is an application/problem+json response with the given
// status and type slug, and that the body's members agree.
inline void check_problem(const std::optional<Response>& r, int status, std::string_view slug) {
  REQUIRE(r.has_value());
  CHECK(r->result_int() == static_cast<unsigned>(status));
  CHECK(header(*r, http::field::content_type) == "application/problem+json");
  rapidjson::Document d;
  d.Parse(r->body().data(), r->body().size());
  REQUIRE_MESSAGE(!d.HasParseError(), r->body());
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember("type"));
  CHECK(std::string(d["type"].GetString()) == "https://imi.chain/problems/" + std::string(slug));
  REQUIRE(d.HasMember("status"));
  CHECK(d["status"].GetInt() == status);
  CHECK(d.HasMember("title"));
  CHECK(d.HasMember("detail"));
}

}  // namespace imi::api::testing
