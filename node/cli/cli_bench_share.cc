// imi bench --mix share: the community sharing app's loan cycle as load
// (see build_share_plan in cli_bench.h). Every record id is the first 32 hex
// of the id of the transaction creating it, so a household's transactions
// are signed in order before the run, each naming the records of the ones
// before.
#include <rapidjson/document.h>

#include <algorithm>
#include <thread>

#include "identity/keys.h"
#include "ledger/transaction.h"
#include "node/cli/cli_bench.h"

namespace imi::cli::bench {

namespace {

// Households stepped together on one connection: large enough that a step
// fills blocks while the previous one commits, small enough that the
// measured window sees every kind of transaction.
constexpr size_t kShareGroup = 64;
constexpr size_t kStepsPerHousehold = 8;
constexpr uint64_t kLoanDaysMs = 7ull * 24 * 3600 * 1000;
constexpr const char* kCategories[] = {"bicycle", "drill", "ladder", "tent", "stroller"};

enum Side : uint8_t { kLender, kBorrower };
struct Step {
  Side side;
  const char* op;
  int after;  // the step (of the same household) it waits for; -1 none
};
// The loan cycle. A side's own earlier steps need no `after`: its nonces
// order them. The borrower's steps wait for the lender's state changes.
constexpr Step kSteps[kStepsPerHousehold] = {{kLender, "list", -1},      {kBorrower, "request", 0},
                                             {kLender, "accept", 1},     {kLender, "handover", -1},
                                             {kBorrower, "handover", 2}, {kLender, "return", 4},
                                             {kLender, "rate", -1},      {kBorrower, "rate", 5}};

using Doc = rapidjson::Document;

void put(Doc& d, const char* name, const std::string& v) {
  d.AddMember(rapidjson::Value(name, d.GetAllocator()),
              rapidjson::Value(v.c_str(), d.GetAllocator()), d.GetAllocator());
}

// Signs household `h`'s transactions into plan.txs[base..base+7].
Status sign_household(size_t h, uint32_t base, const std::string& chain, uint64_t now_ms,
                      LoadPlan& plan, std::string& loan_id) {
  const identity::KeyPair keys[2] = {identity::KeyPair::generate(), identity::KeyPair::generate()};
  plan.accounts[2 * h] = keys[kLender].did();
  plan.accounts[2 * h + 1] = keys[kBorrower].did();
  uint64_t nonce[2] = {0, 0};
  std::string listing;
  for (size_t s = 0; s < kStepsPerHousehold; ++s) {
    const Step& step = kSteps[s];
    Doc args(rapidjson::kObjectType);
    auto& al = args.GetAllocator();
    if (s == 0) {
      put(args, "kind", "lend");
      put(args, "category", kCategories[h % std::size(kCategories)]);
      put(args, "title", "Bench item " + std::to_string(h));
      put(args, "committee", "bench-" + std::to_string(h % 16));
      put(args, "cell", "r" + std::to_string(h % 100) + "c" + std::to_string(h / 100 % 100));
    } else if (s == 1) {
      put(args, "listing", listing);
      args.AddMember("until", rapidjson::Value(now_ms + kLoanDaysMs), al);
    } else {
      put(args, "loan", loan_id);
      if (std::string_view(step.op) == "rate")
        args.AddMember("score", rapidjson::Value(step.side == kLender ? 5 : 4), al);
    }
    const uint32_t i = base + static_cast<uint32_t>(s);
    auto tx =
        ledger::make_transaction(keys[step.side], chain, nonce[step.side], "share", step.op, args);
    if (!tx) return tx.status();
    if (s == 0) listing = tx->id_hex().substr(0, 32);
    if (s == 1) loan_id = tx->id_hex().substr(0, 32);
    Tx& t = plan.txs[i];
    t.body = tx->canonical();
    t.account = static_cast<uint32_t>(2 * h + step.side);
    t.nonce = nonce[step.side]++;
    t.after = step.after < 0 ? Tx::kNoDependency : base + static_cast<uint32_t>(step.after);
  }
  return Status::ok();
}

}  // namespace

Status build_share_plan(size_t total, size_t conns, const std::string& chain, uint64_t now_ms,
                        LoadPlan& plan, std::vector<std::string>& loans) {
  const size_t households = std::max<size_t>(1, total / kStepsPerHousehold);
  plan.accounts.assign(2 * households, {});
  plan.by_account.assign(2 * households, {});
  plan.by_conn.assign(conns, {});
  plan.txs.assign(households * kStepsPerHousehold, {});
  loans.assign(households, {});
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<Status> errors(threads, Status::ok());
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t h = t; h < households && errors[t].is_ok(); h += threads)
        errors[t] = sign_household(h, static_cast<uint32_t>(h * kStepsPerHousehold), chain, now_ms,
                                   plan, loans[h]);
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (!e) return e;
  for (uint32_t i = 0; i < plan.txs.size(); ++i) {
    // Nonces of an account are assigned in step order, so this is nonce order.
    plan.by_account[plan.txs[i].account].push_back(i);
  }
  // Household h goes over connection h % conns; a connection takes its
  // households kShareGroup at a time, step by step across the group.
  for (size_t c = 0; c < conns; ++c) {
    std::vector<size_t> mine;
    for (size_t h = c; h < households; h += conns) mine.push_back(h);
    for (size_t g = 0; g < mine.size(); g += kShareGroup) {
      const size_t end = std::min(mine.size(), g + kShareGroup);
      for (size_t s = 0; s < kStepsPerHousehold; ++s)
        for (size_t k = g; k < end; ++k)
          plan.by_conn[c].push_back(static_cast<uint32_t>(mine[k] * kStepsPerHousehold + s));
    }
  }
  return Status::ok();
}

}  // namespace imi::cli::bench
