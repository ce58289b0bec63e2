// The share app: genesis parameters, listings and loans (apps/share.h).
#include "tests/apps/share_fixture.h"

TEST_CASE("share: cells and their neighbours") {
  CHECK(is_valid_cell("r0c0"));
  CHECK(is_valid_cell("r9999c123"));
  CHECK_FALSE(is_valid_cell("r01c1"));
  CHECK_FALSE(is_valid_cell("r10000c1"));
  CHECK_FALSE(is_valid_cell("rc1"));
  CHECK_FALSE(is_valid_cell("r1c"));
  CHECK_FALSE(is_valid_cell("x1c1"));
  CHECK_FALSE(is_valid_cell("r1c1 "));
  CHECK(cell_and_neighbours("r0c0") == std::vector<std::string>{"r0c0", "r0c1", "r1c0", "r1c1"});
  CHECK(cell_and_neighbours("r5c5").size() == 9);
  CHECK(cell_and_neighbours("bad").empty());
}

TEST_CASE("share: genesis parameters are checked and written") {
  CHECK(init_with(R"({"title_bytes_max":10})").is_ok());
  CHECK(init_with(R"({"title_bytes_max":0})").code() == "share.bad_params");
  CHECK(init_with(R"({"title_bytes_max":-1})").code() == "share.bad_params");
  CHECK(init_with(R"({"title_bytes_max":"10"})").code() == "share.bad_params");
  CHECK(init_with(R"({"no_such_limit":1})").code() == "share.bad_params");
  // A non-object never gets past the genesis parser.
  CHECK_FALSE(ledger::Genesis::parse(genesis_json(1, R"(,"apps":{"share":[1]})")).is_ok());
  CHECK(init_with(R"({"urgent_expiry_ms_min":10,"urgent_expiry_ms_max":5})").code() ==
        "share.bad_params");

  ShareChain s(R"({"title_bytes_max":10})");
  auto p = s.get("params");
  CHECK(p["title_bytes_max"].GetInt64() == 10);
  CHECK(p["open_listings_per_did_max"].GetInt64() == 20);  // the default
  check_bad(
      s,
      s.tx(
          alice(), "list",
          R"({"kind":"give","category":"toys","title":"Eleven chars","committee":"c1","cell":"r1c1"})"),
      "title");
}

TEST_CASE("share: a limit on open listings gives 100 and unlisting frees a place") {
  ShareChain s(R"({"open_listings_per_did_max":2})");
  auto l1 = s.list(alice());
  s.list(alice(), "give");
  auto r = s.run(s.tx(
      alice(), "list",
      R"({"kind":"skill","category":"repair","title":"Bikes","committee":"c1","cell":"r1c1"})"));
  CHECK(r.code() == kShareCodeLimit);
  CHECK(s.code(s.tx(bob(), "unlist", R"({"listing":)" + q(l1) + "}")) == ledger::kCodeForbidden);
  s.ok(s.tx(alice(), "unlist", R"({"listing":)" + q(l1) + "}"));
  CHECK(s.status("listing/" + l1) == "closed");
  s.list(alice(), "skill");
  CHECK(s.get("count/" + alice().did())["open_listings"].GetInt64() == 2);
}

TEST_CASE("share: list and unlist, with every bad argument named") {
  ShareChain s;
  auto listing = s.ok(s.tx(
      alice(), "list",
      R"({"kind":"lend","category":"tools","title":"Drill","description":"Cordless, two batteries","committee":"north-3","cell":"r10c20","availability":"evenings","requires":["stable_employment","party_member"]})"));
  auto rec = s.get("listing/" + listing);
  CHECK(std::string(rec["owner"].GetString()) == alice().did());
  CHECK(std::string(rec["status"].GetString()) == "open");
  CHECK(rec["requires"].Size() == 2);
  CHECK(std::string(rec["requires"][0].GetString()) == "party_member");  // sorted
  CHECK_FALSE(rec.HasMember("sender"));
  CHECK(s.has("open/r10c20/" + listing));
  CHECK(s.has("owned/" + alice().did() + "/" + listing));

  auto list_with = [&](std::string_view body) {
    return s.tx(alice(), "list", std::string("{") + std::string(body) + "}");
  };
  const std::string base = R"("category":"tools","title":"T","committee":"c1","cell":"r1c1")";
  check_bad(s, list_with(R"("kind":"sell",)" + base), "kind");
  check_bad(
      s,
      list_with(R"("kind":"lend","category":"Tools!","title":"T","committee":"c1","cell":"r1c1")"),
      "category");
  check_bad(
      s, list_with(R"("kind":"lend","category":"tools","title":"","committee":"c1","cell":"r1c1")"),
      "title");
  check_bad(
      s,
      list_with(R"("kind":"lend","category":"tools","title":"T","committee":"c 1","cell":"r1c1")"),
      "committee");
  check_bad(
      s,
      list_with(R"("kind":"lend","category":"tools","title":"T","committee":"c1","cell":"r01c1")"),
      "cell");
  check_bad(
      s,
      list_with(R"("kind":"lend",)" + base + R"(,"description":")" + std::string(1001, 'x') + "\""),
      "description");
  check_bad(
      s,
      list_with(R"("kind":"lend",)" + base + R"(,"availability":")" + std::string(201, 'x') + "\""),
      "availability");
  check_bad(s, list_with(R"("kind":"lend",)" + base + R"(,"requires":["good_citizen"])"),
            "requires");
  check_bad(
      s, list_with(R"("kind":"lend",)" + base + R"(,"requires":["party_member","party_member"])"),
      "requires");
  check_bad(s, list_with(R"("kind":"lend",)" + base + R"(,"colour":"red")"), "colour");
  check_bad(s, list_with(R"("kind":"lend","title":"T","committee":"c1","cell":"r1c1")"),
            "category");
  CHECK(s.code(s.tx(alice(), "sell", "{}")) == ledger::kCodeUnknownOp);

  // unlist: 3, 5, 4, 6.
  check_bad(s, s.tx(alice(), "unlist", R"({"listing":"xyz"})"), "listing");
  CHECK(s.code(s.tx(alice(), "unlist", R"({"listing":"00000000000000000000000000000000"})")) ==
        ledger::kCodeNotFound);
  CHECK(s.code(s.tx(bob(), "unlist", R"({"listing":)" + q(listing) + "}")) ==
        ledger::kCodeForbidden);
  auto r = s.run(s.tx(alice(), "unlist", R"({"listing":)" + q(listing) + "}"));
  CHECK(r.code() == 0);
  CHECK(event(r, "unlisted") != nullptr);
  CHECK_FALSE(s.has("open/r10c20/" + listing));
  CHECK(s.has("owned/" + alice().did() + "/" + listing));  // a resident's listings stay listed
  CHECK(s.code(s.tx(alice(), "unlist", R"({"listing":)" + q(listing) + "}")) ==
        ledger::kCodeConflict);
}

TEST_CASE("share: a loan from request to return and ratings") {
  ShareChain s;
  auto listing = s.list(alice());
  // request: 3 (until missing, past, too far), 5, 105.
  check_bad(s, s.request(bob(), listing), "until");
  check_bad(s, s.request(bob(), listing, R"(,"until":5)"), "until");
  check_bad(s, s.request(bob(), listing, s.until(91 * kDay)), "until");
  check_bad(s, s.request(bob(), listing, s.until(kDay) + R"(,"sealed":"AAAA")"), "sealed");
  CHECK(s.code(s.request(bob(), "0123456789abcdef0123456789abcdef", s.until(kDay))) ==
        ledger::kCodeNotFound);
  CHECK(s.code(s.request(alice(), listing, s.until(kDay))) == kShareCodeOwnListing);

  const uint64_t due = s.c.time() + 10 + kDay;
  auto req = s.request(bob(), listing, R"(,"until":)" + std::to_string(due));
  auto loan = req.id_hex().substr(0, 32);
  auto r = s.run(req);
  REQUIRE(r.code() == 0);
  CHECK(std::string((*event(r, "requested"))["listing"].GetString()) == listing);
  auto rec = s.get("loan/" + loan);
  CHECK(std::string(rec["lender"].GetString()) == alice().did());
  CHECK(std::string(rec["borrower"].GetString()) == bob().did());
  CHECK(rec["until"].GetInt64() == static_cast<int64_t>(due));
  CHECK(s.has("loans/" + alice().did() + "/" + loan));
  CHECK(s.has("loans/" + bob().did() + "/" + loan));

  // Unlisting with a loan in progress is refused.
  CHECK(s.code(s.tx(alice(), "unlist", R"({"listing":)" + q(listing) + "}")) ==
        ledger::kCodeConflict);
  // accept: 3, 5, 4; handover before accept: 6; return before handover: 6.
  check_bad(s, s.step(alice(), "accept", loan, R"(,"requirements_checked":1)"),
            "requirements_checked");
  CHECK(s.code(s.step(alice(), "accept", "ffffffffffffffffffffffffffffffff")) ==
        ledger::kCodeNotFound);
  CHECK(s.code(s.step(bob(), "accept", loan)) == ledger::kCodeForbidden);
  CHECK(s.code(s.step(bob(), "handover", loan)) == ledger::kCodeConflict);
  CHECK(s.code(s.step(carol(), "handover", loan)) == ledger::kCodeForbidden);
  CHECK(s.code(s.step(alice(), "return", loan)) == ledger::kCodeConflict);
  CHECK(s.code(s.step(bob(), "rate", loan, R"(,"score":5)")) == ledger::kCodeConflict);
  s.ok(s.step(alice(), "accept", loan));
  CHECK(s.status("loan/" + loan) == "accepted");
  // The item is promised: another request may wait, but not be accepted.
  auto second = s.ok(s.request(carol(), listing, s.until(kDay)));
  CHECK(s.code(s.step(alice(), "accept", second)) == ledger::kCodeConflict);

  r = s.run(s.step(bob(), "handover", loan));
  CHECK(r.code() == 0);
  CHECK(std::string((*event(r, "handover_confirmed"))["by"].GetString()) == bob().did());
  CHECK(event(r, "handed_over") == nullptr);
  CHECK(s.code(s.step(bob(), "handover", loan)) == ledger::kCodeConflict);  // once per side
  r = s.run(s.step(alice(), "handover", loan));
  CHECK((*event(r, "handed_over"))["until"].GetInt64() == static_cast<int64_t>(due));
  CHECK(s.status("loan/" + loan) == "handed_over");
  CHECK(s.deadline_pending("loan/" + loan));
  CHECK(s.code(s.step(bob(), "cancel", loan)) == ledger::kCodeConflict);

  // return: only the owner.
  CHECK(s.code(s.step(bob(), "return", loan)) == ledger::kCodeForbidden);
  r = s.run(s.step(alice(), "return", loan));
  CHECK(r.code() == 0);
  CHECK((*event(r, "returned"))["on_time"].GetBool());
  CHECK(s.status("loan/" + loan) == "returned");
  CHECK_FALSE(s.deadline_pending("loan/" + loan));
  auto rep = s.get("reputation/" + bob().did());
  CHECK(rep["loans_completed"].GetInt64() == 1);
  CHECK(rep["on_time_returns"].GetInt64() == 1);
  CHECK(rep["late_returns"].GetInt64() == 0);
  CHECK_FALSE(s.get("listing/" + listing).HasMember("on_loan"));

  // rate: 3, 4, once per side (103), adds to the other side.
  check_bad(s, s.step(bob(), "rate", loan, R"(,"score":6)"), "score");
  CHECK(s.code(s.step(carol(), "rate", loan, R"(,"score":3)")) == ledger::kCodeForbidden);
  r = s.run(s.step(bob(), "rate", loan, R"(,"score":4)"));
  CHECK((*event(r, "rated"))["score"].GetInt64() == 4);
  CHECK(s.code(s.step(bob(), "rate", loan, R"(,"score":5)")) == kShareCodeAlreadyRated);
  s.ok(s.step(alice(), "rate", loan, R"(,"score":5)"));
  auto alice_rep = s.get("reputation/" + alice().did());
  CHECK(alice_rep["ratings_count"].GetInt64() == 1);
  CHECK(alice_rep["ratings_sum"].GetInt64() == 4);
  rep = s.get("reputation/" + bob().did());
  CHECK(rep["ratings_sum"].GetInt64() == 5);

  // The waiting request can now be accepted.
  s.ok(s.step(alice(), "accept", second));
}

TEST_CASE("share: decline and cancel") {
  ShareChain s;
  auto listing = s.list(alice());
  auto loan = s.ok(s.request(bob(), listing, s.until(kDay)));
  CHECK(s.code(s.step(bob(), "decline", loan)) == ledger::kCodeForbidden);
  auto r = s.run(s.step(alice(), "decline", loan));
  CHECK(event(r, "declined") != nullptr);
  CHECK(s.status("loan/" + loan) == "declined");
  CHECK(s.code(s.step(alice(), "decline", loan)) == ledger::kCodeConflict);
  CHECK(s.code(s.step(bob(), "cancel", loan)) == ledger::kCodeConflict);

  auto loan2 = s.ok(s.request(bob(), listing, s.until(kDay)));
  s.ok(s.step(alice(), "accept", loan2));
  CHECK(s.code(s.step(carol(), "cancel", loan2)) == ledger::kCodeForbidden);
  r = s.run(s.step(bob(), "cancel", loan2));
  CHECK(event(r, "cancelled") != nullptr);
  CHECK(s.status("loan/" + loan2) == "cancelled");
  auto l = s.get("listing/" + listing);
  CHECK(l["active_loans"].GetInt64() == 0);
  CHECK_FALSE(l.HasMember("on_loan"));
  s.ok(s.tx(alice(), "unlist", R"({"listing":)" + q(listing) + "}"));
  // A closed listing takes no requests.
  CHECK(s.code(s.request(carol(), listing, s.until(kDay))) == ledger::kCodeConflict);
}

TEST_CASE("share: an unreturned loan becomes overdue at until, on an empty block") {
  ShareChain s;
  auto listing = s.list(alice());
  const uint64_t due = s.c.time() + 10 + kDay;
  auto loan = s.ok(s.request(bob(), listing, R"(,"until":)" + std::to_string(due)));
  s.ok(s.step(alice(), "accept", loan));
  s.ok(s.step(alice(), "handover", loan));
  s.ok(s.step(bob(), "handover", loan));
  // A block just before the due time fires nothing.
  auto before = s.c.block_at(due - 1, {});
  CHECK(fired(before).empty());
  auto at = s.c.block_at(due, {});
  auto f = fired(at);
  REQUIRE(f.size() == 1);
  CHECK(f[0].code() == 0);
  CHECK(f[0].deadline()->key == "loan/" + loan);
  auto ev = event(f[0], "loan_overdue");
  REQUIRE(ev != nullptr);
  CHECK(std::string((*ev)["borrower"].GetString()) == bob().did());
  CHECK(std::string((*ev)["listing"].GetString()) == listing);
  CHECK((*ev)["until"].GetInt64() == static_cast<int64_t>(due));
  CHECK(s.status("loan/" + loan) == "overdue");

  auto r = s.run(s.step(alice(), "return", loan));
  CHECK_FALSE((*event(r, "returned"))["on_time"].GetBool());
  auto rep = s.get("reputation/" + bob().did());
  CHECK(rep["late_returns"].GetInt64() == 1);
  CHECK(rep["loans_completed"].GetInt64() == 1);
}

TEST_CASE("share: a return in the block where the loan falls due") {
  // The deadline fires first (overdue), then the return runs in the same
  // block; block time == until still counts as on time.
  ShareChain s;
  auto listing = s.list(alice());
  const uint64_t due = s.c.time() + 10 + kDay;
  auto loan = s.ok(s.request(bob(), listing, R"(,"until":)" + std::to_string(due)));
  s.ok(s.step(alice(), "accept", loan));
  s.ok(s.step(alice(), "handover", loan));
  s.ok(s.step(bob(), "handover", loan));
  auto b = s.c.block_at(due, {s.step(alice(), "return", loan)});
  REQUIRE(b.results.size() == 2);
  CHECK(b.results[0].code() == 0);  // the transaction's result comes first
  CHECK((*event(b.results[0], "returned"))["on_time"].GetBool());
  REQUIRE(b.results[1].deadline());
  CHECK(event(b.results[1], "loan_overdue") != nullptr);
  CHECK(s.status("loan/" + loan) == "returned");
}

TEST_CASE("share: give and skill exchanges complete on both handovers") {
  ShareChain s;
  auto gift = s.list(alice(), "give");
  check_bad(s, s.request(bob(), gift, s.until(kDay)), "until");
  auto loan = s.ok(s.request(bob(), gift));
  s.ok(s.step(alice(), "accept", loan));
  s.ok(s.step(alice(), "handover", loan));
  auto r = s.run(s.step(bob(), "handover", loan));
  CHECK(event(r, "completed") != nullptr);
  CHECK(event(r, "unlisted") != nullptr);  // a gift is gone once given
  CHECK(s.status("loan/" + loan) == "completed");
  CHECK(s.status("listing/" + gift) == "closed");
  CHECK_FALSE(s.has(std::string("open/") + kCell + "/" + gift));
  CHECK(s.get("reputation/" + bob().did())["loans_completed"].GetInt64() == 1);
  CHECK_FALSE(s.deadline_pending("loan/" + loan));
  CHECK(s.code(s.step(alice(), "return", loan)) == ledger::kCodeConflict);
  s.ok(s.step(alice(), "rate", loan, R"(,"score":3)"));
  CHECK(s.get("reputation/" + bob().did())["ratings_sum"].GetInt64() == 3);

  auto skill = s.list(carol(), "skill");
  auto lesson = s.ok(s.request(bob(), skill));
  s.ok(s.step(carol(), "accept", lesson));
  s.ok(s.step(bob(), "handover", lesson));
  s.ok(s.step(carol(), "handover", lesson));
  CHECK(s.status("loan/" + lesson) == "completed");
  CHECK(s.status("listing/" + skill) == "open");  // a skill can be offered again
  CHECK(s.get("reputation/" + bob().did())["loans_completed"].GetInt64() == 2);
}

TEST_CASE("share: a listing with requirements needs a sealed presentation and a checked accept") {
  ShareChain s(R"({"sealed_bytes_max":200})");
  auto listing = s.list(alice(), "lend", kCell, R"(,"requires":["no_criminal_record"])");
  std::string presentation = "eyJhbGciOiJFZERTQSJ9.e30.sig~";
  std::string salt(64, 'a');
  rapidjson::Document opening(rapidjson::kObjectType);
  opening.AddMember("presentation", rapidjson::StringRef(presentation.c_str()),
                    opening.GetAllocator());
  opening.AddMember("salt", rapidjson::StringRef(salt.c_str()), opening.GetAllocator());
  std::string commitment = to_hex(sha256(ledger::jcs(opening)));
  auto box = identity::seal(alice().public_key(), as_bytes(ledger::jcs(opening)));
  REQUIRE(box.is_ok());
  std::string sealed = identity::base64url_encode(ByteView(box->data(), box->size()));
  auto big = identity::seal(alice().public_key(), as_bytes(std::string(200, 'x')));
  std::string sealed_big = identity::base64url_encode(ByteView(big->data(), big->size()));

  const std::string u = s.until(kDay);
  check_bad(s, s.request(bob(), listing, u), "sealed");
  check_bad(s, s.request(bob(), listing, u + R"(,"sealed":)" + q(sealed)), "commitment");
  check_bad(
      s, s.request(bob(), listing, u + R"(,"sealed":"not base64!","commitment":)" + q(commitment)),
      "sealed");
  check_bad(s,
            s.request(bob(), listing,
                      u + R"(,"sealed":)" + q(sealed_big) + R"(,"commitment":)" + q(commitment)),
            "sealed");
  check_bad(s,
            s.request(bob(), listing, u + R"(,"sealed":)" + q(sealed) + R"(,"commitment":"ABC")"),
            "commitment");
  auto loan = s.ok(
      s.request(bob(), listing,
                s.until(kDay) + R"(,"sealed":)" + q(sealed) + R"(,"commitment":)" + q(commitment)));
  auto rec = s.get("loan/" + loan);
  CHECK(std::string(rec["commitment"].GetString()) == commitment);
  CHECK(std::string(rec["sealed"].GetString()) == sealed);
  // What the lender's client does: open the box and check the commitment.
  auto opened = identity::open_sealed(alice(), *identity::base64url_decode(sealed));
  REQUIRE(opened.is_ok());
  CHECK(to_hex(sha256(ByteView(opened->data(), opened->size()))) == commitment);

  CHECK(s.code(s.step(alice(), "accept", loan)) == kShareCodeUnchecked);
  CHECK(s.code(s.step(alice(), "accept", loan, R"(,"requirements_checked":false)")) ==
        kShareCodeUnchecked);
  s.ok(s.step(alice(), "accept", loan, R"(,"requirements_checked":true)"));
  CHECK(s.get("loan/" + loan)["requirements_checked"].GetBool());
}
