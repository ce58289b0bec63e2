// imi bench internals shared by cli_bench.cc (options, signing, summary) and
// cli_bench_load.cc (the asynchronous HTTP load driver).
//
// The load driver runs on one thread (one Asio io_context): it keeps
// `conns` keep-alive connections per node, each owning a fixed set of
// accounts so every account's nonces reach its node in order, submits
// pre-signed transactions while fewer than `concurrency` are unresolved
// (submitted and neither committed nor rejected) and, with `rate`, no faster
// than the offered rate. Commits are detected either by polling one node's
// block listing (`detect_wait == false`; each block's transactions are
// matched by sender and nonce) or by POST /v1/txs?wait=commit per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace imi::cli::bench {

using Clock = std::chrono::steady_clock;

struct NodeUrl {
  std::string text;  // as given
  std::string host;
  std::string port;
};

// One pre-signed transaction.
struct Tx {
  std::string body;      // canonical JSON, the POST body
  uint32_t account = 0;  // index into LoadPlan::accounts
  uint64_t nonce = 0;
  Clock::time_point submit{};
  Clock::time_point answered{};  // the node's answer to the POST (202: admitted)
  Clock::time_point final{};
  enum class State : uint8_t { kUnsent, kInFlight, kPending, kCommitted, kRejected };
  State state = State::kUnsent;
  std::string reject_code;  // for kRejected
  // A transaction of another account that must be resolved (committed or
  // rejected) before this one is sent: the share mix's steps depend on each
  // other's records (a request names a listing). kNoDependency: none.
  static constexpr uint32_t kNoDependency = UINT32_MAX;
  uint32_t after = kNoDependency;
};

struct LoadOptions {
  std::vector<NodeUrl> nodes;
  size_t conns_per_node = 8;
  size_t concurrency = 2000;  // unresolved transactions at most
  double rate = 0;            // offered tx/s; 0: as fast as the window allows
  double warmup_s = 0;        // load before the measured window
  double seconds = 10;        // measured window
  double drain_s = 20;        // after the window: wait this long for the rest
  bool detect_wait = false;   // ?wait=commit instead of polling blocks
  uint32_t poll_ms = 2;       // pause after an error answer to the block long poll
};

struct LoadPlan {
  std::vector<std::string> accounts;              // did of each account
  std::vector<std::vector<uint32_t>> by_conn;     // tx indices, in send order, per connection
  std::vector<std::vector<uint32_t>> by_account;  // tx index by nonce (nonces start at 0)
  std::vector<Tx> txs;
};

struct LoadResult {
  Clock::time_point start{};         // first submission
  Clock::time_point window_start{};  // start + warmup
  Clock::time_point window_end{};    // end of submissions
  uint64_t retries = 0;              // 429/503 answers retried
  uint64_t blocks_seen = 0;
  uint64_t first_height = 0;  // first block height the poller read
  std::string error;          // a connection failure that ended the run
};

// --mix share (cli_bench_share.cc): `total` transactions as households of a
// lender and a borrower, each going through one loan: list, request, accept,
// handover (both sides), return, rate (both sides). A household's eight
// transactions go over one connection, in groups of households stepped
// together; `after` holds each step back until the one it depends on is
// resolved. `loans` receives each household's loan id (for the check after
// the run). `now_ms`: the client's clock, for the loans' due dates.
Status build_share_plan(size_t total, size_t conns, const std::string& chain, uint64_t now_ms,
                        LoadPlan& plan, std::vector<std::string>& loans);

// --mix approval (cli_bench_approval.cc): `total` transactions as cases of
// the approval app, six each: the applicant anchors a form, a window opens
// the case for them, the applicant adds the form, the department verifies
// it and approves, the applicant rates; before them the catalogue defines
// one matter per staff pair (kApprovalStaff windows and departments, fixed
// bench keys whose roles the genesis must grant: approval_roles_json()).
// `cases` receives each case's id (for the check after the run).
constexpr size_t kApprovalStaff = 64;
Status build_approval_plan(size_t total, size_t conns, const std::string& chain, LoadPlan& plan,
                           std::vector<std::string>& cases);
// The index in plan.txs of case h's open_case.
inline size_t approval_open_tx(size_t h) { return kApprovalStaff + h * 6 + 1; }
// The genesis "roles" entries the approval mix needs, as a JSON array.
std::string approval_roles_json();

// Runs the load; fills plan.txs' states and times. Connection `c` of node
// `c % nodes.size()` submits plan.by_conn[c].
LoadResult run_load(const LoadOptions& options, LoadPlan& plan);

}  // namespace imi::cli::bench
