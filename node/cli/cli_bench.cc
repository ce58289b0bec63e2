// imi bench: a load generator for one or more nodes (issue 7).
//
// It creates accounts and signs every transaction before the clock starts
// (client signing is not what is measured), then drives the load with
// cli_bench_load.cc and prints one JSON summary line on stdout:
//   tps            transactions committed per second in the measured window
//                  (commits seen between warm-up end and window end / seconds)
//   p50_ms ...     submit-to-commit latency of the transactions submitted in
//                  the window (commit = the long poll that returned its block, or
//                  the ?wait=commit answer)
//   submitted, committed, rejected (by code), pending (never resolved):
//                  counts over the window, committed + rejected_total +
//                  pending == submitted
//   nodes[]        CPU seconds used in the window and peak RSS per --pids entry
#include <rapidjson/document.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/sha256.h"
#include "identity/keystore.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
#include "node/cli/cli_bench.h"
#include "node/cli/cli_common.h"

namespace imi::cli {

namespace {

using bench::Clock;

constexpr size_t kPayloadMax = 256;  // apps/anchor.h kAnchorNoteBytesMax

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

Result<bench::NodeUrl> parse_url(const std::string& text) {
  std::string rest = text;
  if (rest.rfind("http://", 0) == 0)
    rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos)
    return Status::error("cli.usage", "only http:// node URLs are supported: " + text);
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  bench::NodeUrl u;
  u.text = text;
  u.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (u.host.empty() || u.port.empty())
    return Status::error("cli.usage", "not a node URL (http://HOST:PORT): " + text);
  return u;
}

Result<double> number(const node::CliArgs& a, const std::string& name, double def, double min,
                      double max) {
  if (!a.has(name)) return def;
  const std::string v = a.get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= min && d <= max))
    return Status::error("cli.usage", name + " must be a number from " + std::to_string(min) +
                                          " to " + std::to_string(max) + ", not \"" + v + "\"");
  return d;
}

struct ProcSample {
  double cpu_s = 0;
  double peak_rss_mib = 0;
  bool ok = false;
};

ProcSample sample(long pid) {
  ProcSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  const size_t p = text.rfind(')');
  if (p == std::string::npos) return s;
  std::istringstream fields(text.substr(p + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  s.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      s.peak_rss_mib = static_cast<double>(std::strtoull(line.c_str() + 6, nullptr, 10)) / 1024.0;
  s.ok = true;
  return s;
}

double self_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(sorted.size() - 1, i == static_cast<size_t>(-1) ? 0 : i)];
}

std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  return out + "\"";
}

// What one account sends.
enum class Kind { kAnchor, kRegister };

struct Account {
  Kind kind = Kind::kAnchor;
  uint32_t txs = 0;  // nonces 0..txs-1
};

rapidjson::Document register_args(const identity::KeyPair& subject,
                                  const identity::KeyPair& registrar) {
  rapidjson::Document att(rapidjson::kObjectType);
  auto& al = att.GetAllocator();
  att.AddMember("did", rapidjson::Value(subject.did().c_str(), al), al);
  rapidjson::Value guardians(rapidjson::kArrayType);
  att.AddMember("guardians", guardians, al);
  att.AddMember("key", rapidjson::Value(to_hex(subject.public_key()).c_str(), al), al);
  att.AddMember("registrar", rapidjson::Value(registrar.did().c_str(), al), al);
  att.AddMember("registrar_key", rapidjson::Value(to_hex(registrar.public_key()).c_str(), al), al);
  att.AddMember("type", "register", al);
  const auto sig = registrar.sign(identity::Domain::kAttestation, ledger::jcs(att));
  att.AddMember("sig", rapidjson::Value(to_hex(sig).c_str(), al), al);
  rapidjson::Document args(rapidjson::kObjectType);
  args.AddMember("attestation", rapidjson::Value(att, args.GetAllocator()), args.GetAllocator());
  return args;
}

// Lays out accounts and transactions over connections and signs them.
Status build_plan(const std::vector<Account>& accounts, size_t conns, const std::string& chain,
                  size_t payload, const identity::KeyPair* registrar, bench::LoadPlan& plan) {
  // Account a belongs to connection a % conns; a connection sends its
  // accounts' transactions round robin, each account's in nonce order.
  plan.accounts.resize(accounts.size());
  plan.by_account.resize(accounts.size());
  plan.by_conn.assign(conns, {});
  size_t total = 0;
  for (const auto& a : accounts) total += a.txs;
  plan.txs.resize(total);
  uint32_t next = 0;
  for (size_t c = 0; c < conns; ++c) {
    std::vector<uint32_t> mine;
    for (size_t a = c; a < accounts.size(); a += conns) mine.push_back(static_cast<uint32_t>(a));
    for (uint32_t round = 0;; ++round) {
      bool any = false;
      for (uint32_t a : mine) {
        if (round >= accounts[a].txs) continue;
        any = true;
        plan.txs[next].account = a;
        plan.txs[next].nonce = round;
        plan.by_account[a].push_back(next);
        plan.by_conn[c].push_back(next++);
      }
      if (!any) break;
    }
  }
  // A salt per run so anchors never repeat a hash from an earlier run.
  Hash32 salt;
  randombytes_buf(salt.data(), salt.size());
  const std::string note(payload, 'x');
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<Status> errors(threads, Status::ok());
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t a = t; a < accounts.size(); a += threads) {
        const identity::KeyPair key = identity::KeyPair::generate();
        plan.accounts[a] = key.did();
        for (uint32_t nonce = 0; nonce < accounts[a].txs; ++nonce) {
          const uint32_t i = plan.by_account[a][nonce];
          Result<ledger::Transaction> tx = Status::error("cli.bench", "unset");
          if (accounts[a].kind == Kind::kRegister) {
            tx = ledger::make_transaction(key, chain, nonce, "identity", "register",
                                          register_args(key, *registrar));
          } else {
            rapidjson::Document args(rapidjson::kObjectType);
            const Hash32 h =
                sha256_concat({ByteView(salt.data(), salt.size()), as_bytes(std::to_string(i))});
            args.AddMember("hash", rapidjson::Value(to_hex(h).c_str(), args.GetAllocator()),
                           args.GetAllocator());
            if (!note.empty())
              args.AddMember("note", rapidjson::Value(note.c_str(), args.GetAllocator()),
                             args.GetAllocator());
            tx = ledger::make_transaction(key, chain, nonce, "anchor", "anchor", args);
          }
          if (!tx) {
            errors[t] = tx.status();
            return;
          }
          plan.txs[i].body = tx->canonical();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (!e) return e;
  return Status::ok();
}

// Submit to the node's answer to the POST (202: admitted), if it answered
// before the commit was seen (with --detect wait the answer is the commit).
std::optional<double> admit_ms(const bench::Tx& t) {
  if (t.answered == bench::Clock::time_point{} || t.answered > t.final) return std::nullopt;
  return std::chrono::duration<double, std::milli>(t.answered - t.submit).count();
}

// --timeline: one line per second of the window on stderr, for the
// transactions submitted in that second: how many, how many committed, and
// their submit-to-commit and submit-to-202 latencies, so a latency tail can
// be placed in time (a stall) or seen spread over the run (queueing).
void print_timeline(const std::vector<bench::Tx>& txs, bench::Clock::time_point start,
                    bench::Clock::time_point end) {
  const auto secs =
      static_cast<size_t>(std::ceil(std::chrono::duration<double>(end - start).count()));
  std::vector<std::vector<double>> lat(secs), admit(secs);
  std::vector<uint64_t> submitted(secs);
  for (const bench::Tx& t : txs) {
    if (t.state == bench::Tx::State::kUnsent || t.submit < start || t.submit >= end) continue;
    const auto s = static_cast<size_t>(std::chrono::duration<double>(t.submit - start).count());
    if (s >= secs) continue;
    ++submitted[s];
    if (t.state != bench::Tx::State::kCommitted) continue;
    lat[s].push_back(std::chrono::duration<double, std::milli>(t.final - t.submit).count());
    if (auto a = admit_ms(t)) admit[s].push_back(*a);
  }
  // The window's start on the wall clock (UTC), to line seconds up with node
  // logs (LevelDB's LOG, slow-block lines).
  const auto wall_start =
      std::chrono::system_clock::now() -
      std::chrono::duration_cast<std::chrono::system_clock::duration>(bench::Clock::now() - start);
  const std::time_t tt = std::chrono::system_clock::to_time_t(wall_start);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(wall_start.time_since_epoch()).count() %
      1000;
  std::fprintf(stderr, "timeline: second 0 starts at %s.%03dZ\n", when, static_cast<int>(ms));
  std::fprintf(stderr, "timeline: second submitted committed p50_ms p99_ms max_ms admit_p99_ms\n");
  for (size_t s = 0; s < secs; ++s) {
    std::sort(lat[s].begin(), lat[s].end());
    std::sort(admit[s].begin(), admit[s].end());
    std::fprintf(stderr, "timeline: %zu %llu %zu %s %s %s %s\n", s,
                 static_cast<unsigned long long>(submitted[s]), lat[s].size(),
                 fixed(pct(lat[s], 0.50)).c_str(), fixed(pct(lat[s], 0.99)).c_str(),
                 fixed(lat[s].empty() ? 0 : lat[s].back()).c_str(),
                 fixed(pct(admit[s], 0.99)).c_str());
  }
}

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// --mix share: how many of (up to 100 of) the households' loans reached
// "returned" (the whole cycle ran with result code 0), read from the node's
// committed state after the run: ,"share":{"loans_checked":N,"returned":M}.
std::string share_outcome(const Ctx& ctx, const std::vector<std::string>& loans) {
  size_t checked = 0, returned = 0;
  const size_t step = std::max<size_t>(1, loans.size() / 100);
  for (size_t i = 0; i < loans.size(); i += step) {
    auto r = http(ctx, "GET", "/v1/state/share/loan%2F" + loans[i]);
    if (!r || r->status != 200) continue;
    ++checked;
    auto d = parse(r->body);
    if (d.IsObject() && d.HasMember("value") && str(d["value"], "status") == "returned")
      ++returned;
  }
  return ",\"share\":{\"loans_checked\":" + std::to_string(checked) +
         ",\"returned\":" + std::to_string(returned) + "}";
}

// --mix approval: of the cases whose open_case committed during the run, how
// many (of up to 100 spread over them) reached "decided" (the rest of the
// cycle ran with result code 0), read from the node's committed state after
// the run: ,"approval":{"cases_opened":K,"cases_checked":N,"decided":M}.
std::string approval_outcome(const Ctx& ctx, const std::vector<std::string>& cases,
                             const bench::LoadPlan& plan) {
  std::vector<size_t> opened;
  for (size_t h = 0; h < cases.size(); ++h)
    if (plan.txs[bench::approval_open_tx(h)].state == bench::Tx::State::kCommitted)
      opened.push_back(h);
  size_t checked = 0, decided = 0;
  const size_t step = std::max<size_t>(1, opened.size() / 100);
  for (size_t i = 0; i < opened.size(); i += step) {
    auto r = http(ctx, "GET", "/v1/state/approval/case%2F" + cases[opened[i]]);
    if (!r || r->status != 200) continue;
    auto d = parse(r->body);
    if (!d.IsObject() || !d.HasMember("value") || !d["value"].IsObject()) continue;
    ++checked;
    if (str(d["value"], "status") == "decided") ++decided;
  }
  return ",\"approval\":{\"cases_opened\":" + std::to_string(opened.size()) +
         ",\"cases_checked\":" + std::to_string(checked) +
         ",\"decided\":" + std::to_string(decided) + "}";
}

int run_bench(const Ctx& ctx, const node::CliArgs& a) {
  if (a.has("--print-roles")) {
    // The genesis roles --mix approval needs (scripts/bench.sh adds them).
    std::printf("%s\n", bench::approval_roles_json().c_str());
    return kExitOk;
  }
  bench::LoadOptions o;
  for (const std::string& u : split(a.get("--nodes", ctx.node), ',')) {
    auto url = parse_url(u);
    if (!url) return fail(kExitUsage, url.status().message());
    o.nodes.push_back(*url);
  }
  if (o.nodes.empty()) return fail(kExitUsage, "--nodes needs at least one URL");
  auto seconds = number(a, "--seconds", 10, 0.1, 86400);
  auto warmup = number(a, "--warmup", 0, 0, 3600);
  auto rate = number(a, "--rate", 0, 0, 1e7);
  auto conc = number(a, "--concurrency", 2000, 1, 1e6);
  auto conns = number(a, "--conns", 0, 0, 256);
  auto payload = number(a, "--payload", 0, 0, kPayloadMax);
  auto poll_ms = number(a, "--poll-ms", 2, 1, 1000);
  auto drain = number(a, "--drain", 20, 0, 3600);
  for (auto* r : {&seconds, &warmup, &rate, &conc, &conns, &payload, &poll_ms, &drain})
    if (!*r) return fail(kExitUsage, r->status().message());
  o.seconds = *seconds;
  o.warmup_s = *warmup;
  o.rate = *rate;
  o.concurrency = static_cast<size_t>(*conc);
  o.poll_ms = static_cast<uint32_t>(*poll_ms);
  o.drain_s = *drain;
  // One transaction at a time: wait for each commit on its own request.
  const std::string detect = a.get("--detect", o.concurrency == 1 ? "wait" : "poll");
  if (detect != "wait" && detect != "poll") return fail(kExitUsage, "--detect is wait or poll");
  o.detect_wait = detect == "wait";
  o.conns_per_node = *conns > 0 ? static_cast<size_t>(*conns)
                                : std::clamp<size_t>(o.concurrency / o.nodes.size(), 1, 8);
  if (o.detect_wait)
    o.conns_per_node =
        std::max(o.conns_per_node, (o.concurrency + o.nodes.size() - 1) / o.nodes.size());
  const std::string mix = a.get("--mix", "anchor");
  if (mix != "anchor" && mix != "identity" && mix != "mixed" && mix != "share" && mix != "approval")
    return fail(kExitUsage, "--mix is anchor, identity, mixed, share or approval");

  const double window = o.warmup_s + o.seconds;
  // Enough for the window at the offered rate, else at 15,000 tx/s (the
  // one-validator target), or 1,000 tx/s per unresolved slot when that is less.
  const double per_s = std::min(15000.0, 1000.0 * static_cast<double>(o.concurrency));
  auto txs_default = o.rate > 0 ? std::ceil(o.rate * window * 1.05) + 100 : window * per_s;
  auto txs = number(a, "--txs", txs_default, 1, 1e8);
  if (!txs) return fail(kExitUsage, txs.status().message());
  const size_t total = static_cast<size_t>(*txs);
  const size_t conns_total = o.nodes.size() * o.conns_per_node;
  auto accounts_n =
      number(a, "--accounts", static_cast<double>(std::max<size_t>(1000, conns_total)), 1, 1e7);
  if (!accounts_n) return fail(kExitUsage, accounts_n.status().message());

  std::optional<identity::KeyPair> registrar;
  if (mix == "identity" || mix == "mixed") {
    if (a.get("--registrar-key").empty())
      return fail(kExitUsage, "--mix " + mix +
                                  " needs --registrar-key FILE, a keystore whose DID holds the "
                                  "registrar role in the genesis (scripts/bench.sh sets one up)");
    auto pw = password(ctx);
    if (!pw) return fail(kExitLocal, pw.status().message());
    auto key = identity::load_keystore(a.get("--registrar-key"), *pw);
    if (!key) return fail(kExitLocal, key.status().to_string());
    registrar.emplace(*key);
  }
  // anchor: M accounts share the transactions; identity: every transaction
  // registers a new account; mixed: half and half.
  std::vector<Account> accounts;
  const size_t registers = mix == "identity" ? total : mix == "mixed" ? total / 2 : 0;
  const size_t anchors = total - registers;
  const size_t m = anchors == 0 ? 0 : std::min<size_t>(anchors, static_cast<size_t>(*accounts_n));
  for (size_t i = 0; i < m; ++i)
    accounts.push_back(
        Account{Kind::kAnchor, static_cast<uint32_t>(anchors / m + (i < anchors % m))});
  // Interleave registrations so every connection gets some.
  std::vector<Account> mixed;
  for (size_t i = 0, r = 0; i < accounts.size() || r < registers;) {
    if (i < accounts.size()) mixed.push_back(accounts[i++]);
    if (r < registers) mixed.push_back(Account{Kind::kRegister, 1}), ++r;
  }
  accounts.swap(mixed);

  auto st = http(ctx.node == o.nodes[0].text ? ctx : Ctx{o.nodes[0].text, false, {}}, "GET",
                 "/v1/status");
  if (!st) return fail(kExitUnreachable, st.status().message());
  if (st->status != 200) return report_problem(*st);
  const std::string chain = str(parse(st->body), "chain");

  const auto sign_start = Clock::now();
  bench::LoadPlan plan;
  std::vector<std::string> loans;  // --mix share: each household's loan id
  std::vector<std::string> cases;  // --mix approval: each case's id
  Status built =
      mix == "share" ? bench::build_share_plan(total, conns_total, chain, now_ms(), plan, loans)
      : mix == "approval" ? bench::build_approval_plan(total, conns_total, chain, plan, cases)
                          : build_plan(accounts, conns_total, chain, static_cast<size_t>(*payload),
                                       registrar ? &*registrar : nullptr, plan);
  if (!built) return fail(kExitUsage, "cannot build the transactions: " + built.to_string());
  if (mix == "share" || mix == "approval") accounts.assign(plan.accounts.size(), Account{});
  const double sign_s = std::chrono::duration<double>(Clock::now() - sign_start).count();
  std::fprintf(stderr,
               "imi bench: signed %zu transactions (%s) of %zu accounts in %.1f s; load on %zu "
               "node(s), %zu connection(s) each, concurrency %zu%s for %.0f s + %.0f s warm-up\n",
               total, mix.c_str(), accounts.size(), sign_s, o.nodes.size(), o.conns_per_node,
               o.concurrency, o.rate > 0 ? (", rate " + fixed(o.rate, 0) + " tx/s").c_str() : "",
               o.seconds, o.warmup_s);

  std::vector<long> pids;
  for (const std::string& p : split(a.get("--pids"), ',')) pids.push_back(std::atol(p.c_str()));
  // CPU is sampled at the window's edges, from a side thread.
  std::vector<ProcSample> at_start(pids.size()), at_end(pids.size());
  const double client_cpu0 = self_cpu_s();
  std::atomic<bool> load_done{false};
  double client_cpu_window_start = client_cpu0;
  std::thread sampler([&] {
    const auto t0 = Clock::now();
    const auto ws =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
    const auto we =
        ws + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    while (!load_done && Clock::now() < ws)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (size_t i = 0; i < pids.size(); ++i) at_start[i] = sample(pids[i]);
    client_cpu_window_start = self_cpu_s();
    while (!load_done && Clock::now() < we)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (size_t i = 0; i < pids.size(); ++i) at_end[i] = sample(pids[i]);
  });
  bench::LoadResult r = bench::run_load(o, plan);
  load_done = true;
  sampler.join();
  const double client_cpu = self_cpu_s() - client_cpu_window_start;
  if (!r.error.empty()) return fail(kExitUnreachable, "load stopped: " + r.error);

  // Counts over the transactions submitted in the window.
  uint64_t submitted = 0, committed = 0, pending = 0, rejected_total = 0, commits_in_window = 0;
  std::map<std::string, uint64_t> rejected;
  std::vector<double> lat, admit_lat;  // submit to commit; submit to the node's 202
  for (const bench::Tx& t : plan.txs) {
    if (t.state == bench::Tx::State::kCommitted && t.final >= r.window_start &&
        t.final <= r.window_end)
      ++commits_in_window;
    if (t.state == bench::Tx::State::kUnsent || t.submit < r.window_start ||
        t.submit >= r.window_end)
      continue;
    ++submitted;
    if (t.state == bench::Tx::State::kCommitted) {
      ++committed;
      lat.push_back(std::chrono::duration<double, std::milli>(t.final - t.submit).count());
      if (auto a = admit_ms(t)) admit_lat.push_back(*a);
    } else if (t.state == bench::Tx::State::kRejected) {
      ++rejected_total;
      ++rejected[t.reject_code];
    } else {
      ++pending;
    }
  }
  std::sort(lat.begin(), lat.end());
  std::sort(admit_lat.begin(), admit_lat.end());
  if (a.has("--timeline")) print_timeline(plan.txs, r.window_start, r.window_end);
  const double window_s = std::chrono::duration<double>(r.window_end - r.window_start).count();
  double mean = 0;
  for (double l : lat) mean += l;
  if (!lat.empty()) mean /= static_cast<double>(lat.size());

  std::string out =
      "{\"tps\":" + fixed(window_s > 0 ? commits_in_window / window_s : 0, 1) +
      ",\"p50_ms\":" + fixed(pct(lat, 0.50)) + ",\"p90_ms\":" + fixed(pct(lat, 0.90)) +
      ",\"p99_ms\":" + fixed(pct(lat, 0.99)) +
      ",\"max_ms\":" + fixed(lat.empty() ? 0 : lat.back()) + ",\"mean_ms\":" + fixed(mean) +
      ",\"admit_p50_ms\":" + fixed(pct(admit_lat, 0.50)) +
      ",\"admit_p99_ms\":" + fixed(pct(admit_lat, 0.99)) +
      ",\"submitted\":" + std::to_string(submitted) +
      ",\"committed\":" + std::to_string(committed) +
      ",\"rejected_total\":" + std::to_string(rejected_total) + ",\"rejected\":{";
  bool first = true;
  for (const auto& [code, n] : rejected) {
    out += (first ? "" : ",") + quote(code) + ":" + std::to_string(n);
    first = false;
  }
  out += "},\"pending\":" + std::to_string(pending) +
         ",\"commits_in_window\":" + std::to_string(commits_in_window) +
         ",\"retries\":" + std::to_string(r.retries) +
         ",\"blocks\":" + std::to_string(r.blocks_seen) + ",\"seconds\":" + fixed(window_s, 3) +
         ",\"warmup_s\":" + fixed(o.warmup_s, 1) + ",\"mix\":" + quote(mix) +
         ",\"payload\":" + std::to_string(static_cast<size_t>(*payload)) +
         ",\"concurrency\":" + std::to_string(o.concurrency) + ",\"rate\":" + fixed(o.rate, 1) +
         ",\"conns_per_node\":" + std::to_string(o.conns_per_node) +
         ",\"detect\":" + quote(detect) + ",\"signed\":" + std::to_string(total) +
         ",\"client_cpu_s\":" + fixed(client_cpu) + ",\"nodes\":[";
  for (size_t i = 0; i < o.nodes.size() || i < pids.size(); ++i) {
    out += i ? "," : "";
    out += "{\"url\":" + quote(i < o.nodes.size() ? o.nodes[i].text : "");
    if (i < pids.size()) {
      const bool ok = at_start[i].ok && at_end[i].ok;
      const double cpu = ok ? at_end[i].cpu_s - at_start[i].cpu_s : 0;
      out += ",\"pid\":" + std::to_string(pids[i]) + ",\"cpu_s\":" + fixed(cpu) +
             ",\"cpu_us_per_tx\":" +
             fixed(commits_in_window ? 1e6 * cpu / static_cast<double>(commits_in_window) : 0, 1) +
             ",\"peak_rss_mib\":" + fixed(at_end[i].peak_rss_mib, 1);
    }
    out += "}";
  }
  out += "]";
  if (mix == "share") out += share_outcome(Ctx{o.nodes[0].text, false, {}}, loans);
  if (mix == "approval") out += approval_outcome(Ctx{o.nodes[0].text, false, {}}, cases, plan);
  out += "}";
  std::printf("%s\n", out.c_str());
  return kExitOk;
}

}  // namespace

Command bench_command() {
  Command c;
  c.name = "bench";
  c.usage =
      "  bench [--nodes URL,URL...] [--seconds S] [--warmup S] [--concurrency C] [--rate TPS]\n"
      "        [--mix anchor|identity|mixed|share|approval] [--payload BYTES] [--txs N]\n"
      "        [--accounts M] [--conns K] [--pids PID,...] [--detect poll|wait]\n"
      "        [--registrar-key FILE] [--timeline] [--print-roles]\n"
      "                                load generator: signs first, then submits and prints a\n"
      "                                JSON summary (tps, p50/p90/p99/max ms, rejected by code,\n"
      "                                CPU and peak RSS per --pids node); see docs/bench.md\n";
  c.value_options = {"--nodes", "--seconds", "--warmup",  "--concurrency", "--rate",
                     "--mix",   "--payload", "--txs",     "--accounts",    "--conns",
                     "--pids",  "--detect",  "--poll-ms", "--drain",       "--registrar-key"};
  c.flags = {"--timeline", "--print-roles"};
  c.run = run_bench;
  return c;
}

}  // namespace imi::cli
