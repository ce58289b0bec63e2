// The share app: certification, responders, urgent help, delegation, queries
// and what reaches a block (apps/share.h).
#include "tests/apps/share_fixture.h"

TEST_CASE("share: certification and responders") {
  ShareChain s(R"({"responders_per_cell_max":1})");
  const std::string cert = R"({"did":)" + q(bob().did()) + R"(,"skill":"first_aid","expires":)" +
                           std::to_string(10 * kDay) + "}";
  CHECK(s.code(s.tx(alice(), "certify", cert)) == ledger::kCodeForbidden);
  check_bad(s, s.tx(issuer(), "certify", R"({"did":"bob","skill":"first_aid","expires":99999999})"),
            "did");
  check_bad(s,
            s.tx(issuer(), "certify",
                 R"({"did":)" + q(bob().did()) + R"(,"skill":"First Aid","expires":99999999})"),
            "skill");
  check_bad(s,
            s.tx(issuer(), "certify",
                 R"({"did":)" + q(bob().did()) + R"(,"skill":"first_aid","expires":5})"),
            "expires");
  const std::string reg = R"({"skill":"first_aid","cell":"r10c20"})";
  CHECK(s.code(s.tx(bob(), "register_responder", reg)) == kShareCodeNotCertified);
  auto r = s.run(s.tx(issuer(), "certify", cert));
  CHECK(event(r, "certified") != nullptr);
  CHECK(std::string(s.get("skill/" + bob().did() + "/first_aid")["issuer"].GetString()) ==
        issuer().did());
  r = s.run(s.tx(bob(), "register_responder", reg));
  CHECK(r.code() == 0);
  CHECK(event(r, "responder_registered") != nullptr);
  CHECK(s.code(s.tx(bob(), "register_responder", reg)) == ledger::kCodeConflict);
  check_bad(s, s.tx(bob(), "register_responder", R"({"skill":"first_aid","cell":"r1"})"), "cell");
  s.certify(carol());
  CHECK(s.code(s.tx(carol(), "register_responder", reg)) == kShareCodeLimit);
  s.ok(s.tx(carol(), "register_responder", R"({"skill":"first_aid","cell":"r10c21"})"));

  auto page = s.query("responders", {{"skill", "first_aid"}, {"cell", "r10c20"}});
  CHECK(page.keys == std::vector<std::string>{"responder/first_aid/r10c20/" + bob().did()});

  CHECK(s.code(s.tx(alice(), "unregister_responder", reg)) == ledger::kCodeNotFound);
  r = s.run(s.tx(bob(), "unregister_responder", reg));
  CHECK(event(r, "responder_unregistered") != nullptr);
  CHECK(s.query("responders", {{"skill", "first_aid"}, {"cell", "r10c20"}}).keys.empty());
  s.ok(s.tx(carol(), "unregister_responder", R"({"skill":"first_aid","cell":"r10c21"})"));
  s.ok(s.tx(carol(), "register_responder", reg));  // the place is free again

  // uncertify: 5 for none, 4 for another issuer.
  const std::string uncert = R"({"did":)" + q(bob().did()) + R"(,"skill":"first_aid"})";
  CHECK(s.code(s.tx(issuer(), "uncertify",
                    R"({"did":)" + q(alice().did()) + R"(,"skill":"first_aid"})")) ==
        ledger::kCodeNotFound);
  CHECK(s.code(s.tx(other_issuer(), "uncertify", uncert)) == ledger::kCodeForbidden);
  r = s.run(s.tx(issuer(), "uncertify", uncert));
  CHECK(event(r, "uncertified") != nullptr);
  CHECK_FALSE(s.has("skill/" + bob().did() + "/first_aid"));
}

TEST_CASE("share: urgent help, the first responder wins") {
  ShareChain s;
  s.certify(bob());
  s.certify(carol());
  s.ok(s.tx(bob(), "register_responder",
            R"({"skill":"first_aid","cell":"r10c21"})"));  // a neighbour
  s.ok(s.tx(carol(), "register_responder", R"({"skill":"first_aid","cell":"r10c20"})"));
  s.certify(helper());
  s.ok(
      s.tx(helper(), "register_responder", R"({"skill":"first_aid","cell":"r12c20"})"));  // too far

  check_bad(s,
            s.tx(alice(), "urgent",
                 R"({"skill":"first_aid","cell":"r10c20","committee":"c1","expires_in_ms":59999})"),
            "expires_in_ms");
  check_bad(
      s,
      s.tx(alice(), "urgent",
           R"({"skill":"first_aid","cell":"r10c20","committee":"c1","expires_in_ms":1800001})"),
      "expires_in_ms");
  auto t = s.tx(alice(), "urgent",
                R"({"skill":"first_aid","cell":"r10c20","committee":"c1","expires_in_ms":600000})");
  auto id = t.id_hex().substr(0, 32);
  auto r = s.run(t);
  REQUIRE(r.code() == 0);
  auto help = event(r, "urgent_help");
  REQUIRE(help != nullptr);
  CHECK((*help)["cells"].Size() == 9);
  CHECK((*help)["expires"].GetInt64() == static_cast<int64_t>(s.c.time() + 600000));
  CHECK(s.status("urgent/" + id) == "open");
  CHECK(s.deadline_pending("urgent/" + id));
  CHECK(s.query("urgent", {{"cell", "r10c20"}}).keys == std::vector<std::string>{"urgent/" + id});

  CHECK(s.code(s.urgent_step(helper(), "respond", id)) == kShareCodeNotCertified);
  CHECK(s.code(s.urgent_step(alice(), "respond", id)) == kShareCodeNotCertified);
  CHECK(s.code(s.urgent_step(bob(), "respond", "00000000000000000000000000000001")) ==
        ledger::kCodeNotFound);
  CHECK(s.code(s.urgent_step(bob(), "arrived", id)) ==
        ledger::kCodeForbidden);  // not yet the responder
  CHECK(s.code(s.urgent_step(alice(), "arrived", id)) == ledger::kCodeConflict);
  // Two responders in one block: the first wins, the second gets 6.
  auto b = s.c.block({s.urgent_step(bob(), "respond", id), s.urgent_step(carol(), "respond", id)});
  CHECK(b.results[0].code() == 0);
  CHECK(b.results[1].code() == ledger::kCodeConflict);
  auto acc = event(b.results[0], "urgent_accepted");
  REQUIRE(acc != nullptr);
  CHECK(std::string((*acc)["responder"].GetString()) == bob().did());
  CHECK(s.status("urgent/" + id) == "accepted");
  CHECK_FALSE(s.deadline_pending("urgent/" + id));  // respond cancels the escalation
  CHECK(s.query("urgent", {{"cell", "r10c20"}}).keys.empty());
  // Past the expiry nothing escalates.
  CHECK(fired(s.c.block_at(s.c.time() + 700000, {})).empty());
  CHECK(s.status("urgent/" + id) == "accepted");

  CHECK(s.code(s.urgent_step(carol(), "arrived", id)) == ledger::kCodeForbidden);
  r = s.run(s.urgent_step(bob(), "arrived", id));
  CHECK(std::string((*event(r, "urgent_arrived"))["by"].GetString()) == bob().did());
  auto rec = s.get("urgent/" + id);
  CHECK(std::string(rec["arrived_by"].GetString()) == bob().did());
  CHECK(s.code(s.urgent_step(bob(), "close_urgent", id)) == ledger::kCodeForbidden);
  CHECK(s.code(s.urgent_step(alice(), "close_urgent", id)) == ledger::kCodeConflict);

  // A requester closes an open request: out of the open index, no escalation.
  auto id2 = s.urgent(alice());
  r = s.run(s.urgent_step(alice(), "close_urgent", id2));
  CHECK(event(r, "urgent_closed") != nullptr);
  CHECK(s.status("urgent/" + id2) == "closed");
  CHECK_FALSE(s.deadline_pending("urgent/" + id2));
  CHECK(s.query("urgent", {{"cell", "r10c20"}}).keys.empty());
}

TEST_CASE("share: an unanswered urgent request escalates at expiry on an empty block") {
  ShareChain s;
  s.certify(bob());
  s.ok(s.tx(bob(), "register_responder", R"({"skill":"first_aid","cell":"r10c20"})"));
  const uint64_t created = s.c.time() + 10;
  auto id = s.urgent(alice(), kCell, 60000);
  const uint64_t expires = created + 60000;
  CHECK(fired(s.c.block_at(expires - 1, {})).empty());
  auto b = s.c.block_at(expires, {});
  auto f = fired(b);
  REQUIRE(f.size() == 1);
  auto ev = event(f[0], "urgent_escalated");
  REQUIRE(ev != nullptr);
  CHECK(std::string((*ev)["urgent"].GetString()) == id);
  CHECK(std::string((*ev)["requester"].GetString()) == alice().did());
  CHECK(std::string((*ev)["committee"].GetString()) == "c1");
  CHECK((*ev)["created"].GetInt64() == static_cast<int64_t>(created));
  CHECK((*ev)["expires"].GetInt64() == static_cast<int64_t>(expires));
  CHECK(s.status("urgent/" + id) == "escalated");
  CHECK(s.query("urgent", {{"cell", kCell}}).keys.empty());
  CHECK(s.code(s.urgent_step(bob(), "respond", id)) == kShareCodeExpired);
  CHECK(s.code(s.urgent_step(alice(), "close_urgent", id)) == ledger::kCodeConflict);
}

TEST_CASE("share: a respond in the block where the request expires comes too late") {
  ShareChain s;
  s.certify(bob());
  s.ok(s.tx(bob(), "register_responder", R"({"skill":"first_aid","cell":"r10c20"})"));
  const uint64_t expires = s.c.time() + 10 + 60000;
  auto id = s.urgent(alice(), kCell, 60000);
  auto b = s.c.block_at(expires, {s.urgent_step(bob(), "respond", id)});
  REQUIRE(b.results.size() == 2);
  CHECK(b.results[0].code() == kShareCodeExpired);  // the deadline ran first
  CHECK(event(b.results[1], "urgent_escalated") != nullptr);
  CHECK(s.status("urgent/" + id) == "escalated");
}

TEST_CASE("share: urgent requests per resident per hour are limited") {
  ShareChain s;
  s.urgent(alice());
  s.urgent(alice());
  s.urgent(alice());
  auto r = s.run(
      s.tx(alice(), "urgent",
           R"({"skill":"first_aid","cell":"r10c20","committee":"c1","expires_in_ms":60000})"));
  CHECK(r.code() == kShareCodeLimit);
  s.urgent(bob());  // others are not affected
  s.c.block_at(s.c.time() + 3600 * 1000, {});
  s.urgent(alice());  // an hour later
  CHECK(s.get("count/" + alice().did())["urgent"].Size() == 1);
}

TEST_CASE("share: delegates act for residents within their grant") {
  ShareChain s;
  auto grant = [&](std::string scope, uint64_t expires) {
    return s.c.tx(alice(), "delegation", "grant",
                  R"({"delegate":)" + q(helper().did()) + R"(,"scope":)" + scope +
                      R"(,"expires":)" + std::to_string(expires) + "}");
  };
  const std::string list_args =
      R"({"kind":"give","category":"books","title":"Atlas","committee":"c1","cell":"r10c20"})";
  // No grant yet.
  CHECK(s.code(s.c.tx_for(helper(), alice().did(), "share", "list", list_args)) ==
        ledger::kCodeForbidden);
  s.ok(grant(R"(["share/list","share/accept","share/handover"])", s.c.time() + kDay));
  auto t = s.c.tx_for(helper(), alice().did(), "share", "list", list_args);
  auto listing = s.ok(t);
  auto rec = s.get("listing/" + listing);
  CHECK(std::string(rec["owner"].GetString()) == alice().did());
  CHECK(std::string(rec["sender"].GetString()) == helper().did());
  CHECK(s.has("owned/" + alice().did() + "/" + listing));

  auto loan = s.ok(s.request(bob(), listing));
  auto r =
      s.run(s.c.tx_for(helper(), alice().did(), "share", "accept", R"({"loan":)" + q(loan) + "}"));
  CHECK(r.code() == 0);
  r = s.run(
      s.c.tx_for(helper(), alice().did(), "share", "handover", R"({"loan":)" + q(loan) + "}"));
  CHECK(std::string((*event(r, "handover_confirmed"))["by"].GetString()) == alice().did());
  // Out of scope.
  CHECK(s.code(s.c.tx_for(helper(), alice().did(), "share", "unlist",
                          R"({"listing":)" + q(listing) + "}")) == ledger::kCodeForbidden);
  // The delegate acting for herself is not the owner.
  CHECK(s.code(s.tx(helper(), "unlist", R"({"listing":)" + q(listing) + "}")) ==
        ledger::kCodeForbidden);
  // Revoked.
  s.ok(s.c.tx(alice(), "delegation", "revoke", R"({"delegate":)" + q(helper().did()) + "}"));
  CHECK(s.code(s.c.tx_for(helper(), alice().did(), "share", "list", list_args)) ==
        ledger::kCodeForbidden);
  // Expired.
  s.ok(grant(R"(["share"])", s.c.time() + 1000));
  s.ok(s.c.tx_for(helper(), alice().did(), "share", "list", list_args));
  s.c.block_at(s.c.time() + 2000, {});
  CHECK(s.code(s.c.tx_for(helper(), alice().did(), "share", "list", list_args)) ==
        ledger::kCodeForbidden);
}

TEST_CASE("share: queries list by cell, owner and party, page by page") {
  ShareChain s;
  std::vector<std::string> mine;
  for (int i = 0; i < 3; ++i) mine.push_back(s.list(alice()));
  auto elsewhere = s.list(bob(), "give", "r1c1");
  std::sort(mine.begin(), mine.end());

  auto p1 = s.query("listings", {{"cell", kCell}}, "", 2);
  REQUIRE(p1.keys.size() == 2);
  CHECK(p1.keys[0] == "listing/" + mine[0]);
  CHECK(p1.keys[1] == "listing/" + mine[1]);
  REQUIRE_FALSE(p1.next.empty());
  auto p2 = s.query("listings", {{"cell", kCell}}, p1.next, 2);
  CHECK(p2.keys == std::vector<std::string>{"listing/" + mine[2]});
  CHECK(p2.next.empty());
  CHECK(s.query("listings", {{"cell", "r1c1"}}).keys ==
        std::vector<std::string>{"listing/" + elsewhere});

  s.ok(s.tx(alice(), "unlist", R"({"listing":)" + q(mine[1]) + "}"));
  CHECK(s.query("listings", {{"cell", kCell}}).keys.size() == 2);
  CHECK(s.query("owned", {{"did", alice().did()}}).keys.size() == 3);

  auto loan = s.ok(s.request(bob(), mine[0], s.until(kDay)));
  CHECK(s.query("loans", {{"did", bob().did()}}).keys == std::vector<std::string>{"loan/" + loan});
  CHECK(s.query("loans", {{"did", alice().did()}}).keys ==
        std::vector<std::string>{"loan/" + loan});
  CHECK(s.query("loans", {{"did", carol().did()}}).keys.empty());

  auto u = s.urgent(carol());
  CHECK(s.query("urgent", {{"cell", kCell}}).keys == std::vector<std::string>{"urgent/" + u});

  auto app = s.c.exec().app("share");
  CHECK(app->query("listings", {}, "", 10, s.c.index()).status().code() == "query.bad_param");
  CHECK(app->query("owned", {{"did", "nobody"}}, "", 10, s.c.index()).status().code() ==
        "query.bad_param");
  CHECK(app->query("responders", {{"skill", "first_aid"}}, "", 10, s.c.index()).status().code() ==
        "query.bad_param");
  CHECK(app->query("listings", {{"cell", kCell}}, "owned/x", 10, s.c.index()).status().code() ==
        "query.bad_param");
  CHECK(app->query("everything", {}, "", 10, s.c.index()).status().code() == "query.unknown");
}

TEST_CASE("share: events are strict JSON and nothing on chain is a claim") {
  ShareChain s;
  auto listing = s.list(alice());
  auto loan = s.ok(s.request(bob(), listing, s.until(kDay)));
  auto b = s.c.block({s.step(alice(), "accept", loan)});
  for (const auto& r : b.results) {
    auto back = ledger::parse_strict(ledger::jcs(r.events()));
    CHECK(back.is_ok());
  }
}
