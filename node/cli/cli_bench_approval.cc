// imi bench --mix approval: the one-door approval service's case cycle as
// load (see build_approval_plan in cli_bench.h). A case's records are named
// by the first 32 hex of the id of the transaction opening it, so every
// case's transactions are signed in order before the run, each naming the
// case; `after` holds a step back until the one it depends on is resolved.
//
// The public actors are deterministic bench keys (approval_role_keys):
// their DIDs must hold the roles in the genesis, which scripts/bench.sh
// grants from `imi bench --mix approval --print-roles` before the first
// start. A staff pair (window clerk s, department s) serves the cases of
// matter "bench-<s>", and all of a staff pair's transactions go over one
// connection so its nonces reach the node in order.
#include <rapidjson/document.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
#include "node/cli/cli_bench.h"

namespace imi::cli::bench {

namespace {

// Cases stepped together on one connection (as the share mix's households).
constexpr size_t kApprovalGroup = 64;
constexpr size_t kStepsPerCase = 6;  // approval_open_tx (cli_bench.h) knows it
constexpr uint64_t kTimeLimitMs = 30ull * 24 * 3600 * 1000;

enum Who : uint8_t { kApplicant, kWindow, kDepartment };
struct Step {
  Who who;
  const char* app;
  const char* op;
  int after;  // the step (of the same case) it waits for; -1 none
};
// The applicant anchors the document, the window opens the case for them,
// the applicant adds the document, the department verifies it and approves,
// the applicant rates. A signer's own earlier steps need no `after`.
constexpr Step kSteps[kStepsPerCase] = {
    {kApplicant, "anchor", "anchor", -1},        {kWindow, "approval", "open_case", -1},
    {kApplicant, "approval", "add_material", 1}, {kDepartment, "approval", "verify_material", 2},
    {kDepartment, "approval", "approve", -1},    {kApplicant, "approval", "rate", 4}};

using Doc = rapidjson::Document;

void put(Doc& d, const char* name, const std::string& v) {
  d.AddMember(rapidjson::Value(name, d.GetAllocator()),
              rapidjson::Value(v.c_str(), d.GetAllocator()), d.GetAllocator());
}

identity::KeyPair role_key(std::string_view role, size_t i) {
  const Hash32 h = sha256("imi-bench-approval/" + std::string(role) + "/" + std::to_string(i));
  identity::Seed s{};
  std::copy(h.begin(), h.end(), s.begin());
  return identity::KeyPair::from_seed(s);
}

std::string matter_id(size_t s) { return "bench-" + std::to_string(s); }

// define_matter for staff pair s: one department, one document material.
Result<ledger::Transaction> define_tx(const std::string& chain, size_t s,
                                      const identity::KeyPair& catalogue,
                                      const identity::KeyPair& department) {
  const std::string args =
      R"({"matter":")" + matter_id(s) + R"(","name":"Bench service )" + std::to_string(s) +
      R"(","kind":"service","departments":[")" + department.did() +
      R"("],"materials":[{"id":"form","kind":"document","doc_type":"application_form"}],)"
      R"("questions":[],"reasons":["incomplete"],"time_limit_ms":)" +
      std::to_string(kTimeLimitMs) + R"(,"supervisor":")" + catalogue.did() + "\"}";
  auto doc = ledger::parse_strict(args);
  if (!doc) return doc.status();
  return ledger::make_transaction(catalogue, chain, s, "approval", "define_matter", *doc);
}

}  // namespace

std::string approval_roles_json() {
  std::string out = R"([{"role":"catalogue","did":")" + role_key("catalogue", 0).did() + "\"}";
  for (size_t s = 0; s < kApprovalStaff; ++s) {
    out += R"(,{"role":"window","did":")" + role_key("window", s).did() + "\"}";
    out += R"(,{"role":"department","did":")" + role_key("department", s).did() + "\"}";
  }
  return out + "]";
}

Status build_approval_plan(size_t total, size_t conns, const std::string& chain, LoadPlan& plan,
                           std::vector<std::string>& cases) {
  const size_t n = std::max<size_t>(1, total / kStepsPerCase);
  // Accounts: applicants 0..n-1, then windows, departments, the catalogue.
  const uint32_t window0 = static_cast<uint32_t>(n);
  const uint32_t dept0 = window0 + kApprovalStaff;
  const uint32_t catalogue_account = dept0 + kApprovalStaff;
  plan.accounts.assign(catalogue_account + 1, {});
  plan.by_account.assign(plan.accounts.size(), {});
  plan.by_conn.assign(conns, {});
  // The matters' definitions come first, then the cases.
  plan.txs.assign(kApprovalStaff + n * kStepsPerCase, {});
  cases.assign(n, {});
  const identity::KeyPair catalogue = role_key("catalogue", 0);
  std::vector<identity::KeyPair> windows, departments;
  for (size_t s = 0; s < kApprovalStaff; ++s) {
    windows.push_back(role_key("window", s));
    departments.push_back(role_key("department", s));
    plan.accounts[window0 + s] = windows.back().did();
    plan.accounts[dept0 + s] = departments.back().did();
  }
  plan.accounts[catalogue_account] = catalogue.did();
  for (size_t s = 0; s < kApprovalStaff; ++s) {
    auto tx = define_tx(chain, s, catalogue, departments[s]);
    if (!tx) return tx.status();
    Tx& t = plan.txs[s];
    t.body = tx->canonical();
    t.account = catalogue_account;
    t.nonce = s;
    plan.by_conn[0].push_back(static_cast<uint32_t>(s));
  }

  // Case h is served by staff pair h % kApprovalStaff, whose transactions all
  // go over connection (h % kApprovalStaff) % conns; a connection takes its
  // cases kApprovalGroup at a time, step by step across the group. Staff
  // nonces follow that send order, so the order is fixed before signing.
  std::vector<std::vector<uint32_t>> order(conns);  // case * kStepsPerCase + step
  for (size_t c = 0; c < conns; ++c) {
    std::vector<size_t> mine;
    for (size_t h = 0; h < n; ++h)
      if ((h % kApprovalStaff) % conns == c) mine.push_back(h);
    for (size_t g = 0; g < mine.size(); g += kApprovalGroup) {
      const size_t end = std::min(mine.size(), g + kApprovalGroup);
      for (size_t s = 0; s < kStepsPerCase; ++s)
        for (size_t k = g; k < end; ++k)
          order[c].push_back(static_cast<uint32_t>(mine[k] * kStepsPerCase + s));
    }
  }
  // Each connection's staff are its own, so connections sign in parallel.
  const size_t threads = std::min<size_t>(conns, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<Status> errors(threads, Status::ok());
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<uint64_t> staff_nonce(2 * kApprovalStaff, 0);
      std::vector<std::optional<identity::KeyPair>> applicants(n);  // this thread's only
      for (size_t c = t; c < conns && errors[t].is_ok(); c += threads) {
        for (uint32_t code : order[c]) {
          const size_t h = code / kStepsPerCase, step_i = code % kStepsPerCase;
          const size_t s = h % kApprovalStaff;
          const Step& step = kSteps[step_i];
          if (step_i == 0) {
            applicants[h].emplace(identity::KeyPair::generate());
            plan.accounts[h] = applicants[h]->did();
          }
          const std::string form_hash =
              to_hex(sha256("bench application form " + plan.accounts[h]));
          Doc args(rapidjson::kObjectType);
          auto& al = args.GetAllocator();
          if (step_i == 0) {
            put(args, "hash", form_hash);
          } else if (step_i == 1) {
            put(args, "matter", matter_id(s));
            put(args, "applicant", plan.accounts[h]);
            put(args, "window", "counter-" + std::to_string(s));
          } else {
            put(args, "case", cases[h]);
            if (step_i == 2 || step_i == 3) put(args, "material", "form");
            if (step_i == 2) put(args, "hash", form_hash);
            if (step_i == 3) args.AddMember("ok", true, al);
            if (step_i == 5) args.AddMember("score", rapidjson::Value(4 + int(h % 2)), al);
          }
          const identity::KeyPair& key = step.who == kApplicant ? *applicants[h]
                                         : step.who == kWindow  ? windows[s]
                                                                : departments[s];
          uint64_t nonce = 0;
          uint32_t account = static_cast<uint32_t>(h);
          if (step.who == kApplicant) {
            nonce = step_i == 0 ? 0 : step_i == 2 ? 1 : 2;
          } else {
            const size_t slot = step.who == kWindow ? s : kApprovalStaff + s;
            nonce = staff_nonce[slot]++;
            account = step.who == kWindow ? window0 + static_cast<uint32_t>(s)
                                          : dept0 + static_cast<uint32_t>(s);
          }
          auto tx = ledger::make_transaction(key, chain, nonce, step.app, step.op, args);
          if (!tx) {
            errors[t] = tx.status();
            break;
          }
          if (step_i == 1) cases[h] = tx->id_hex().substr(0, 32);
          const uint32_t i = static_cast<uint32_t>(kApprovalStaff) + code;
          Tx& out = plan.txs[i];
          out.body = tx->canonical();
          out.account = account;
          out.nonce = nonce;
          // A staff pair's first case waits for its matter's definition.
          out.after = step_i == 1      ? static_cast<uint32_t>(s)
                      : step.after < 0 ? Tx::kNoDependency
                                       : static_cast<uint32_t>(kApprovalStaff + h * kStepsPerCase +
                                                               static_cast<size_t>(step.after));
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (!e) return e;
  for (size_t c = 0; c < conns; ++c)
    for (uint32_t code : order[c]) plan.by_conn[c].push_back(kApprovalStaff + code);
  // by_account in nonce order.
  for (uint32_t i = 0; i < plan.txs.size(); ++i) plan.by_account[plan.txs[i].account].push_back(i);
  for (auto& list : plan.by_account)
    std::sort(list.begin(), list.end(),
              [&](uint32_t x, uint32_t y) { return plan.txs[x].nonce < plan.txs[y].nonce; });
  return Status::ok();
}

}  // namespace imi::cli::bench
