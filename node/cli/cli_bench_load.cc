// imi bench: the load driver (see cli_bench.h). One thread, Boost.Beast
// keep-alive connections; the client's CPU share stays small so the nodes
// sharing the machine get the rest.
#include <rapidjson/document.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <deque>
#include <memory>
#include <unordered_map>

#include "node/cli/cli_bench.h"

namespace imi::cli::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kRetryDelay = std::chrono::milliseconds(5);
constexpr uint32_t kPageBlocks = 16;
// How long one long poll of /v1/blocks may wait for the next block.
constexpr uint32_t kWaitMs = 1000;

// The "code" member of a problem+json body, or "http.<status>".
std::string problem_code(int status, const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.IsObject() && d.HasMember("code") && d["code"].IsString()) return d["code"].GetString();
  if (d.IsObject() && d.HasMember("reason") && d["reason"].IsObject() &&
      d["reason"].HasMember("code") && d["reason"]["code"].IsString())
    return d["reason"]["code"].GetString();
  return "http." + std::to_string(status);
}

class Driver;

// One keep-alive connection submitting the transactions of its accounts.
class Submitter {
 public:
  Submitter(Driver& driver, asio::io_context& io, const NodeUrl& url, std::vector<uint32_t>& queue)
      : driver_(driver), url_(url), stream_(io), retry_timer_(io), queue_(queue) {}

  Status connect(asio::io_context& io);
  bool exhausted() const { return next_ >= queue_.size(); }
  // Whether the next transaction may be sent now (its dependency resolved).
  bool next_ready() const;
  // Submits the next transaction of the queue.
  void send_next();

 private:
  void send(uint32_t tx);
  void on_read(beast::error_code ec);

  Driver& driver_;
  const NodeUrl& url_;
  beast::tcp_stream stream_;
  asio::steady_timer retry_timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::vector<uint32_t>& queue_;
  size_t next_ = 0;
  uint32_t current_ = 0;
};

// Long-polls GET /v1/blocks?from=&limit=&wait_ms= (the node answers when
// block `from` commits, or an empty page after wait_ms) and marks the
// transactions it finds. After an error answer it pauses --poll-ms.
class Poller {
 public:
  Poller(Driver& driver, asio::io_context& io, const NodeUrl& url)
      : driver_(driver), url_(url), stream_(io), timer_(io) {}
  Status connect(asio::io_context& io);
  void start(uint64_t from) {
    from_ = from;
    poll();
  }
  void stop() {
    stopped_ = true;
    timer_.cancel();
    beast::error_code ignored;
    stream_.socket().cancel(ignored);  // the request waiting for a block
  }

 private:
  void poll();
  void on_read(beast::error_code ec);
  void wait();

  Driver& driver_;
  const NodeUrl& url_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> req_;
  http::response<http::string_body> res_;
  uint64_t from_ = 0;
  bool stopped_ = false;
};

class Driver {
 public:
  Driver(const LoadOptions& options, LoadPlan& plan)
      : opt_(options), plan_(plan), rate_timer_(io_), end_timer_(io_), drain_timer_(io_) {
    for (uint32_t a = 0; a < plan_.accounts.size(); ++a) account_index_[plan_.accounts[a]] = a;
  }

  LoadResult run();

  // --- called by Submitter and Poller ---
  Tx& tx(uint32_t i) { return plan_.txs[i]; }
  const LoadOptions& options() const { return opt_; }
  void on_submitted(uint32_t i, int status, const std::string& body);
  void on_idle(Submitter* s) {
    idle_.push_back(s);
    pump();
  }
  void retry_counted() { ++result_.retries; }
  void on_block_tx(std::string_view from, uint64_t nonce, Clock::time_point now);
  void on_block() { ++result_.blocks_seen; }
  void on_failure(const std::string& what) {
    if (result_.error.empty()) result_.error = what;
    io_.stop();
  }

 private:
  void pump();
  void resolve_one();
  void end_submissions();
  void maybe_finish();

  const LoadOptions& opt_;
  LoadPlan& plan_;
  asio::io_context io_;
  std::vector<std::unique_ptr<Submitter>> submitters_;
  std::unique_ptr<Poller> poller_;
  std::unordered_map<std::string, uint32_t> account_index_;
  std::deque<Submitter*> idle_;
  std::vector<Submitter*> waiting_;  // idle, next transaction held back by its dependency
  asio::steady_timer rate_timer_;
  asio::steady_timer end_timer_;
  asio::steady_timer drain_timer_;
  bool rate_timer_armed_ = false;
  bool submitting_ = true;
  size_t unresolved_ = 0;  // submitted, neither committed nor rejected (nor given up)
  uint64_t sent_ = 0;
  LoadResult result_;
};

// ------------------------------------------------------------- Submitter

Status Submitter::connect(asio::io_context& io) {
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url_.host, url_.port, ec);
  if (!ec) stream_.connect(endpoints, ec);
  if (ec)
    return Status::error("cli.unreachable", "cannot connect to " + url_.text + " (" + ec.message() +
                                                "); is the node running?");
  stream_.socket().set_option(tcp::no_delay(true), ec);
  req_.method(http::verb::post);
  req_.target(driver_.options().detect_wait ? "/v1/txs?wait=commit" : "/v1/txs");
  req_.set(http::field::host, url_.host);
  req_.set(http::field::content_type, "application/json");
  req_.keep_alive(true);
  return Status::ok();
}

bool Submitter::next_ready() const {
  if (exhausted()) return true;
  const uint32_t dep = driver_.tx(queue_[next_]).after;
  if (dep == Tx::kNoDependency) return true;
  const Tx::State st = driver_.tx(dep).state;
  return st == Tx::State::kCommitted || st == Tx::State::kRejected;
}

void Submitter::send_next() {
  current_ = queue_[next_++];
  Tx& t = driver_.tx(current_);
  t.state = Tx::State::kInFlight;
  t.submit = Clock::now();
  send(current_);
}

void Submitter::send(uint32_t tx) {
  req_.body() = driver_.tx(tx).body;
  req_.prepare_payload();
  http::async_write(stream_, req_, [this](beast::error_code ec, size_t) {
    if (ec) return driver_.on_failure("write to " + url_.text + ": " + ec.message());
    res_ = {};
    http::async_read(stream_, buffer_, res_, [this](beast::error_code ec, size_t) { on_read(ec); });
  });
}

void Submitter::on_read(beast::error_code ec) {
  if (ec) return driver_.on_failure("read from " + url_.text + ": " + ec.message());
  const int status = res_.result_int();
  if (status == 429 || status == 503) {
    // Rate limited, mempool full or not ready: the same transaction again
    // (the node deduplicates it), after a short pause.
    driver_.retry_counted();
    retry_timer_.expires_after(kRetryDelay);
    retry_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) send(current_);
    });
    return;
  }
  driver_.on_submitted(current_, status, res_.body());
  driver_.on_idle(this);
}

// ---------------------------------------------------------------- Poller

Status Poller::connect(asio::io_context& io) {
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url_.host, url_.port, ec);
  if (!ec) stream_.connect(endpoints, ec);
  if (ec)
    return Status::error("cli.unreachable", "cannot connect to " + url_.text + " (" + ec.message() +
                                                "); is the node running?");
  stream_.socket().set_option(tcp::no_delay(true), ec);
  req_.method(http::verb::get);
  req_.set(http::field::host, url_.host);
  req_.keep_alive(true);
  return Status::ok();
}

void Poller::poll() {
  if (stopped_) return;
  req_.target("/v1/blocks?from=" + std::to_string(from_) + "&limit=" + std::to_string(kPageBlocks) +
              "&wait_ms=" + std::to_string(kWaitMs));
  http::async_write(stream_, req_, [this](beast::error_code ec, size_t) {
    if (ec) return driver_.on_failure("write to " + url_.text + ": " + ec.message());
    res_ = {};
    res_.body().reserve(1 << 20);
    http::async_read(stream_, buffer_, res_, [this](beast::error_code ec, size_t) { on_read(ec); });
  });
}

void Poller::on_read(beast::error_code ec) {
  if (stopped_) return;
  if (ec) return driver_.on_failure("read from " + url_.text + ": " + ec.message());
  const auto now = Clock::now();
  if (res_.result_int() != 200) return wait();  // e.g. 503 while the node starts
  rapidjson::Document d;
  d.ParseInsitu(res_.body().data());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("blocks") || !d["blocks"].IsArray())
    return driver_.on_failure("GET /v1/blocks answered something that is not a block page");
  uint64_t last = from_ - 1;
  for (const auto& b : d["blocks"].GetArray()) {
    if (!b.IsObject() || !b.HasMember("height") || !b["height"].IsUint64()) continue;
    last = b["height"].GetUint64();
    driver_.on_block();
    if (!b.HasMember("txs") || !b["txs"].IsArray()) continue;
    for (const auto& t : b["txs"].GetArray()) {
      if (!t.IsObject() || !t.HasMember("from") || !t.HasMember("nonce") || !t["from"].IsString() ||
          !t["nonce"].IsUint64())
        continue;
      driver_.on_block_tx(std::string_view(t["from"].GetString(), t["from"].GetStringLength()),
                          t["nonce"].GetUint64(), now);
    }
  }
  from_ = last + 1;
  poll();  // the next page, or the next block when it commits
}

void Poller::wait() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::milliseconds(driver_.options().poll_ms));
  timer_.async_wait([this](beast::error_code ec) {
    if (!ec) poll();
  });
}

// ---------------------------------------------------------------- Driver

LoadResult Driver::run() {
  const size_t conns = opt_.nodes.size() * opt_.conns_per_node;
  for (size_t c = 0; c < conns; ++c) {
    submitters_.push_back(std::make_unique<Submitter>(*this, io_, opt_.nodes[c % opt_.nodes.size()],
                                                      plan_.by_conn[c]));
    if (Status s = submitters_.back()->connect(io_); !s) {
      result_.error = s.message();
      return result_;
    }
  }
  uint64_t from = 0;
  if (!opt_.detect_wait) {
    poller_ = std::make_unique<Poller>(*this, io_, opt_.nodes[0]);
    if (Status s = poller_->connect(io_); !s) {
      result_.error = s.message();
      return result_;
    }
    // Start at the current height + 1: GET /v1/status first.
    beast::tcp_stream probe(io_);
    tcp::resolver resolver(io_);
    beast::error_code ec;
    probe.connect(resolver.resolve(opt_.nodes[0].host, opt_.nodes[0].port, ec), ec);
    http::request<http::empty_body> req(http::verb::get, "/v1/status", 11);
    req.set(http::field::host, opt_.nodes[0].host);
    http::response<http::string_body> res;
    beast::flat_buffer buf;
    if (!ec) http::write(probe, req, ec);
    if (!ec) http::read(probe, buf, res, ec);
    rapidjson::Document d;
    if (!ec) d.Parse(res.body().c_str());
    if (ec || !d.IsObject() || !d.HasMember("height") || !d["height"].IsUint64()) {
      result_.error = "cannot read GET /v1/status of " + opt_.nodes[0].text;
      return result_;
    }
    from = d["height"].GetUint64() + 1;
  }
  result_.first_height = from;
  result_.start = Clock::now();
  result_.window_start = result_.start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(opt_.warmup_s));
  end_timer_.expires_at(result_.window_start + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(opt_.seconds)));
  end_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) end_submissions();
  });
  if (poller_) poller_->start(from);
  for (auto& s : submitters_) idle_.push_back(s.get());
  pump();
  io_.run();
  return result_;
}

void Driver::pump() {
  while (submitting_ && unresolved_ < opt_.concurrency && !idle_.empty()) {
    if (opt_.rate > 0) {
      const auto due = result_.start +
                       std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(static_cast<double>(sent_) / opt_.rate));
      if (Clock::now() < due) {
        if (!rate_timer_armed_) {
          rate_timer_armed_ = true;
          rate_timer_.expires_at(due);
          rate_timer_.async_wait([this](beast::error_code ec) {
            rate_timer_armed_ = false;
            if (!ec) pump();
          });
        }
        return;
      }
    }
    Submitter* s = idle_.front();
    idle_.pop_front();
    if (!s->next_ready()) {
      waiting_.push_back(s);  // back to idle_ when a transaction resolves
      continue;
    }
    if (s->exhausted()) {
      bool all_done = true;
      for (const auto& x : submitters_) all_done = all_done && x->exhausted();
      if (all_done) {
        std::fprintf(stderr,
                     "imi bench: ran out of pre-signed transactions; pass a larger --txs\n");
        end_submissions();
      }
      continue;
    }
    ++sent_;
    ++unresolved_;
    s->send_next();
  }
}

void Driver::resolve_one() {
  --unresolved_;
  for (Submitter* s : waiting_) idle_.push_back(s);
  waiting_.clear();
  if (submitting_)
    pump();
  else
    maybe_finish();
}

void Driver::on_submitted(uint32_t i, int status, const std::string& body) {
  Tx& t = plan_.txs[i];
  if (t.answered == Clock::time_point{}) t.answered = Clock::now();
  if (t.state != Tx::State::kInFlight) return;  // the poller saw its block first
  if (status == 202) {
    t.state = Tx::State::kPending;
    if (opt_.detect_wait) resolve_one();  // the wait ended without a verdict
    return;
  }
  if (status == 200 && body.find("\"status\":\"committed\"") != std::string::npos) {
    t.state = Tx::State::kCommitted;
    t.final = Clock::now();
    return resolve_one();
  }
  t.state = Tx::State::kRejected;
  t.final = Clock::now();
  t.reject_code = problem_code(status, body);
  resolve_one();
}

void Driver::on_block_tx(std::string_view from, uint64_t nonce, Clock::time_point now) {
  auto it = account_index_.find(std::string(from));
  if (it == account_index_.end()) return;  // someone else's transaction
  const auto& by_nonce = plan_.by_account[it->second];
  if (nonce >= by_nonce.size()) return;
  Tx& t = plan_.txs[by_nonce[nonce]];
  if (t.state != Tx::State::kInFlight && t.state != Tx::State::kPending) return;
  t.state = Tx::State::kCommitted;
  t.final = now;
  resolve_one();
}

void Driver::end_submissions() {
  if (!submitting_) return;
  submitting_ = false;
  result_.window_end = Clock::now();
  rate_timer_.cancel();
  end_timer_.cancel();
  drain_timer_.expires_after(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt_.drain_s)));
  drain_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) io_.stop();
  });
  maybe_finish();
}

void Driver::maybe_finish() {
  if (unresolved_ != 0) return;
  drain_timer_.cancel();
  if (poller_) poller_->stop();
  io_.stop();
}

}  // namespace

LoadResult run_load(const LoadOptions& options, LoadPlan& plan) {
  Driver driver(options, plan);
  return driver.run();
}

}  // namespace imi::cli::bench
