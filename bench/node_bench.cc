// Load generator for one imid node: committed transactions per second,
// submit-to-commit latency (p50, p99), idle latency of a single transaction,
// and imid's peak RSS.
//
//   build-x/bench/node_bench --imid build-x/node/imid [--txs 60000] [--conns 32]
//                            [--senders 256] [--idle 50]
//
// It creates a fresh node home in a temporary directory (`imid init`, with the
// per-client rate limit switched off), starts imid on a free port, and signs
// every transaction (anchor ops, one nonce sequence per sender) before the
// clock starts. Then `conns` keep-alive connections each submit their share
// (POST /v1/txs, no wait; a connection's senders are its own, so nonces arrive
// in order), while a watcher polls /v1/status and fetches each new block to
// learn when each transaction committed. Latency = block seen - submit start,
// so it includes up to one poll period (1 ms). Idle latency is measured
// first: sequential POST /v1/txs?wait=commit on an otherwise idle chain.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/json.h"
#include "ledger/smt_store.h"
#include "ledger/transaction.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// A minimal HTTP/1.1 keep-alive client over a blocking socket.
class Conn {
 public:
  explicit Conn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Conn() { ::close(fd_); }

  // Returns the status code; the body in `body`.
  int request(const std::string& method, const std::string& path, const std::string& body,
              std::string& out) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    req += "\r\n" + body;
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return -1;
      off += static_cast<size_t>(n);
    }
    size_t hdr_end;
    while ((hdr_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return -1;
    const int status = std::atoi(buf_.c_str() + 9);
    size_t len = 0;
    std::string headers = buf_.substr(0, hdr_end);
    for (auto& c : headers) c = static_cast<char>(std::tolower(c));
    size_t cl = headers.find("content-length:");
    if (cl != std::string::npos) len = std::strtoull(headers.c_str() + cl + 15, nullptr, 10);
    while (buf_.size() < hdr_end + 4 + len)
      if (!fill()) return -1;
    out = buf_.substr(hdr_end + 4, len);
    buf_.erase(0, hdr_end + 4 + len);
    return status;
  }

 private:
  bool fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
};

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return def;
}

uint64_t peak_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

// CPU seconds (user + system) the process has used so far.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t p = text.rfind(')');
  std::istringstream fields(text.substr(p + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Spawned {
  pid_t pid = -1;
  uint16_t port = 0;
};

Spawned spawn_imid(const std::string& imid, const std::string& home) {
  ::setenv("IMI_KEY_PASSWORD", "bench-password", 1);
  std::string init = imid + " init --home " + home + " --api 127.0.0.1:0 > /dev/null";
  if (std::system(init.c_str()) != 0) {
    std::fprintf(stderr, "imid init failed\n");
    std::exit(1);
  }
  // No per-client rate limit: every request comes from 127.0.0.1.
  const std::string conf = home + "/imid.conf";
  std::ifstream in(conf);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t p = text.find("requests_per_second = ");
  text.replace(p, text.find('\n', p) - p, "requests_per_second = 0");
  std::ofstream(conf) << text;

  int out[2];
  if (::pipe(out) != 0) std::exit(1);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(imid.c_str(), imid.c_str(), "start", "--home", home.c_str(), nullptr);
    std::_Exit(127);
  }
  ::close(out[1]);
  std::string seen;
  char c;
  while (seen.find("API_URL=") == std::string::npos || seen.back() != '\n') {
    if (::read(out[0], &c, 1) != 1) {
      std::fprintf(stderr, "imid did not start: %s\n", seen.c_str());
      std::exit(1);
    }
    seen.push_back(c);
  }
  size_t colon = seen.rfind(':');
  return Spawned{pid, static_cast<uint16_t>(std::atoi(seen.c_str() + colon + 1))};
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  const std::string imid = arg(argc, argv, "--imid", "");
  const size_t total = std::stoul(arg(argc, argv, "--txs", "60000"));
  const size_t conns = std::stoul(arg(argc, argv, "--conns", "32"));
  const size_t senders = std::max(conns, std::stoul(arg(argc, argv, "--senders", "256")));
  const size_t idle_n = std::stoul(arg(argc, argv, "--idle", "50"));
  if (imid.empty()) {
    std::fprintf(stderr, "usage: node_bench --imid PATH [--txs N] [--conns C] [--senders S]\n");
    return 2;
  }
  char tmpl[] = "/tmp/imi-node-bench-XXXXXX";
  const std::string home = std::string(::mkdtemp(tmpl)) + "/home";
  Spawned node = spawn_imid(imid, home);
  std::printf("imid pid %d on port %u\n", node.pid, node.port);

  std::string body;
  Conn probe(node.port);
  probe.request("GET", "/v1/status", "", body);
  auto st = imi::ledger::parse_strict(body);
  const std::string chain(st->operator[]("chain").GetString());

  // Sign everything before the clock starts.
  std::vector<imi::identity::KeyPair> keys;
  for (size_t i = 0; i < senders + 1; ++i) keys.push_back(imi::identity::KeyPair::generate());
  auto make = [&](size_t sender, uint64_t nonce, size_t salt) {
    rapidjson::Document args(rapidjson::kObjectType);
    const std::string h = imi::to_hex(imi::sha256("bench/" + std::to_string(salt)));
    args.AddMember("hash", rapidjson::Value(h.c_str(), args.GetAllocator()), args.GetAllocator());
    return std::move(
        *imi::ledger::make_transaction(keys[sender], chain, nonce, "anchor", "anchor", args));
  };
  const auto sign_start = Clock::now();
  std::vector<std::vector<imi::ledger::Transaction>> per_conn(conns);
  {
    std::vector<std::thread> signers;
    for (size_t c = 0; c < conns; ++c) {
      signers.emplace_back([&, c] {
        // Connection c owns senders c, c+conns, c+2*conns, ... round robin.
        std::vector<uint64_t> nonce(senders, 0);
        size_t mine = total / conns + (c < total % conns ? 1 : 0);
        std::vector<size_t> owned;
        for (size_t s = c; s < senders; s += conns) owned.push_back(s);
        for (size_t i = 0; i < mine; ++i) {
          size_t s = owned[i % owned.size()];
          per_conn[c].push_back(make(s, nonce[s]++, c * 10000000 + i));
        }
      });
    }
    for (auto& t : signers) t.join();
  }
  std::printf("signed %zu transactions from %zu senders in %.2f s\n", total, senders,
              std::chrono::duration<double>(Clock::now() - sign_start).count());

  // Idle latency: one transaction at a time, waiting for its commit.
  std::vector<double> idle;
  Conn idle_conn(node.port);  // the probe may have idled out while signing
  for (size_t i = 0; i < idle_n; ++i) {
    auto tx = make(senders, i, 900000000 + i);
    auto t0 = Clock::now();
    int code = idle_conn.request("POST", "/v1/txs?wait=commit", tx.canonical(), body);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (code != 200) std::fprintf(stderr, "idle tx: HTTP %d %s\n", code, body.c_str());
    idle.push_back(ms);
  }
  std::printf("idle latency (submit -> committed answer, %zu txs): p50 %.2f ms, max %.2f ms\n",
              idle_n, pct(idle, 0.5), pct(idle, 1.0));

  // Load.
  idle_conn.request("GET", "/v1/status", "", body);
  uint64_t start_height = imi::ledger::parse_strict(body)->operator[]("height").GetUint64();
  std::mutex mu;
  std::unordered_map<imi::Hash32, Clock::time_point, imi::Hash32Hasher> submitted;
  std::vector<double> latencies;
  std::atomic<size_t> committed{0}, rejected{0};
  std::atomic<bool> done_submitting{false};
  Clock::time_point last_commit;
  const double cpu_start = cpu_seconds(node.pid);
  const auto t_start = Clock::now();

  std::thread watcher([&] {
    Conn w(node.port);
    std::string b;
    uint64_t seen = start_height;
    while (committed.load() + rejected.load() < total) {
      w.request("GET", "/v1/status", "", b);
      uint64_t h = imi::ledger::parse_strict(b)->operator[]("height").GetUint64();
      if (h == seen) {
        if (done_submitting && Clock::now() - t_start > std::chrono::seconds(300)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      for (uint64_t x = seen + 1; x <= h; ++x) {
        w.request("GET", "/v1/blocks/" + std::to_string(x), "", b);
        auto now = Clock::now();
        imi::ledger::JsonLimits lim;
        lim.max_bytes = b.size();
        lim.max_members = 1 << 20;
        lim.max_depth = 64;
        auto doc = imi::ledger::parse_strict(b, lim);
        const auto& txs = doc->operator[]("txs");
        std::lock_guard lock(mu);
        for (const auto& t : txs.GetArray()) {
          auto id = imi::sha256(imi::ledger::jcs(t));
          auto it = submitted.find(id);
          if (it == submitted.end()) continue;
          latencies.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
          submitted.erase(it);
          ++committed;
        }
        last_commit = now;
      }
      seen = h;
    }
  });

  std::vector<std::thread> clients;
  for (size_t c = 0; c < conns; ++c) {
    clients.emplace_back([&, c] {
      Conn conn(node.port);
      std::string b;
      for (const auto& tx : per_conn[c]) {
        {
          std::lock_guard lock(mu);
          submitted[tx.id()] = Clock::now();
        }
        int code;
        while ((code = conn.request("POST", "/v1/txs", tx.canonical(), b)) == 503)
          std::this_thread::sleep_for(std::chrono::milliseconds(2));  // mempool full: back off
        if (code != 202) {
          if (rejected.fetch_add(1) < 5) std::fprintf(stderr, "HTTP %d %s\n", code, b.c_str());
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  const double submit_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  done_submitting = true;
  watcher.join();
  const double commit_s = std::chrono::duration<double>(last_commit - t_start).count();
  Conn probe2(node.port);
  probe2.request("GET", "/v1/status", "", body);
  uint64_t end_height = imi::ledger::parse_strict(body)->operator[]("height").GetUint64();

  std::printf("load: %zu txs over %zu connections, %zu senders\n", total, conns, senders);
  std::printf("  submitted in %.2f s (%.0f tx/s accepted)\n", submit_s,
              static_cast<double>(total) / submit_s);
  std::printf("  committed %zu in %.2f s: %.0f tx/s, %llu blocks (%.0f tx/block)\n",
              committed.load(), commit_s, static_cast<double>(committed.load()) / commit_s,
              static_cast<unsigned long long>(end_height - start_height),
              static_cast<double>(committed.load()) /
                  static_cast<double>(std::max<uint64_t>(1, end_height - start_height)));
  std::printf("  rejected %zu\n", rejected.load());
  std::printf("  submit -> commit latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              pct(latencies, 0.5), pct(latencies, 0.99), pct(latencies, 1.0));
  const double cpu_used = cpu_seconds(node.pid) - cpu_start;
  std::printf(
      "  imid CPU during the load: %.2f s = %.0f us per committed tx "
      "(ceiling on 2 idle cores ~ %.0f tx/s)\n",
      cpu_used, 1e6 * cpu_used / static_cast<double>(std::max<size_t>(1, committed.load())),
      2.0 * static_cast<double>(committed.load()) / cpu_used);
  std::printf("imid peak RSS: %.1f MiB\n", static_cast<double>(peak_rss_kb(node.pid)) / 1024.0);

  ::kill(node.pid, SIGTERM);
  int status = 0;
  ::waitpid(node.pid, &status, 0);
  std::printf("imid exited with %d after SIGTERM\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  std::error_code ec;
  fs::remove_all(fs::path(home).parent_path(), ec);
  return 0;
}
