// The share app's test chain and helpers, shared by share_test.cc (listings
// and loans) and share_urgent_test.cc (urgent help, delegation, queries).
#pragma once

#include "apps/share.h"

#include <doctest/doctest.h>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sealed.h"
#include "ledger/delegation.h"
#include "ledger/genesis.h"
#include "tests/apps/chain_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::testing;

namespace imi::apps::share_testing {

inline identity::KeyPair alice() { return key(10); }
inline identity::KeyPair bob() { return key(11); }
inline identity::KeyPair carol() { return key(12); }
inline identity::KeyPair issuer() { return key(20); }
inline identity::KeyPair other_issuer() { return key(21); }
inline identity::KeyPair helper() { return key(30); }  // a delegate

constexpr const char* kCell = "r10c20";
constexpr uint64_t kDay = 24 * 3600 * 1000ull;

inline std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }

inline std::string genesis_extra(std::string share_params) {
  std::string roles = R"(,"roles":[{"role":"skill_issuer","did":")" + issuer().did() +
                      R"("},{"role":"skill_issuer","did":")" + other_issuer().did() + R"("}])";
  if (!share_params.empty()) roles += R"(,"apps":{"share":)" + share_params + "}";
  return roles;
}

inline std::vector<std::unique_ptr<ledger::App>> share_apps() {
  std::vector<std::unique_ptr<ledger::App>> apps;
  apps.push_back(std::make_unique<ShareApp>());
  apps.push_back(std::make_unique<ledger::DelegationApp>());
  return apps;
}

// A chain with the share and delegation apps, its index, and helpers.
struct ShareChain {
  Chain c;
  explicit ShareChain(std::string params = "") : c(1, genesis_extra(params), share_apps(), true) {}

  ledger::Transaction tx(const identity::KeyPair& k, std::string_view op, std::string_view args) {
    return c.tx(k, "share", op, args);
  }
  ledger::TxResult run(ledger::Transaction t) { return c.run_one(std::move(t)); }
  int64_t code(ledger::Transaction t) { return run(std::move(t)).code(); }
  std::string ok(ledger::Transaction t) { return c.ok_id(std::move(t)); }
  rapidjson::Document get(std::string_view key) { return c.get_doc("share", key); }
  std::string status(std::string_view key) {
    auto d = get(key);
    return d.IsObject() ? d["status"].GetString() : "";
  }
  bool has(std::string_view key) { return get(key).IsObject(); }
  ledger::QueryPage query(std::string_view name, ledger::QueryParams p, std::string cursor = "",
                          size_t limit = 100) {
    auto r = c.exec().app("share")->query(name, p, cursor, limit, c.index());
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    return std::move(r).value();
  }
  bool deadline_pending(std::string_view key) {
    auto d = c.state()->get("deadline", "by/share/" + std::string(key));
    return d.is_ok() && d->has_value();
  }

  std::string list(const identity::KeyPair& k, std::string_view kind = "lend",
                   std::string_view cell = kCell, std::string extra = "") {
    return ok(tx(k, "list",
                 R"({"kind":)" + q(kind) +
                     R"(,"category":"tools","title":"Drill","committee":"c1",)"
                     R"("cell":)" +
                     q(cell) + extra + "}"));
  }
  ledger::Transaction request(const identity::KeyPair& k, std::string_view listing,
                              std::string extra = "") {
    return tx(k, "request", R"({"listing":)" + q(listing) + extra + "}");
  }
  ledger::Transaction step(const identity::KeyPair& k, std::string_view op, std::string_view loan,
                           std::string extra = "") {
    return tx(k, op, R"({"loan":)" + q(loan) + extra + "}");
  }
  std::string until(uint64_t ahead) { return R"(,"until":)" + std::to_string(c.time() + ahead); }
  void certify(const identity::KeyPair& who, std::string_view skill = "first_aid",
               uint64_t expires = 10 * kDay) {
    ok(tx(issuer(), "certify",
          R"({"did":)" + q(who.did()) + R"(,"skill":)" + q(skill) + R"(,"expires":)" +
              std::to_string(expires) + "}"));
  }
  std::string urgent(const identity::KeyPair& k, std::string_view cell = kCell,
                     uint64_t expires_in = 60000) {
    return ok(tx(k, "urgent",
                 R"({"skill":"first_aid","cell":)" + q(cell) +
                     R"(,"committee":"c1","expires_in_ms":)" + std::to_string(expires_in) + "}"));
  }
  ledger::Transaction urgent_step(const identity::KeyPair& k, std::string_view op,
                                  std::string_view id) {
    return tx(k, op, R"({"urgent":)" + q(id) + "}");
  }
};

// The first event of `type` in `r`, or null.
inline const rapidjson::Value* event(const ledger::TxResult& r, std::string_view type) {
  for (const auto& e : r.events().GetArray())
    if (e.HasMember("type") && std::string_view(e["type"].GetString()) == type) return &e;
  return nullptr;
}

// The fired deadline results of a block.
inline std::vector<ledger::TxResult> fired(const ledger::ExecutedBlock& b) {
  std::vector<ledger::TxResult> out;
  for (const auto& r : b.results)
    if (r.deadline()) out.push_back(r);
  return out;
}

inline void check_bad(ShareChain& s, ledger::Transaction t, std::string_view field) {
  auto r = s.run(std::move(t));
  INFO(r.message());
  CHECK(r.code() == ledger::kCodeBadArgs);
  CHECK(r.message().find(field) != std::string::npos);
}

class EmptyState : public ledger::StateReader {
 public:
  Result<std::optional<std::string>> get(std::string_view, std::string_view) const override {
    return std::optional<std::string>();
  }
};

inline Status init_with(std::string params) {
  auto g = ledger::Genesis::parse(genesis_json(1, R"(,"apps":{"share":)" + params + "}"));
  REQUIRE(g.is_ok());
  EmptyState empty;
  ledger::AppState st(empty, "share");
  return ShareApp().init_genesis(*g, st);
}

}  // namespace imi::apps::share_testing

using namespace imi::apps::share_testing;
