#include <doctest/doctest.h>

#include "base/sha256.h"
#include "tests/apps/chain_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::testing;

TEST_CASE("anchor records who anchored a hash, at which height and time") {
  Chain c(1);
  auto alice = key(20);
  Hash32 doc = sha256(std::string_view("application materials"));
  auto ex = c.block(
      {c.tx(alice, "anchor", "anchor", R"({"hash":")" + to_hex(doc) + R"(","note":"case 17"})")});
  REQUIRE(ex.results[0].code() == 0);
  CHECK(ex.results[0].canonical() ==
        R"({"code":0,"events":[{"hash":")" + to_hex(doc) + R"(","type":"anchored"}]})");
  auto rec = anchor_lookup(*c.state(), doc);
  REQUIRE(rec.is_ok());
  REQUIRE(rec->has_value());
  CHECK((*rec)->by == alice.did());
  CHECK((*rec)->height == 1);
  CHECK((*rec)->time_ms == 1010);
  CHECK((*rec)->tx == ex.txs[0].id());
  CHECK((*rec)->note == std::optional<std::string>("case 17"));

  auto none = anchor_lookup(*c.state(), sha256(std::string_view("other")));
  REQUIRE(none.is_ok());
  CHECK_FALSE(none->has_value());

  // The state proof verifies against the block's state root.
  auto proven = c.exec().prove(c.root(), kAnchorApp, to_hex(doc));
  REQUIRE(proven.is_ok());
  CHECK(proven->value.has_value());
}

TEST_CASE("a duplicate anchor, by anyone, is an error code and the first one stands") {
  Chain c(1);
  auto alice = key(20), bob = key(21);
  Hash32 doc = sha256(std::string_view("photo of a broken manhole cover"));
  std::string args = R"({"hash":")" + to_hex(doc) + R"("})";
  auto ex = c.block({c.tx(alice, "anchor", "anchor", args), c.tx(bob, "anchor", "anchor", args)});
  CHECK(ex.results[0].code() == 0);
  CHECK(ex.results[1].code() == kAnchorCodeDuplicate);
  auto ex2 = c.block({c.tx(alice, "anchor", "anchor", args)});
  CHECK(ex2.results[0].code() == kAnchorCodeDuplicate);
  CHECK((*anchor_lookup(*c.state(), doc))->by == alice.did());
  CHECK((*anchor_lookup(*c.state(), doc))->height == 1);
}

TEST_CASE("anchor rejects malformed args with kCodeBadArgs") {
  Chain c(1);
  auto alice = key(20);
  std::string h = to_hex(sha256(std::string_view("x")));
  auto ex = c.block({
      c.tx(alice, "anchor", "anchor", R"({})"),
      c.tx(alice, "anchor", "anchor", R"({"hash":"ABCD"})"),
      c.tx(alice, "anchor", "anchor", R"({"hash":")" + h + R"(","extra":1})"),
      c.tx(alice, "anchor", "anchor",
           R"({"hash":")" + h + R"(","note":")" + std::string(300, 'n') + R"("})"),
      c.tx(alice, "anchor", "anchor", R"({"hash":")" + h + R"(","note":5})"),
      c.tx(alice, "anchor", "unanchor", R"({"hash":")" + h + R"("})"),
  });
  for (int i = 0; i < 5; ++i) CHECK(ex.results[i].code() == ledger::kCodeBadArgs);
  CHECK(ex.results[5].code() == ledger::kCodeUnknownOp);
  CHECK_FALSE(anchor_lookup(*c.state(), sha256(std::string_view("x")))->has_value());
}
