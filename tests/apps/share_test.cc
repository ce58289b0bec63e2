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

namespace {

identity::KeyPair alice() { return key(10); }
identity::KeyPair bob() { return key(11); }
identity::KeyPair carol() { return key(12); }
identity::KeyPair issuer() { return key(20); }
identity::KeyPair other_issuer() { return key(21); }
identity::KeyPair helper() { return key(30); }  // a delegate

constexpr const char* kCell = "r10c20";
constexpr uint64_t kDay = 24 * 3600 * 1000ull;

std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string genesis_extra(std::string share_params) {
  std::string roles = R"(,"roles":[{"role":"skill_issuer","did":")" + issuer().did() +
                      R"("},{"role":"skill_issuer","did":")" + other_issuer().did() + R"("}])";
  if (!share_params.empty()) roles += R"(,"apps":{"share":)" + share_params + "}";
  return roles;
}

std::vector<std::unique_ptr<ledger::App>> share_apps() {
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
  // Runs one transaction in its own block; its result.
  ledger::TxResult run(ledger::Transaction t) {
    auto b = c.block({std::move(t)});
    return b.results.front();
  }
  int64_t code(ledger::Transaction t) { return run(std::move(t)).code(); }
  // Runs and requires success; the id it creates.
  std::string ok(ledger::Transaction t) {
    std::string id = t.id_hex().substr(0, 32);
    auto r = run(std::move(t));
    INFO(r.message());
    REQUIRE(r.code() == 0);
    return id;
  }
  rapidjson::Document get(std::string_view key) {
    auto d = c.state()->get_json("share", key);
    REQUIRE(d.is_ok());
    if (!d->has_value()) return rapidjson::Document(rapidjson::kNullType);
    return std::move(**d);
  }
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
const rapidjson::Value* event(const ledger::TxResult& r, std::string_view type) {
  for (const auto& e : r.events().GetArray())
    if (e.HasMember("type") && std::string_view(e["type"].GetString()) == type) return &e;
  return nullptr;
}

// The fired deadline results of a block.
std::vector<ledger::TxResult> fired(const ledger::ExecutedBlock& b) {
  std::vector<ledger::TxResult> out;
  for (const auto& r : b.results)
    if (r.deadline()) out.push_back(r);
  return out;
}

void check_bad(ShareChain& s, ledger::Transaction t, std::string_view field) {
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

Status init_with(std::string params) {
  auto g = ledger::Genesis::parse(genesis_json(1, R"(,"apps":{"share":)" + params + "}"));
  REQUIRE(g.is_ok());
  EmptyState empty;
  ledger::AppState st(empty, "share");
  return ShareApp().init_genesis(*g, st);
}

}  // namespace

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
