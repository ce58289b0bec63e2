// The approval app's statistics figures (issue 18): how long the `stats`
// query takes on a chain that has handled N cases (default 1,000,000).
//
// The state is built by executing real approval transactions in large
// blocks through the Executor and committing them to a Store (with its
// ordered index), as a node would: a few matters, each decided by one of a
// few departments, cases spread evenly over --days days (default 365). Each
// day runs three blocks: the windows open the day's cases (accepted at
// once), the departments decide them some minutes to hours later (9 in 10
// approved, 1 in 10 rejected), and 7 in 10 applicants rate their case in the
// evening. The build rate (cases/s, signing included and shown apart) and
// the store's size are printed; the state is kept under --dir (default
// /tmp/imi-approval-stats-bench-<N>) and reused by later runs.
//
// Then, for ranges of 1, 30 and 365 days (a random matter and first day per
// run), --runs times each:
//   - ApprovalApp::query("stats") over a StoreIndex, the first page of 100
//     (the node API's largest page; the summary always covers the range);
//   - the node-equivalent cost of the whole range: every page, and each
//     returned key's value and proof at the head root (Executor::prove), as
//     GET /v1/apps/approval/stats serves them.
// Figures are medians and 99th percentiles of wall time, with the median CPU
// time of the thread (CLOCK_THREAD_CPUTIME_ID) beside them: the machine may
// be shared.
//
// Usage: approval_stats_bench [--cases N] [--days D] [--matters M]
//                             [--departments K] [--runs R] [--block-txs B] [--dir D]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "apps/anchor.h"
#include "apps/approval.h"
#include "apps/governance.h"
#include "identity/keys.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/json.h"
#include "ledger/store_index.h"

using namespace imi;
using namespace imi::ledger;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kChain = "bench";
constexpr int kFormat = 1;  // bump when the built state's form changes
constexpr uint64_t kDayMs = 86400000;
constexpr uint64_t kHourMs = 3600000;
constexpr size_t kPageLimit = 100;  // the node API's largest page (api/router.h)

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = thread_cpu_ms();
  double wall_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - wall).count();
  }
  double cpu_ms() const { return thread_cpu_ms() - cpu; }
};

struct Stats {
  std::vector<double> cpu, wall;
  void add(const Timer& t) {
    cpu.push_back(t.cpu_ms());
    wall.push_back(t.wall_ms());
  }
  static double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
  }
  void print(const char* what, const std::string& extra) const {
    std::printf("  %-44s wall median %8.3f ms  p99 %8.3f ms  (CPU median %8.3f ms) n=%zu%s\n", what,
                quantile(wall, 0.5), quantile(wall, 0.99), quantile(cpu, 0.5), wall.size(),
                extra.c_str());
  }
};

[[noreturn]] void die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.to_string().c_str());
  std::exit(1);
}

template <typename T>
T take(Result<T> r, const std::string& what) {
  if (!r) die(what, r.status());
  return std::move(r).value();
}

identity::KeyPair key_of(uint64_t n, uint8_t kind) {
  identity::Seed s{};
  std::memcpy(s.data(), &n, sizeof n);
  s[30] = 0xa5;
  s[31] = kind;
  return identity::KeyPair::from_seed(s);
}

std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A signer and its next nonce.
struct Actor {
  identity::KeyPair key;
  uint64_t nonce = 0;
  Transaction tx(std::string_view app, std::string_view op, const std::string& args) {
    auto doc = take(parse_strict(args), "args " + args);
    return take(make_transaction(key, kChain, nonce++, app, op, doc), "sign");
  }
};

struct Options {
  uint64_t cases = 1000000;
  uint64_t days = 365;
  uint64_t matters = 4;
  uint64_t departments = 3;
  int runs = 200;
  size_t block_txs = 5000;
  std::string dir;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--cases") {
      o.cases = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--days") {
      o.days = std::max<uint64_t>(1, std::strtoull(next().c_str(), nullptr, 10));
    } else if (a == "--matters") {
      o.matters = std::max<uint64_t>(1, std::strtoull(next().c_str(), nullptr, 10));
    } else if (a == "--departments") {
      o.departments = std::max<uint64_t>(1, std::strtoull(next().c_str(), nullptr, 10));
    } else if (a == "--runs") {
      o.runs = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--block-txs") {
      o.block_txs = std::max<size_t>(1, std::strtoull(next().c_str(), nullptr, 10));
    } else if (a == "--dir") {
      o.dir = next();
    } else {
      std::fprintf(stderr,
                   "usage: approval_stats_bench [--cases N] [--days D] [--matters M] "
                   "[--departments K] [--runs R] [--block-txs B] [--dir D]\n");
      std::exit(2);
    }
  }
  if (o.dir.empty()) {
    o.dir = (std::filesystem::temp_directory_path() /
             ("imi-approval-stats-bench-" + std::to_string(o.cases)))
                .string();
  }
  return o;
}

// The chain's public actors (deterministic keys).
struct Actors {
  identity::KeyPair validator = key_of(0, 1);
  Actor catalogue{key_of(0, 2)};
  std::vector<Actor> windows, departments, applicants;
  identity::KeyPair supervisor = key_of(0, 6);
  explicit Actors(const Options& o) {
    for (uint64_t i = 0; i < 4; ++i) windows.push_back({key_of(i, 3)});
    for (uint64_t i = 0; i < o.departments; ++i) departments.push_back({key_of(i, 4)});
    // Applicants come back: a pool of residents, each with a few cases.
    uint64_t pool = std::clamp<uint64_t>(o.cases / 50, 1, 20000);
    for (uint64_t i = 0; i < pool; ++i) applicants.push_back({key_of(i, 5)});
  }
};

std::string genesis_json(const Actors& a) {
  auto role = [](std::string_view r, const identity::KeyPair& k) {
    return R"({"role":)" + q(r) + R"(,"did":)" + q(k.did()) + "}";
  };
  std::string roles = role("catalogue", a.catalogue.key);
  for (const auto& w : a.windows) roles += "," + role("window", w.key);
  for (const auto& d : a.departments) roles += "," + role("department", d.key);
  return R"({"v":1,"chain":")" + std::string(kChain) + R"(","time":1000,"validators":[{"id":)" +
         q(a.validator.did()) + R"(,"key":)" + q(to_hex(a.validator.public_key())) +
         R"(}],"roles":[)" + roles + "]}";
}

std::string matter_id(uint64_t m) { return "matter-" + std::to_string(m); }

// A matter with no materials or questions: its cases go from the window
// straight to the department's decision, which is all the counters see.
std::string matter_args(uint64_t m, const Actors& a) {
  const auto& dept = a.departments[m % a.departments.size()].key;
  return R"({"matter":)" + q(matter_id(m)) + R"(,"name":"Service )" + std::to_string(m) +
         R"(","kind":"service","departments":[)" + q(dept.did()) +
         R"(],"materials":[],"questions":[],"reasons":["incomplete","ineligible"],)"
         R"("time_limit_ms":)" +
         std::to_string(30 * kDayMs) + R"(,"supervisor":)" + q(a.supervisor.did()) + "}";
}

// Executes and commits blocks on one store (the chain's only writer).
class ChainWriter {
 public:
  ChainWriter(Store& store, Executor& exec, const identity::KeyPair& proposer)
      : store_(store), exec_(exec), proposer_(proposer) {}

  void genesis(const Genesis& g) {
    auto gb = take(exec_.make_genesis(g), "genesis");
    if (Status s = exec_.commit(store_, gb.first, nullptr, gb.second); !s.is_ok())
      die("genesis commit", s);
    root_ = gb.second.state_root;
    prev_ = gb.first.id();
  }

  // Runs `txs` as the next block at `time_ms`; every transaction must succeed.
  void block(uint64_t time_ms, std::vector<Transaction> txs) {
    BlockContext ctx{kChain, height_ + 1, time_ms, proposer_.did()};
    auto ex = take(exec_.execute(root_, ctx, txs), "execute");
    for (size_t i = 0; i < ex.results.size(); ++i) {
      if (!ex.results[i].deadline() && ex.results[i].code() != 0) {
        std::fprintf(stderr, "block %llu result %zu: code %lld %s\n",
                     static_cast<unsigned long long>(ctx.height), i,
                     static_cast<long long>(ex.results[i].code()),
                     std::string(ex.results[i].message()).c_str());
        std::exit(1);
      }
    }
    BlockHeader h;
    h.chain = kChain;
    h.height = ctx.height;
    h.prev = prev_;
    h.time_ms = time_ms;
    h.proposer = ctx.proposer;
    h.results_root = ex.results_root;
    h.state_root = ex.state_root;
    Block b = Block::make(h, std::move(txs));
    CommitCertificate cert{h.height, 0, b.id(), {}};
    if (Status s = exec_.commit(store_, b, &cert, ex); !s.is_ok()) die("commit", s);
    root_ = ex.state_root;
    prev_ = b.id();
    ++height_;
  }

  const Hash32& root() const { return root_; }
  uint64_t height() const { return height_; }

 private:
  Store& store_;
  Executor& exec_;
  const identity::KeyPair& proposer_;
  Hash32 root_{};
  Hash32 prev_{};
  uint64_t height_ = 0;
};

// How long after opening a day's cases are decided: spread over the
// histogram's buckets (30 s .. 20 h), all within the day.
constexpr uint64_t kDecideAfterMs[] = {30000,       240000,      1200000,      3000000,     5400000,
                                       3 * kHourMs, 6 * kHourMs, 12 * kHourMs, 20 * kHourMs};

struct BuildFigures {
  double wall_s = 0, sign_s = 0;
  uint64_t txs = 0, blocks = 0;
};

BuildFigures build(ChainWriter& w, Actors& a, const Options& o) {
  BuildFigures f;
  Timer total;
  double sign_ms = 0;
  {
    std::vector<Transaction> defs;
    for (uint64_t m = 0; m < o.matters; ++m)
      defs.push_back(a.catalogue.tx("approval", "define_matter", matter_args(m, a)));
    w.block(1000 + 10, std::move(defs));
    f.txs += o.matters;
  }
  std::mt19937_64 rng(18);
  uint64_t done = 0;
  uint64_t next_report = 0;
  for (uint64_t d = 0; d < o.days; ++d) {
    const uint64_t today = o.cases / o.days + (d < o.cases % o.days ? 1 : 0);
    uint64_t opened_today = 0;
    uint64_t chunk = 0;
    while (opened_today < today) {
      const uint64_t n = std::min<uint64_t>(o.block_txs, today - opened_today);
      const uint64_t open_at = d * kDayMs + kHourMs + chunk * 60000;
      const uint64_t decide_at = open_at + kDecideAfterMs[(d + chunk) % std::size(kDecideAfterMs)];
      const uint64_t rate_at = d * kDayMs + 22 * kHourMs + chunk * 60000;
      struct Case {
        std::string id;
        uint64_t matter;
        size_t applicant;
      };
      std::vector<Case> cases;
      std::vector<Transaction> opens, decisions, ratings;
      Timer s1;
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t serial = done + i;
        Case c{"", rng() % o.matters, static_cast<size_t>(rng() % a.applicants.size())};
        auto& win = a.windows[serial % a.windows.size()];
        opens.push_back(win.tx("approval", "open_case",
                               R"({"matter":)" + q(matter_id(c.matter)) + R"(,"applicant":)" +
                                   q(a.applicants[c.applicant].key.did()) +
                                   R"(,"window":"counter-)" +
                                   std::to_string(serial % a.windows.size()) + "\"}"));
        c.id = opens.back().id_hex().substr(0, 32);
        cases.push_back(std::move(c));
      }
      for (uint64_t i = 0; i < n; ++i) {
        const Case& c = cases[i];
        auto& dept = a.departments[c.matter % a.departments.size()];
        const bool reject = rng() % 10 == 0;
        decisions.push_back(
            dept.tx("approval", reject ? "reject" : "approve",
                    R"({"case":)" + q(c.id) + (reject ? R"(,"reason":"ineligible"})" : "}")));
        if (rng() % 10 < 7) {
          const uint64_t score = 1 + rng() % 5;
          ratings.push_back(a.applicants[c.applicant].tx(
              "approval", "rate",
              R"({"case":)" + q(c.id) + R"(,"score":)" + std::to_string(score) + "}"));
        }
      }
      sign_ms += s1.wall_ms();
      f.txs += opens.size() + decisions.size() + ratings.size();
      f.blocks += ratings.empty() ? 2 : 3;
      w.block(open_at, std::move(opens));
      w.block(decide_at, std::move(decisions));
      if (!ratings.empty()) w.block(rate_at, std::move(ratings));
      opened_today += n;
      done += n;
      ++chunk;
    }
    if (done >= next_report || d + 1 == o.days) {
      next_report = done + std::max<uint64_t>(o.cases / 20, 1);
      const double s = total.wall_ms() / 1000;
      std::printf("  day %llu: %llu cases, %llu txs, height %llu, %.0f s (%.0f cases/s)\n",
                  static_cast<unsigned long long>(d), static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(f.txs),
                  static_cast<unsigned long long>(w.height()), s, done / std::max(s, 1e-9));
      std::fflush(stdout);
    }
  }
  f.wall_s = total.wall_ms() / 1000;
  f.sign_s = sign_ms / 1000;
  return f;
}

uint64_t dir_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

// Measures the stats query over `days`-day ranges.
void query_figures(Executor& exec, const IndexReader& index, const Hash32& root, const Options& o,
                   uint64_t days) {
  const App* app = exec.app("approval");
  std::mt19937_64 rng(days);
  Stats first_page, whole;
  size_t records = 0, pages = 0, proof_bytes = 0;
  std::string summary;
  for (int r = 0; r < o.runs + 5; ++r) {
    const bool counted = r >= 5;  // the first runs warm the caches
    const uint64_t from = o.days > days ? rng() % (o.days - days + 1) : 0;
    QueryParams p{{"matter", matter_id(rng() % o.matters)},
                  {"from", std::to_string(from)},
                  {"to", std::to_string(from + days - 1)}};
    Timer t1;
    auto page = take(app->query("stats", p, "", kPageLimit, index), "stats");
    if (counted) first_page.add(t1);
    Timer t2;
    std::string cursor;
    do {
      auto pg = take(app->query("stats", p, cursor, kPageLimit, index), "stats");
      for (const auto& k : pg.keys) {
        auto proven = take(exec.prove(root, "approval", k), "prove");
        if (!proven.value) die("prove " + k, Status::error("bench.absent", "no value"));
        if (counted) proof_bytes += proven.proof.siblings.size() * 32 + proven.value->size();
        if (counted) ++records;
      }
      if (counted) ++pages;
      cursor = pg.next;
    } while (!cursor.empty());
    if (counted) whole.add(t2);
    summary = page.summary;
  }
  std::printf("stats over %llu day%s (a random matter and first day per run)\n",
              static_cast<unsigned long long>(days), days == 1 ? "" : "s");
  first_page.print("query, first page (limit 100)", "");
  char extra[160];
  std::snprintf(extra, sizeof extra, "; %.1f records in %.1f pages, ~%zu value+proof bytes/run",
                double(records) / o.runs, double(pages) / o.runs, proof_bytes / o.runs);
  whole.print("all pages + value and proof of each record", extra);
  std::printf("  last summary: %s\n", summary.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  std::printf(
      "approval_stats_bench --cases %llu --days %llu --matters %llu --departments %llu "
      "--runs %d --block-txs %zu --dir %s\n",
      static_cast<unsigned long long>(o.cases), static_cast<unsigned long long>(o.days),
      static_cast<unsigned long long>(o.matters), static_cast<unsigned long long>(o.departments),
      o.runs, o.block_txs, o.dir.c_str());
  double load[1] = {-1};
  ::getloadavg(load, 1);
  std::printf("load average %.2f at start\n", load[0]);

  Actors actors(o);
  const std::string meta_path = o.dir + "/bench_meta";
  const std::string meta_want = std::to_string(kFormat) + " " + std::to_string(o.cases) + " " +
                                std::to_string(o.days) + " " + std::to_string(o.matters) + " " +
                                std::to_string(o.departments);
  Hash32 root{};
  bool reuse = false;
  {
    std::ifstream in(meta_path);
    std::string line, root_hex;
    if (std::getline(in, line) && std::getline(in, root_hex) && line == meta_want) {
      if (auto r = from_hex_fixed<32>(root_hex)) {
        root = *r;
        reuse = true;
      }
    }
  }
  if (!reuse) {
    std::filesystem::remove_all(o.dir);
  }
  std::filesystem::create_directories(o.dir);
  auto store = take(Store::open(o.dir + "/store"), "open store");
  LevelDbNodeStore nodes(*store->db());
  StoreIndex index(*store);
  std::vector<std::unique_ptr<App>> apps;
  apps.push_back(std::make_unique<apps::GovernanceApp>());
  apps.push_back(std::make_unique<apps::AnchorApp>());
  apps.push_back(std::make_unique<apps::ApprovalApp>());
  ExecutorOptions eo;
  eo.index = &index;
  auto exec = take(Executor::make(nodes, std::move(apps), eo), "executor");

  if (reuse) {
    std::printf("reusing the %llu-case state in %s\n", static_cast<unsigned long long>(o.cases),
                o.dir.c_str());
  } else {
    std::printf("building %llu cases over %llu days in %s\n",
                static_cast<unsigned long long>(o.cases), static_cast<unsigned long long>(o.days),
                o.dir.c_str());
    ChainWriter w(*store, *exec, actors.validator);
    w.genesis(take(Genesis::parse(genesis_json(actors)), "genesis"));
    BuildFigures f = build(w, actors, o);
    root = w.root();
    const double exec_s = f.wall_s - f.sign_s;
    std::printf(
        "built: %llu txs in %llu blocks, %.1f s wall (%.1f s signing, %.1f s execute + commit): "
        "%.0f cases/s, %.0f cases/s without signing (%.0f tx/s)\n",
        static_cast<unsigned long long>(f.txs), static_cast<unsigned long long>(f.blocks), f.wall_s,
        f.sign_s, exec_s, o.cases / f.wall_s, o.cases / exec_s, f.txs / exec_s);
    std::ofstream(meta_path) << meta_want << "\n" << to_hex(root) << "\n";
  }
  std::printf("store size: %.1f MiB\n", dir_bytes(o.dir + "/store") / 1048576.0);
  ::getloadavg(load, 1);
  std::printf("load average %.2f before the queries\n", load[0]);
  for (uint64_t days : {uint64_t{1}, uint64_t{30}, uint64_t{365}}) {
    if (days > o.days) break;
    query_figures(*exec, index, root, o, days);
  }
  return 0;
}
