#include "ledger/value_cache.h"

#include <doctest/doctest.h>

#include <vector>

using namespace imi;
using namespace imi::ledger;

TEST_CASE("the value cache answers what was put, follows commits and resets") {
  ValueCache cache(1 << 20);
  Hash32 r1{}, r2{};
  r1[0] = 1;
  r2[0] = 2;
  cache.reset(r1);
  const std::string a = ValueCache::flat_key("account", "did:imi:1");
  const std::string b = ValueCache::flat_key("kv", "x");
  CHECK(a == "account/did:imi:1");
  CHECK(cache.find(a) == nullptr);
  cache.put(a, std::string("{\"n\":1}"));
  cache.put(b, std::nullopt);  // absent is an answer too
  REQUIRE(cache.find(a) != nullptr);
  CHECK(**cache.find(a) == "{\"n\":1}");
  REQUIRE(cache.find(b) != nullptr);
  CHECK_FALSE(cache.find(b)->has_value());
  // A committed block's writes, then the new root.
  std::vector<StateWrite> writes{{"account", "did:imi:1", std::string("{\"n\":2}")},
                                 {"kv", "x", std::string("7")},
                                 {"kv", "y", std::nullopt}};
  cache.advance(writes, r2);
  CHECK(cache.root() == r2);
  CHECK(**cache.find(a) == "{\"n\":2}");
  CHECK(**cache.find(b) == "7");
  REQUIRE(cache.find(ValueCache::flat_key("kv", "y")) != nullptr);
  CHECK_FALSE(cache.find(ValueCache::flat_key("kv", "y"))->has_value());
  cache.reset(r1);
  CHECK(cache.root() == r1);
  CHECK(cache.size() == 0);
  CHECK(cache.find(a) == nullptr);
}

TEST_CASE("the value cache stays within its budget and keeps what is used") {
  const size_t budget = 4096;
  ValueCache cache(budget);
  const std::string hot = ValueCache::flat_key("kv", "hot");
  cache.put(hot, std::string(10, 'h'));
  for (int i = 0; i < 1000; ++i) {
    cache.put(ValueCache::flat_key("kv", "k" + std::to_string(i)), std::string(20, 'v'));
    CHECK(cache.bytes() <= budget);
    // Used all along: never evicted (each use moves it to the young half).
    REQUIRE(cache.find(hot) != nullptr);
    CHECK(**cache.find(hot) == std::string(10, 'h'));
  }
  CHECK(cache.find(ValueCache::flat_key("kv", "k0")) == nullptr);  // long gone
  CHECK(cache.find(ValueCache::flat_key("kv", "k999")) != nullptr);
  // A value bigger than a quarter of the budget is not kept, and replaces
  // (drops) an older value of the same key.
  cache.put(hot, std::string(budget, 'x'));
  CHECK(cache.find(hot) == nullptr);
  // Size 0: off.
  ValueCache off(0);
  off.put(hot, std::string("1"));
  CHECK(off.find(hot) == nullptr);
}
