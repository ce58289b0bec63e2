#include <doctest/doctest.h>

#include "tests/apps/chain_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::testing;

namespace {

std::string grant(const std::string& role, const std::string& did) {
  return R"({"action":{"type":"grant_role","role":")" + role + R"(","did":")" + did + R"("}})";
}
std::string approve(const ledger::Transaction& proposal) {
  return R"({"proposal":")" + proposal.id_hex() + R"("})";
}
bool holds(Chain& c, const std::string& did, const std::string& role) {
  return has_role(*c.state(), did, role).value();
}

}  // namespace

TEST_CASE("a proposal takes effect exactly when q = floor(2n/3)+1 validators approved") {
  for (size_t n = 1; n <= 7; ++n) {
    CAPTURE(n);
    Chain c(n);
    const size_t q = 2 * n / 3 + 1;
    auto resident = key(50).did();
    auto p = c.tx(key(1), "governance", "propose", grant("registrar", resident));
    auto ex = c.block({p});
    REQUIRE(ex.results[0].code() == 0);
    for (size_t approvals = 2; approvals <= n; ++approvals) {
      CHECK(holds(c, resident, "registrar") == (approvals - 1 >= q));
      auto e = c.block(
          {c.tx(key(static_cast<uint8_t>(approvals)), "governance", "approve", approve(p))});
      CHECK(e.results[0].code() == (approvals - 1 >= q ? kGovCodeClosed : 0));
    }
    CHECK(holds(c, resident, "registrar"));
    CHECK(*proposal_status(*c.state(), p.id_hex()).value() == "done");
    CHECK(validator_set_at(*c.state(), c.height()).value().q() == q);
  }
}

TEST_CASE("approvals: only validators with their own key, once each, on open proposals") {
  Chain c(4);
  auto p = c.tx(key(1), "governance", "propose", grant("auditor", key(60).did()));
  auto outsider = key(40);
  auto ex = c.block(
      {p, c.tx(key(1), "governance", "approve", approve(p)),
       c.tx(outsider, "governance", "approve", approve(p)),
       c.tx(outsider, "governance", "propose", grant("auditor", key(61).did())),
       c.tx(key(2), "governance", "approve", R"({"proposal":")" + std::string(64, '0') + R"("})"),
       c.tx(key(2), "governance", "approve", R"({"proposal":"zz"})"),
       c.tx(key(2), "governance", "vote", R"({})")});
  CHECK(ex.results[0].code() == 0);
  CHECK(ex.results[1].code() == kGovCodeAlreadyApproved);
  CHECK(ex.results[2].code() == ledger::kCodeForbidden);
  CHECK(ex.results[3].code() == ledger::kCodeForbidden);
  CHECK(ex.results[4].code() == ledger::kCodeNotFound);
  CHECK(ex.results[5].code() == ledger::kCodeBadArgs);
  CHECK(ex.results[6].code() == ledger::kCodeUnknownOp);
  CHECK(*proposal_status(*c.state(), p.id_hex()).value() == "open");
}

TEST_CASE("roles are granted and revoked by quorum; a stale grant fails, a held one is refused") {
  Chain c(1, R"(,"roles":[{"role":"registrar","did":")" + key(70).did() + R"("}])");
  CHECK(holds(c, key(70).did(), "registrar"));
  auto ex = c.block({c.tx(key(1), "governance", "propose", grant("registrar", key(70).did())),
                     c.tx(key(1), "governance", "propose",
                          R"({"action":{"type":"revoke_role","role":"registrar","did":")" +
                              key(70).did() + R"("}})")});
  CHECK(ex.results[0].code() == kGovCodeNotApplicable);
  CHECK(ex.results[1].code() == 0);
  CHECK_FALSE(holds(c, key(70).did(), "registrar"));
  auto revoke_again = c.block({c.tx(
      key(1), "governance", "propose",
      R"({"action":{"type":"revoke_role","role":"registrar","did":")" + key(70).did() + R"("}})")});
  CHECK(revoke_again.results[0].code() == kGovCodeNotApplicable);

  // With 4 validators a proposal waits; if the role is granted meanwhile by
  // another proposal, the first one fails when it reaches its quorum.
  Chain d(4);
  auto p1 = d.tx(key(1), "governance", "propose", grant("team", key(71).did()));
  auto p2 = d.tx(key(2), "governance", "propose", grant("team", key(71).did()));
  d.block({p1, p2});
  d.block({d.tx(key(2), "governance", "approve", approve(p1)),
           d.tx(key(3), "governance", "approve", approve(p1))});
  CHECK(holds(d, key(71).did(), "team"));
  auto fin = d.block({d.tx(key(1), "governance", "approve", approve(p2)),
                      d.tx(key(3), "governance", "approve", approve(p2))});
  CHECK(fin.results[1].code() == 0);
  CHECK(*proposal_status(*d.state(), p2.id_hex()).value() == "failed");
}

TEST_CASE("a validator change takes effect two heights after the block that enacts it") {
  Chain c(1);
  auto newcomer = key(9);
  auto ex = c.block({c.tx(key(1), "governance", "propose",
                          R"({"action":{"type":"add_validator","id":")" + newcomer.did() +
                              R"(","key":")" + to_hex(newcomer.public_key()) + R"("}})")});
  REQUIRE(ex.results[0].code() == 0);
  const uint64_t h = c.height();  // enacted here
  auto st = c.state();
  CHECK(validator_set_at(*st, h).value().n() == 1);
  CHECK(validator_set_at(*st, h + 1).value().n() == 1);
  CHECK(validator_set_at(*st, h + 2).value().n() == 2);
  // The newcomer may not act before its set is in force.
  auto early = c.block({c.tx(newcomer, "governance", "propose", grant("auditor", key(80).did()))});
  CHECK(early.results[0].code() == ledger::kCodeForbidden);
  // Now at h+2 the set is {1, 9}: q = 2.
  auto p = c.tx(newcomer, "governance", "propose", grant("auditor", key(81).did()));
  auto on_time = c.block({p});
  CHECK(on_time.results[0].code() == 0);
  CHECK_FALSE(holds(c, key(81).did(), "auditor"));
  c.block({c.tx(key(1), "governance", "approve", approve(p))});
  CHECK(holds(c, key(81).did(), "auditor"));

  // Re-key and removal go through the same schedule.
  auto fresh = key(99);
  auto rk = c.tx(key(1), "governance", "propose",
                 R"({"action":{"type":"rekey_validator","id":")" + newcomer.did() + R"(","key":")" +
                     to_hex(fresh.public_key()) + R"("}})");
  c.block({rk});
  c.block({c.tx(newcomer, "governance", "approve", approve(rk))});
  const uint64_t r = c.height();
  CHECK(validator_set_at(*c.state(), r + 1).value().find(newcomer.did())->key ==
        newcomer.public_key());
  CHECK(validator_set_at(*c.state(), r + 2).value().find(newcomer.did())->key ==
        fresh.public_key());
  auto bad =
      c.block({c.tx(key(1), "governance", "propose",
                    R"({"action":{"type":"remove_validator","id":")" + key(42).did() + R"("}})")});
  CHECK(bad.results[0].code() == kGovCodeNotApplicable);
}

TEST_CASE("a limit change applies from the height it names") {
  Chain c(1, R"(,"limits":{"block_txs_max":500})");
  CHECK(limits_at(*c.state(), 1).value().block_txs_max == 500);
  auto past = c.block(
      {c.tx(key(1), "governance", "propose",
            R"({"action":{"type":"set_limit","name":"block_txs_max","value":200,"at":1}})")});
  CHECK(past.results[0].code() == kGovCodeNotApplicable);
  auto bad =
      c.block({c.tx(key(1), "governance", "propose",
                    R"({"action":{"type":"set_limit","name":"block_txs_max","value":0,"at":10}})"),
               c.tx(key(1), "governance", "propose",
                    R"({"action":{"type":"set_limit","name":"nope","value":5,"at":10}})")});
  CHECK(bad.results[0].code() == ledger::kCodeBadArgs);
  CHECK(bad.results[1].code() == ledger::kCodeBadArgs);
  auto ok = c.block(
      {c.tx(key(1), "governance", "propose",
            R"({"action":{"type":"set_limit","name":"block_txs_max","value":200,"at":10}})")});
  CHECK(ok.results[0].code() == 0);
  auto st = c.state();
  CHECK(limits_at(*st, 9).value().block_txs_max == 500);
  CHECK(limits_at(*st, 10).value().block_txs_max == 200);
  CHECK(limits_at(*st, 10).value().tx_bytes_max == ledger::ValidityLimits{}.tx_bytes_max);
}
